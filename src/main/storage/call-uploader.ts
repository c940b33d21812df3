/** Pushes each call's recording, transcript and call.json to S3, one call at a time, with retries that survive a restart. */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { UploadState } from '../../shared/calls.js'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import type { CallStore, UploadRow } from './call-store.js'
import { abortMultipart, isRetryableS3Error, putObject } from './s3-objects.js'
import { callKeyPrefix, createS3Client, objectUrl, type S3Target } from './s3-config.js'

export interface CallUploaderOptions {
  store: CallStore
  dataDir: string
  log: Logger
  /** Where uploads go now; undefined = S3 not configured. */
  target: () => Promise<S3Target | undefined>
  /** call.json: the call, turns and metrics, timeline and settings snapshot. */
  callDocument: (callId: string) => unknown
  /** transcript.json. */
  transcriptDocument: (callId: string) => unknown
  /** Every state change and progress step (the `upload.progress` event). */
  onState?: (callId: string, state: UploadState) => void
  /** Attempts before an upload is marked failed. Default 6. */
  maxAttempts?: number
  /** Wait before attempt `n + 1` after attempt `n` failed. Default 1 s doubling, at most 60 s, ±20 %. */
  retryDelayMs?: (attempt: number) => number
  partSizeBytes?: number
  queueSize?: number
}

interface Job {
  callId: string
  abort: AbortController
}

const defaultDelay = (attempt: number) => Math.min(60_000, 1_000 * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4)

export class CallUploader {
  readonly #o: CallUploaderOptions
  readonly #queue: string[] = []
  readonly #retryTimers = new Map<string, NodeJS.Timeout>()
  #current: Job | undefined
  #running: Promise<void> | undefined
  #closed = false
  #clients = new Map<string, S3Client>()

  constructor(opts: CallUploaderOptions) {
    this.#o = opts
  }

