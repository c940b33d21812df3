/** Call records in the control API: history, call detail, recordings (range requests), transcripts, uploads, profiles, contacts. */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import {
  CallListQuerySchema,
  CallNoteInputSchema,
  ProfileInputSchema,
  type CallDetail,
  type CallList,
  type RecordingInfo,
  type TranscriptSegment
} from '../../../shared/api.js'
import type { CallSummary } from '../../../shared/calls.js'
import { CallbenchError } from '../../../shared/errors.js'
import type { Settings } from '../../../shared/settings.js'
import type { App } from '../../app.js'
import { Records, type RecordsOptions } from '../../storage/records.js'
import type { TwilioAccess } from '../../storage/twilio-recordings.js'
import { isNotFound, twilioClient, twilioError } from '../../telephony/twilio-client.js'
import { parseWith, readJson, sendJson } from '../http.js'
import { telephonyOf } from './telephony.js'

const registered = new WeakMap<App, Records>()

/** The app's call records (recorder factory, `onTwilioRecording`, contacts lookup), once `registerRecords` ran. */
export function recordsOf(app: App): Records | undefined {
  return registered.get(app)
}

const DEFAULT_TWILIO_API = 'https://api.twilio.com'

/**
 * Opens the call log (repairing what a crash left open), persists call events, plugs the recorder and the profile
 * resolver into the live registry, and serves the records API. Call after `registerCalls`.
 */
export async function registerRecords(app: App, overrides: Partial<RecordsOptions> = {}): Promise<Records> {
  const records = await Records.open({
    dataDir: app.dataDir,
    hub: app.hub,
    log: app.log.child({ room: 'records' }),
    settings: () => app.settings.get(),
    config: app.config,
    secrets: app.secrets,
    twilio: () => twilioAccess(app),
    ...overrides
  })
  registered.set(app, records)
  try {
    // Inbound customer lookup and profile matching read the SQLite store from now on.
    const telephony = telephonyOf(app)
    telephony.contacts = records.contacts
    telephony.profiles = records.profiles
  } catch {
    // Telephony not wired (a trimmed-down app): nothing to plug in.
  }
  const calls = app.calls
  calls.recorderFactory = (callId) => records.createRecorder(callId)
  // Marks are too frequent to publish live; the call log gets them when the call ends, as one row.
  calls.on('ended', (session) => records.store.queueEventBatch(session.id, session.unpublishedTimeline))
  calls.profileResolver = async (profileId) => {
    const p = records.store.getProfile(profileId)
    return p ? { id: p.id, mode: p.mode, overrides: p.settings as Partial<Settings> } : undefined
  }
  app.onStop(async () => {
    // Calls end first so that their end state and recordings are committed before the log closes.
    await calls.closeAll('shutdown')
    await records.close()
  })
  routes(app, records)
  return records
}

async function twilioAccess(app: App): Promise<TwilioAccess | undefined> {
  const accountSid = await app.secrets.get('TWILIO_ACCOUNT_SID')
  const authToken = await app.secrets.get('TWILIO_AUTH_TOKEN')
  if (!accountSid || !authToken) return undefined
  return {
    accountSid,
    authToken,
    baseUrl: (app.config('TWILIO_API_BASE_URL') ?? DEFAULT_TWILIO_API).replace(/\/+$/, ''),
    removeRecording: async (sid) => {
      const client = await twilioClient({ secrets: app.secrets, config: app.config })
      try {
        await client.recordings(sid).remove()
      } catch (err) {
        if (isNotFound(err)) return
        throw twilioError(err, 'delete the recording')
      }
    }
  }
}

