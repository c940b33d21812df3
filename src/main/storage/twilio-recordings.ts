/** Moves recordings made on Twilio's side into S3: download, upload, verify, and only then delete them from Twilio. */
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import type { CallStore, TwilioRecordingRow } from './call-store.js'
import { digestFile, isRetryableS3Error, putObject, verifyObject } from './s3-objects.js'
import { callKeyPrefix, createS3Client, type S3Target } from './s3-config.js'

/** What the recording status callback (`/twilio/recording`) gives us. */
export interface TwilioRecordingNotice {
  callSid: string
  recordingSid: string
  /** `RecordingUrl` (no extension). Used only when it is on the configured Twilio API origin. */
  recordingUrl?: string
  /** Our call id, when the caller knows it (else found by CallSid). */
  callId?: string
}

/** The Twilio account as this module needs it; the telephony room builds the REST client behind `removeRecording`. */
export interface TwilioAccess {
  accountSid: string
  authToken: string
  /** REST API origin, `https://api.twilio.com` unless re-pointed (TWILIO_API_BASE_URL). */
  baseUrl: string
  /** `recordings(sid).remove()`; resolves when Twilio says it is gone (an already-deleted one counts). */
  removeRecording(recordingSid: string): Promise<void>
}

export interface TwilioArchiverOptions {
  store: CallStore
  dataDir: string
  log: Logger
  twilio: () => Promise<TwilioAccess | undefined>
  target: () => Promise<S3Target | undefined>
  /** Attempts per recording before it is marked failed (the Twilio copy is then kept). Default 5. */
  maxAttempts?: number
  retryDelayMs?: (attempt: number) => number
  partSizeBytes?: number
  /** Download timeout, ms. Default 120 s. */
  downloadTimeoutMs?: number
}

const RECORDING_SID = /^RE[0-9a-fA-F]{32}$/
const CALL_SID = /^CA[0-9a-fA-F]{32}$/
const defaultDelay = (attempt: number) => Math.min(120_000, 2_000 * 2 ** (attempt - 1))

export class TwilioRecordingArchiver {
  readonly #o: TwilioArchiverOptions
  readonly #active = new Map<string, Promise<TwilioRecordingRow>>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  #closed = false
  /** Aborts downloads and uploads in flight on close: their state stays where it was and resumes next start. */
  readonly #stop = new AbortController()

  constructor(opts: TwilioArchiverOptions) {
    this.#o = opts
  }

  /** Starts (or joins) the work on one recording; resolves with where it ended up. Never throws for Twilio/S3 failures. */
  handle(notice: TwilioRecordingNotice): Promise<TwilioRecordingRow> {
    if (!RECORDING_SID.test(notice.recordingSid))
      throw new CallbenchError('bad_request', 'Invalid RecordingSid', { field: 'RecordingSid' })
    if (!CALL_SID.test(notice.callSid)) throw new CallbenchError('bad_request', 'Invalid CallSid', { field: 'CallSid' })
    const running = this.#active.get(notice.recordingSid)
    if (running) return running
    const { store } = this.#o
    let row = store.getTwilioRecording(notice.recordingSid)
    if (!row) {
      const callId = notice.callId ?? store.findByCallSid(notice.callSid)?.id
      row = {
        recordingSid: notice.recordingSid,
        callSid: notice.callSid,
        state: 'pending',
        attempts: 0,
        ...(callId ? { callId } : {})
      }
      store.setTwilioRecording(row)
    }
    return this.#start(row, notice.recordingUrl)
  }

