/** Parses a contacts CSV (RFC 4180: quotes, doubled quotes, CRLF) with a header row into contacts. */
import type { Contact } from '../../shared/records.js'

const NUMBER_COLUMNS = ['number', 'phone', 'phone_number', 'phonenumber', 'tel', 'mobile']
const NAME_COLUMNS = ['name', 'full_name', 'fullname', 'contact']
/** Contacts kept from one import; a bigger file is refused rather than half-read. */
export const MAX_CONTACT_ROWS = 100_000

/** Rows of fields. Quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const n = text.length
  const endField = () => {
    row.push(field)
    field = ''
  }
  const endRow = () => {
    endField()
    if (row.length > 1 || row[0] !== '') rows.push(row)
    row = []
  }
  for (; i < n; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else field += ch
    } else if (ch === '"' && field === '') quoted = true
    else if (ch === ',' || ch === ';' || ch === '\t') endField()
    else if (ch === '\n') endRow()
    else if (ch === '\r') {
      if (text[i + 1] === '\n') i++
      endRow()
    } else field += ch
  }
  if (field !== '' || row.length > 0) endRow()
  return rows
}

/**
 * The lookup key of a phone number: its digits, with a leading `00` read as the international `+`.
 * `+1 (555) 010-0200`, `001 555 010 0200` and `15550100200` all give `15550100200`.
 */
export function numberKey(number: string): string {
  const trimmed = number.trim()
  const digits = trimmed.replace(/\D+/g, '')
  return !trimmed.startsWith('+') && digits.startsWith('00') ? digits.slice(2) : digits
}

/** A number as shown: `+digits` when it was international, else its digits. */
export function normaliseNumber(number: string): string {
  const trimmed = number.trim()
  const key = numberKey(trimmed)
  return trimmed.startsWith('+') || trimmed.replace(/\D+/g, '').startsWith('00') ? `+${key}` : key
}

export interface ParsedContacts {
  contacts: Contact[]
  skipped: number
}

/** Contacts from CSV text; rows without a usable number or name are counted as skipped. */
export function contactsFromCsv(text: string): ParsedContacts {
  const rows = parseCsv(text)
  const header =
    rows.shift()?.map((h) =>
      h
        .trim()
        .toLowerCase()
        .replace(/[\s-]+/g, '_')
    ) ?? []
  const numberCol = header.findIndex((h) => NUMBER_COLUMNS.includes(h))
  const nameCol = header.findIndex((h) => NAME_COLUMNS.includes(h))
  const companyCol = header.indexOf('company')
  const notesCol = header.indexOf('notes')
  const contacts: Contact[] = []
  let skipped = 0
  if (numberCol < 0 || nameCol < 0) return { contacts, skipped: rows.length }
  for (const row of rows.slice(0, MAX_CONTACT_ROWS)) {
    const number = row[numberCol]?.trim() ?? ''
    const name = row[nameCol]?.trim() ?? ''
    if (numberKey(number).length < 3 || !name) {
      skipped++
      continue
    }
    const fields: Record<string, string> = {}
    header.forEach((h, col) => {
      if (col === numberCol || col === nameCol || col === companyCol || col === notesCol || !h) return
      const v = row[col]?.trim()
      if (v) fields[h] = v
    })
    const company = companyCol >= 0 ? row[companyCol]?.trim() : undefined
    const notes = notesCol >= 0 ? row[notesCol]?.trim() : undefined
    contacts.push({
      number: normaliseNumber(number),
      name,
      ...(company ? { company } : {}),
      ...(notes ? { notes } : {}),
      ...(Object.keys(fields).length ? { fields } : {})
    })
  }
  skipped += Math.max(0, rows.length - MAX_CONTACT_ROWS)
  return { contacts, skipped }
}