function routes(app: App, records: Records): void {
  const r = app.controlListener.router
  const { store } = records

  const liveSummary = (id: string): CallSummary | undefined => app.calls.get(id)?.summary()

  r.get('/api/calls', ({ res, url }) => {
    const filter = parseWith(CallListQuerySchema, Object.fromEntries(url.searchParams))
    const list: CallList = store.listCalls(filter)
    list.calls = list.calls.map((c) => {
      const live = liveSummary(c.id)
      return live ? { ...c, ...live } : c
    })
    sendJson(res, 200, list)
  })

  r.get('/api/calls/:id', ({ res, params }) => {
    const id = params.id!
    const rec = records.getCall(id)
    const live = app.calls.get(id)
    if (!rec && !live) throw new CallbenchError('call_not_found', 'No call with that id')
    const detail: CallDetail = {
      call: live ? { ...(rec?.call ?? {}), ...live.summary() } : rec!.call,
      turns: live ? [...live.turns] : rec!.turns,
      transcript: rec?.transcript ?? [],
      events: live ? [...live.timeline] : rec!.events,
      live: !!live,
      ...(rec?.settings ? { settings: rec.settings } : {}),
      ...(rec?.recording ? { recording: recordingInfo(id, rec.recording) } : {}),
      ...(rec?.upload ? { upload: publicUpload(rec.upload) } : {})
    }
    sendJson(res, 200, detail)
  })

  r.get('/api/calls/:id/recording', async ({ req, res, params }) => {
    const rec = store.getRecording(params.id!)
    if (!rec || rec.state === 'missing') throw new CallbenchError('not_found', 'This call has no recording')
    const path = join(app.dataDir, rec.path)
    const size = await stat(path).then(
      (s) => s.size,
      () => {
        throw new CallbenchError('not_found', 'The recording file is gone')
      }
    )
    await sendFileRange(res, path, size, req.headers.range, req.method === 'HEAD', 'audio/wav')
  })

  r.get('/api/calls/:id/transcript', ({ res, params, url }) => {
    const id = params.id!
    const format = url.searchParams.get('format') ?? 'json'
    if (format !== 'json' && format !== 'txt') {
      throw new CallbenchError('bad_request', "format must be 'json' or 'txt'", { field: 'format' })
    }
    const doc = records.transcriptDocument(id)
    if (!doc) throw new CallbenchError('call_not_found', 'No call with that id')
    if (format === 'json') {
      sendJson(res, 200, doc)
      return
    }
    const body = transcriptText(doc.segments)
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'content-disposition': `inline; filename="transcript-${id.replace(/[^A-Za-z0-9_-]/g, '_')}.txt"`,
      'cache-control': 'no-store'
    })
    res.end(body)
  })

  r.delete('/api/calls/:id', async ({ res, params, url }) => {
    const id = params.id!
    if (url.searchParams.get('confirm') !== 'true') {
      throw new CallbenchError(
        'bad_request',
        'Deleting a call removes its recording and transcript: add ?confirm=true',
        {
          field: 'confirm'
        }
      )
    }
    if (app.calls.get(id)) throw new CallbenchError('conflict', 'The call is still going on')
    if (!(await records.deleteCall(id))) throw new CallbenchError('call_not_found', 'No call with that id')
    app.log.info('call deleted', { callId: id })
    sendJson(res, 200, { id, deleted: true })
  })

  r.post('/api/calls/:id/notes', async ({ req, res, params }) => {
    const id = params.id!
    const input = parseWith(CallNoteInputSchema, await readJson(req))
    const live = app.calls.get(id)
    const rec = live ? undefined : records.getCall(id)
    if (!live && !rec) throw new CallbenchError('call_not_found', 'No call with that id')
    const atMs = Math.round(input.atMs ?? (live ? live.clock() : (rec!.call.durationMs ?? 0)))
    const entry = {
      atMs,
      kind: input.verdict ? 'verdict' : 'note',
      data: { text: input.text, ...(input.verdict ? { verdict: input.verdict } : {}) }
    }
    // A timeline entry like any other: the console shows it live and the call log keeps it with the call's events.
    app.hub.publish({ type: 'call.timeline', callId: id, entry })
    sendJson(res, 201, { callId: id, entry })
  })

  r.post('/api/calls/:id/upload', async ({ res, params }) => {
    const upload = await records.requestUpload(params.id!)
    sendJson(res, 202, { callId: params.id!, upload })
  })

  r.get('/api/profiles', ({ res }) => sendJson(res, 200, { profiles: store.listProfiles() }))
  r.get('/api/profiles/:id', ({ res, params }) => {
    const p = store.getProfile(params.id!)
    if (!p) throw new CallbenchError('not_found', 'No such profile')
    sendJson(res, 200, p)
  })
  r.post('/api/profiles', async ({ req, res }) => {
    const input = parseWith(ProfileInputSchema, await readJson(req))
    sendJson(res, 201, store.createProfile(input))
  })
  r.put('/api/profiles/:id', async ({ req, res, params }) => {
    const input = parseWith(ProfileInputSchema, await readJson(req))
    sendJson(res, 200, store.updateProfile(params.id!, input))
  })
  r.delete('/api/profiles/:id', ({ res, params }) => {
    if (!store.deleteProfile(params.id!)) throw new CallbenchError('not_found', 'No such profile')
    sendJson(res, 200, { id: params.id!, deleted: true })
  })

  r.get('/api/contacts', ({ res, url }) => {
    const number = url.searchParams.get('number')
    if (number) {
      const c = records.lookupContact(number)
      if (!c) throw new CallbenchError('not_found', 'No contact with that number')
      sendJson(res, 200, c)
      return
    }
    sendJson(res, 200, { contacts: store.listContacts() })
  })
  // POST /api/contacts/import is telephony's (server/routes/contacts.ts); it writes through `records.contacts`.
}

