/** Contacts import for inbound customer context: POST /api/contacts/import (CSV: number,name,tags,notes,profileId). */
import type { ContactImportResult } from '../../../shared/records.js'
import { CallbenchError } from '../../../shared/errors.js'
import type { App } from '../../app.js'
import { contactsFromCsv } from '../../storage/contacts-csv.js'
import type { ContactsLookup } from '../../telephony/contacts.js'
import { readBody, sendJson } from '../http.js'

/** A contacts file of a few MB is tens of thousands of rows; more is not a contacts list. */
const MAX_CSV_BYTES = 8 * 1024 * 1024

export function registerContacts(app: App, contacts: () => ContactsLookup): void {
  app.controlListener.router.post('/api/contacts/import', async ({ req, res }) => {
    const type = String(req.headers['content-type'] ?? '')
    const body = (await readBody(req, MAX_CSV_BYTES)).toString('utf8')
    let csv = body
    if (type.startsWith('application/json')) {
      try {
        csv = String((JSON.parse(body) as { csv?: unknown }).csv ?? '')
      } catch {
        throw new CallbenchError('bad_request', 'Body is not valid JSON')
      }
    }
    if (!csv.trim()) throw new CallbenchError('bad_request', 'Empty CSV: send text/csv with a header row (number,name,tags,notes,profileId)')
    const parsed = contactsFromCsv(csv)
    if (parsed.contacts.length === 0 && parsed.skipped > 0) {
      throw new CallbenchError('bad_request', 'No usable rows: the header needs a number column and a name column')
    }
    const imported = await contacts().upsert(parsed.contacts)
    app.log.info('contacts imported', { imported, skipped: parsed.skipped })
    const result: ContactImportResult = { imported, skipped: parsed.skipped }
    sendJson(res, 200, result)
  })
}