  /** Queues a call's upload (by hand or after the call). A call already queued or uploading is left as is. */
  enqueue(callId: string): UploadState {
    const existing = this.#o.store.getUpload(callId)
    if (existing && (this.#queue.includes(callId) || this.#current?.callId === callId)) return publicState(existing)
    clearTimeout(this.#retryTimers.get(callId))
    this.#retryTimers.delete(callId)
    const state = this.#set(callId, { state: 'queued', attempts: 0, percent: 0 })
    this.#push(callId)
    return state
  }

  /** Takes up uploads a previous run left queued or half done. */
  resume(): number {
    const pending = this.#o.store.pendingUploads()
    for (const u of pending) {
      if (!this.#queue.includes(u.callId)) this.#push(u.callId)
    }
    return pending.length
  }

  /** Stops at once; unfinished uploads stay `queued`/`uploading` in the log and resume on the next start. */
  async close(): Promise<void> {
    this.#closed = true
    for (const t of this.#retryTimers.values()) clearTimeout(t)
    this.#retryTimers.clear()
    this.#queue.length = 0
    this.#current?.abort.abort()
    await this.#running?.catch(() => undefined)
    for (const c of this.#clients.values()) c.destroy()
  }

  #push(callId: string): void {
    if (this.#closed) return
    this.#queue.push(callId)
    this.#running ??= this.#drain().finally(() => (this.#running = undefined))
  }

  async #drain(): Promise<void> {
    for (let callId = this.#queue.shift(); callId && !this.#closed; callId = this.#queue.shift()) {
      const job: Job = { callId, abort: new AbortController() }
      this.#current = job
      try {
        await this.#attempt(job)
      } catch (err) {
        this.#o.log.error('upload bookkeeping failed', { callId, err: err as Error })
      } finally {
        this.#current = undefined
      }
    }
  }

  #client(t: S3Target): S3Client {
    const key = JSON.stringify(t)
    let c = this.#clients.get(key)
    if (!c) {
      c = createS3Client(t)
      this.#clients.set(key, c)
    }
    return c
  }

  async #attempt(job: Job): Promise<void> {
    const { store } = this.#o
    const { callId } = job
    const before = store.getUpload(callId)
    const call = store.getCallSummary(callId)
    if (!call) return
    const attempts = (before?.attempts ?? 0) + 1
    const target = await this.#o.target()
    if (!target) {
      this.#set(callId, { state: 'failed', attempts, error: 'S3 is not configured (bucket)' })
      return
    }
    const client = this.#client(target)
    const keyPrefix = callKeyPrefix(target.prefix, call.startedAt, callId)
    const log = this.#o.log.child({ callId })
    let multipart = before?.multipart
    if (multipart) await abortMultipart(client, target.bucket, multipart.key, multipart.uploadId)
    multipart = undefined

    const recording = store.getRecording(callId)
    const recPath = recording ? join(this.#o.dataDir, recording.path) : undefined
    const recBytes = recPath
      ? await stat(recPath).then(
          (s) => s.size,
          () => -1
        )
      : -1
    const objects: Array<{ name: string; body: { path: string } | Uint8Array; bytes: number; type: string }> = []
    if (recPath && recBytes >= 0)
      objects.push({ name: 'recording.wav', body: { path: recPath }, bytes: recBytes, type: 'audio/wav' })
    for (const [name, doc] of [
      ['transcript.json', this.#o.transcriptDocument(callId)],
      ['call.json', this.#o.callDocument(callId)]
    ] as const) {
      const bytes = Buffer.from(JSON.stringify(doc, null, 2))
      objects.push({ name, body: bytes, bytes: bytes.length, type: 'application/json' })
    }
    const totalBytes = objects.reduce((n, o) => n + o.bytes, 0) || 1
    let doneBytes = 0
    let lastPercent = -1
    this.#set(callId, { state: 'uploading', attempts, percent: 0, keyPrefix })
    log.info('upload started', { attempt: attempts, bytes: totalBytes })
    try {
      for (const obj of objects) {
        const key = keyPrefix + obj.name
        await putObject({
          client,
          bucket: target.bucket,
          key,
          body: obj.body,
          contentType: obj.type,
          signal: job.abort.signal,
          ...(this.#o.partSizeBytes ? { partSizeBytes: this.#o.partSizeBytes } : {}),
          ...(this.#o.queueSize ? { queueSize: this.#o.queueSize } : {}),
          onUploadId: (uploadId) => {
            multipart = { key, uploadId }
            this.#set(callId, { state: 'uploading', attempts, percent: Math.max(0, lastPercent), keyPrefix, multipart })
          },
          onProgress: (loaded) => {
            const percent = Math.min(99.9, Math.floor(((doneBytes + loaded) / totalBytes) * 1000) / 10)
            if (percent <= lastPercent) return
            lastPercent = percent
            this.#set(callId, { state: 'uploading', attempts, percent, keyPrefix, ...(multipart ? { multipart } : {}) })
          }
        })
        doneBytes += obj.bytes
        multipart = undefined
      }
      const url = objectUrl(target, keyPrefix + (recPath && recBytes >= 0 ? 'recording.wav' : 'call.json'))
      this.#set(callId, { state: 'done', attempts, percent: 100, url, keyPrefix })
      log.info('upload done', { attempt: attempts })
    } catch (err) {
      if (this.#closed) {
        // Left as `uploading` with the multipart id: the next start aborts it and uploads again.
        this.#set(callId, {
          state: 'uploading',
          attempts,
          percent: Math.max(0, lastPercent),
          keyPrefix,
          ...(multipart ? { multipart } : {})
        })
        return
      }
      const reason = describe(err)
      const max = this.#o.maxAttempts ?? 6
      if (isRetryableS3Error(err) && attempts < max) {
        const delayMs = (this.#o.retryDelayMs ?? defaultDelay)(attempts)
        log.warn('upload attempt failed, retrying', { attempt: attempts, delayMs: Math.round(delayMs), reason })
        this.#set(callId, {
          state: 'queued',
          attempts,
          error: `attempt ${attempts} failed: ${reason}`,
          keyPrefix,
          ...(multipart ? { multipart } : {})
        })
        const timer = setTimeout(() => {
          this.#retryTimers.delete(callId)
          this.#push(callId)
        }, delayMs)
        this.#retryTimers.set(callId, timer)
      } else {
        log.warn('upload failed', { attempt: attempts, reason })
        this.#set(callId, { state: 'failed', attempts, error: reason, keyPrefix, ...(multipart ? { multipart } : {}) })
      }
    }
  }

  #set(callId: string, u: Omit<UploadRow, 'callId' | 'updatedAt'>): UploadState {
    const row: UploadRow = { callId, updatedAt: new Date().toISOString(), ...u }
    this.#o.store.setUpload(row)
    const state = publicState(row)
    this.#o.onState?.(callId, state)
    return state
  }
}

function publicState(u: UploadRow): UploadState {
  return {
    state: u.state,
    updatedAt: u.updatedAt,
    ...(u.percent !== undefined ? { percent: u.percent } : {}),
    ...(u.url ? { url: u.url } : {}),
    ...(u.error ? { error: u.error } : {}),
    ...(u.attempts !== undefined ? { attempts: u.attempts } : {})
  }
}

/** A short reason for the console; S3 error names and messages carry no secrets. */
function describe(err: unknown): string {
  if (err instanceof CallbenchError) return err.message
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } }
  const status = e?.$metadata?.httpStatusCode
  const msg = (e?.message || e?.code || String(err)).slice(0, 200)
  return status ? `${e.name ?? 'Error'} (HTTP ${status}): ${msg}` : `${e?.name ?? 'Error'}: ${msg}`
}