function recordingInfo(
  id: string,
  rec: { bytes: number; durationMs: number; channels: number; sampleRateHz: number; state: string }
): RecordingInfo {
  return {
    url: `/api/calls/${encodeURIComponent(id)}/recording`,
    bytes: rec.bytes,
    durationMs: rec.durationMs,
    channels: rec.channels,
    sampleRateHz: rec.sampleRateHz,
    ...(rec.state === 'repaired' ? { repaired: true } : {})
  }
}

function publicUpload<T extends { keyPrefix?: string; multipart?: unknown; callId: string }>(
  u: T
): Omit<T, 'keyPrefix' | 'multipart' | 'callId'> {
  const { keyPrefix: _k, multipart: _m, callId: _c, ...rest } = u
  return rest
}

const ROLE_LABEL: Record<TranscriptSegment['role'], string> = { caller: 'Caller', agent: 'Agent', operator: 'Operator' }

function transcriptText(segments: readonly TranscriptSegment[]): string {
  return segments
    .map((s) => {
      const total = Math.max(0, Math.round(s.atMs / 100))
      const mm = String(Math.floor(total / 600)).padStart(2, '0')
      const ss = ((total % 600) / 10).toFixed(1).padStart(4, '0')
      return `[${mm}:${ss}] ${ROLE_LABEL[s.role]}: ${s.text}`
    })
    .join('\n')
    .concat(segments.length ? '\n' : '')
}

/** Serves a file with single-range support (RFC 9110 §14): 206 with Content-Range, 416 when unsatisfiable. */
async function sendFileRange(
  res: ServerResponse,
  path: string,
  size: number,
  rangeHeader: string | undefined,
  headOnly: boolean,
  contentType: string
): Promise<void> {
  let start = 0
  let end = size - 1
  let status = 200
  const m = rangeHeader ? /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim()) : null
  // Multi-range or malformed headers are ignored (whole file), as the RFC allows.
  if (m && (m[1] !== '' || m[2] !== '')) {
    if (m[1] === '') {
      const suffix = Number(m[2])
      start = Math.max(0, size - suffix)
      if (suffix === 0) start = size
    } else {
      start = Number(m[1])
      if (m[2] !== '') end = Math.min(Number(m[2]), size - 1)
    }
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}`, 'accept-ranges': 'bytes', 'content-length': 0 })
      res.end()
      return
    }
    status = 206
  }
  const length = size === 0 ? 0 : end - start + 1
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': length,
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
    ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {})
  })
  if (headOnly || length === 0) {
    res.end()
    return
  }
  await pipeline(createReadStream(path, { start, end }), res).catch(() => res.destroy())
}