  /** Takes up recordings a previous run left half done. */
  resume(): number {
    const rows = this.#o.store.pendingTwilioRecordings()
    for (const r of rows) if (!this.#active.has(r.recordingSid)) void this.#start(r)
    return rows.length
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#stop.abort()
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    await Promise.allSettled([...this.#active.values()])
  }

  #start(row: TwilioRecordingRow, recordingUrl?: string): Promise<TwilioRecordingRow> {
    const p = this.#run(row, recordingUrl).finally(() => this.#active.delete(row.recordingSid))
    this.#active.set(row.recordingSid, p)
    return p
  }

  async #run(initial: TwilioRecordingRow, recordingUrl?: string): Promise<TwilioRecordingRow> {
    const { store } = this.#o
    let row: TwilioRecordingRow = { ...initial, attempts: initial.attempts + 1 }
    const log = this.#o.log.child({ recordingSid: row.recordingSid, callId: row.callId })
    const save = (patch: Partial<TwilioRecordingRow>) => {
      row = { ...row, ...patch }
      store.setTwilioRecording(row)
    }
    try {
      const twilio = await this.#o.twilio()
      if (!twilio) throw new CallbenchError('not_configured', 'Twilio is not configured')
      if (row.state === 'pending') {
        const localPath = row.localPath ?? join('recordings', 'twilio', `${row.recordingSid}.wav`)
        const bytes = await this.#download(twilio, row.recordingSid, recordingUrl, join(this.#o.dataDir, localPath))
        save({ state: 'downloaded', localPath, bytes })
        log.info('twilio recording downloaded', { bytes })
      }
      const target = await this.#o.target()
      if (!target) throw new CallbenchError('not_configured', 'S3 is not configured; the Twilio copy is kept')
      const client = createS3Client(target)
      try {
        const localPath = join(this.#o.dataDir, row.localPath!)
        const digest = await digestFile(localPath, this.#o.partSizeBytes)
        const key = row.s3Key ?? this.#key(target, row)
        if (row.state === 'downloaded') {
          await putObject({
            client,
            bucket: target.bucket,
            key,
            body: { path: localPath },
            contentType: 'audio/wav',
            metadata: {
              sha256: digest.sha256Hex,
              'twilio-recording-sid': row.recordingSid,
              'twilio-call-sid': row.callSid
            },
            ...(this.#o.partSizeBytes ? { partSizeBytes: this.#o.partSizeBytes } : {})
          })
          save({ state: 'uploaded', s3Key: key })
        }
        // Verified every time before the delete, also when resuming at `uploaded`.
        try {
          await verifyObject(client, target.bucket, key, digest)
        } catch (err) {
          // A mismatch (or a missing object) sends the next attempt back to the upload.
          save({ state: 'downloaded' })
          throw err instanceof CallbenchError
            ? new CallbenchError(err.code, err.message, { cause: err, retryable: true })
            : err
        }
        log.info('twilio recording verified in S3', { bytes: digest.bytes })
      } finally {
        client.destroy()
      }
      await twilio.removeRecording(row.recordingSid)
      save({ state: 'done' })
      log.info('twilio recording deleted from Twilio after verified copy')
      return row
    } catch (err) {
      // Stopped mid-way: the row keeps its last step and the next start takes it up from there.
      if (this.#closed) return row
      const e =
        err instanceof CallbenchError
          ? err
          : new CallbenchError('upstream_failed', describe(err), { cause: err, retryable: isRetryableS3Error(err) })
      const max = this.#o.maxAttempts ?? 5
      if (e.code === 'not_configured') {
        save({ error: e.message })
        log.warn('twilio recording kept', { reason: e.message })
        return row
      }
      if (e.retryable && row.attempts < max) {
        save({ error: e.message })
        const delayMs = (this.#o.retryDelayMs ?? defaultDelay)(row.attempts)
        log.warn('twilio recording attempt failed, retrying', { attempt: row.attempts, delayMs, reason: e.message })
        // A retry runs outside the first promise, so the caller hears about the first outcome now.
        const timer = setTimeout(() => {
          this.#timers.delete(row.recordingSid)
          if (!this.#closed) void this.#start(row, recordingUrl)
        }, delayMs)
        timer.unref()
        this.#timers.set(row.recordingSid, timer)
        return row
      }
      save({ state: 'failed', error: e.message })
      log.warn('twilio recording failed; Twilio copy kept', { reason: e.message })
      return row
    }
  }

  #key(t: S3Target, row: TwilioRecordingRow): string {
    const call = row.callId ? this.#o.store.getCallSummary(row.callId) : undefined
    const prefix = callKeyPrefix(t.prefix, call?.startedAt ?? new Date().toISOString(), row.callId ?? row.callSid)
    return `${prefix}twilio-${row.recordingSid}.wav`
  }

  async #download(
    t: TwilioAccess,
    recordingSid: string,
    recordingUrl: string | undefined,
    dest: string
  ): Promise<number> {
    const base = new URL(t.baseUrl)
    let url = new URL(`/2010-04-01/Accounts/${t.accountSid}/Recordings/${recordingSid}.wav`, base)
    if (recordingUrl) {
      // Credentials go only to the configured API origin, whatever a callback says.
      const given = new URL(recordingUrl)
      if (given.origin === base.origin)
        url = /\.(wav|mp3)$/.test(given.pathname) ? given : new URL(`${given.pathname}.wav`, base)
    }
    const res = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
      // Redirects (a signed media URL) are followed; fetch drops the Authorization header on a cross-origin hop.
      redirect: 'follow',
      signal: AbortSignal.any([AbortSignal.timeout(this.#o.downloadTimeoutMs ?? 120_000), this.#stop.signal])
    }).catch((err: unknown) => {
      throw new CallbenchError('upstream_failed', 'Twilio recording download broke off', {
        cause: err,
        retryable: true
      })
    })
    if (!res.ok || !res.body) {
      await res.body?.cancel()
      const retryable = res.status >= 500 || res.status === 429
      throw new CallbenchError('upstream_failed', `Twilio recording download answered HTTP ${res.status}`, {
        retryable
      })
    }
    await mkdir(dirname(dest), { recursive: true })
    const tmp = `${dest}.part`
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp))
      await rename(tmp, dest)
    } catch (err) {
      await rm(tmp, { force: true })
      throw new CallbenchError('upstream_failed', 'Twilio recording download broke off', {
        cause: err,
        retryable: true
      })
    }
    const { size } = await stat(dest)
    const declared = Number(res.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > 0 && declared !== size) {
      throw new CallbenchError('upstream_failed', `Twilio recording download truncated (${size}/${declared} bytes)`, {
        retryable: true
      })
    }
    return size
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  const status = e?.$metadata?.httpStatusCode
  const msg = (e?.message ?? String(err)).slice(0, 200)
  return status ? `${e.name ?? 'Error'} (HTTP ${status}): ${msg}` : msg
}
