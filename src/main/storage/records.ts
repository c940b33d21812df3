/** Call records: the call log, recordings, startup repair, S3 uploads and Twilio recordings, behind one object. */
import { createHash } from 'node:crypto'
import { stat, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { CallSummary, UploadState } from '../../shared/calls.js'
import { CallbenchError } from '../../shared/errors.js'
import type { Profile } from '../../shared/profiles.js'
import type { Contact, TranscriptDocument } from '../../shared/records.js'
import type { Settings } from '../../shared/settings.js'
import type { CallRecorder } from '../calls/recorder.js'
import { repairWav } from '../audio/wav-writer.js'
import type { EventHub } from '../events/hub.js'
import type { Logger } from '../log.js'
import type { SecretStore } from '../settings/secrets.js'
import { CallStore, type CallRecord, type TwilioRecordingRow } from './call-store.js'
import { CallUploader, type CallUploaderOptions } from './call-uploader.js'
import { RECORDING_CHANNELS, RECORDING_SAMPLE_RATE_HZ, WavCallRecorder } from './call-recorder.js'
import { persistCallEvents } from './persistence-hook.js'
import { resolveS3Target, type S3Target } from './s3-config.js'
import {
  TwilioRecordingArchiver,
  type TwilioAccess,
  type TwilioArchiverOptions,
  type TwilioRecordingNotice
} from './twilio-recordings.js'

/** Contacts as the telephony room reads them (its `ContactsLookup`): by number, and upserted from a CSV import. */
export interface ContactsStore {
  find(number: string): Promise<Contact | undefined>
  upsert(contacts: readonly Contact[]): Promise<number>
}

/** Profiles as the telephony room reads them (its `ProfileSource`). */
export interface ProfilesSource {
  get(id: string): Promise<Profile | undefined>
  list(): Promise<Profile[]>
}

export interface RecordsOptions {
  dataDir: string
  hub: EventHub
  log: Logger
  settings: () => Settings
  config: (name: string) => string | undefined
  secrets: Pick<SecretStore, 'get'>
  /** The Twilio account for downloading and deleting Twilio-side recordings; undefined = not configured. */
  twilio?: () => Promise<TwilioAccess | undefined>
  /** Database file name in the data folder. Default `callbench.db`. */
  dbFile?: string
  flushIntervalMs?: number
  /** Test knobs for the uploader and the Twilio archiver (attempts, delays, part size). */
  uploader?: Partial<Pick<CallUploaderOptions, 'maxAttempts' | 'retryDelayMs' | 'partSizeBytes' | 'queueSize'>>
  archiver?: Partial<Pick<TwilioArchiverOptions, 'maxAttempts' | 'retryDelayMs' | 'partSizeBytes'>>
}

export interface RepairReport {
  interrupted: string[]
  repairedRecordings: string[]
}

export class Records {
  readonly store: CallStore
  readonly uploader: CallUploader
  readonly archiver: TwilioRecordingArchiver
  readonly #o: RecordsOptions
  readonly #unsubscribe: () => void
  readonly #unsubscribeRecordings: () => void
  readonly #recorders = new Map<string, WavCallRecorder>()

  private constructor(store: CallStore, o: RecordsOptions) {
    this.store = store
    this.#o = o
    const target = () => this.s3Target()
    this.uploader = new CallUploader({
      store,
      dataDir: o.dataDir,
      log: o.log.child({ room: 'uploads' }),
      target,
      callDocument: (id) => this.callDocument(id),
      transcriptDocument: (id) => this.transcriptDocument(id),
      onState: (callId, upload) => o.hub.publish({ type: 'upload.progress', callId, upload }),
      ...o.uploader
    })
    this.archiver = new TwilioRecordingArchiver({
      store,
      dataDir: o.dataDir,
      log: o.log.child({ room: 'twilio-recordings' }),
      twilio: o.twilio ?? (async () => undefined),
      target,
      ...o.archiver
    })
    this.#unsubscribe = persistCallEvents({
      hub: o.hub,
      store,
      metaAtStart: () => ({ settings: o.settings() as unknown as Record<string, unknown> }),
      profileSnapshot: (id) => store.getProfile(id) as unknown as Record<string, unknown> | undefined,
      onEnded: (call) => void this.#afterCall(call)
    })
    // Telephony publishes Twilio's recording status callback; a completed recording is moved to S3.
    this.#unsubscribeRecordings = o.hub.subscribe((ev) => {
      if (ev.type !== 'twilio.recording' || ev.status !== 'completed') return
      const notice = {
        callSid: ev.callSid,
        recordingSid: ev.recordingSid,
        recordingUrl: ev.recordingUrl,
        ...(ev.callId ? { callId: ev.callId } : {})
      }
      setImmediate(() => {
        this.onTwilioRecording(notice).catch((err: unknown) =>
          o.log.warn('twilio recording refused', { recordingSid: ev.recordingSid, err: err as Error })
        )
      })
    })
  }

  /** Opens the log, repairs what a crash left open, subscribes to call events, resumes pending uploads. */
  static async open(o: RecordsOptions): Promise<Records> {
    const store = CallStore.open({
      path: join(o.dataDir, o.dbFile ?? 'callbench.db'),
      log: o.log,
      ...(o.flushIntervalMs !== undefined ? { flushIntervalMs: o.flushIntervalMs } : {})
    })
    const records = new Records(store, o)
    const report = await records.repairAfterCrash()
    if (report.interrupted.length || report.repairedRecordings.length) {
      o.log.warn('calls left open by a previous run marked interrupted', {
        calls: report.interrupted.length,
        recordings: report.repairedRecordings.length
      })
    }
    records.uploader.resume()
    records.archiver.resume()
    return records
  }

  /** Recordings still being written and calls with no end: the app stopped under them. */
  async repairAfterCrash(): Promise<RepairReport> {
    const report: RepairReport = { interrupted: [], repairedRecordings: [] }
    const durations = new Map<string, number>()
    for (const rec of this.store.openRecordings()) {
      const path = join(this.#o.dataDir, rec.path)
      try {
        const { durationMs } = await repairWav(path)
        const { size } = await stat(path)
        this.store.setRecording({ ...rec, state: 'repaired', bytes: size, durationMs })
        durations.set(rec.callId, durationMs)
        report.repairedRecordings.push(rec.callId)
      } catch (err) {
        this.#o.log.warn('recording could not be repaired', { callId: rec.callId, err: err as Error })
        this.store.setRecording({ ...rec, state: 'missing', bytes: 0, durationMs: 0 })
      }
    }
    for (const call of this.store.openCalls()) {
      const durationMs = Math.max(
        call.lastEventAtMs,
        durations.get(call.id) ?? this.store.getRecording(call.id)?.durationMs ?? 0
      )
      this.store.markInterrupted(call.id, durationMs)
      report.interrupted.push(call.id)
    }
    return report
  }

  /** The session's recorder for a call (the registry's `recorderFactory`). */
  async createRecorder(callId: string): Promise<CallRecorder> {
    const rel = join('recordings', `${fileNameOf(callId)}.wav`)
    const path = join(this.#o.dataDir, rel)
    const base = { callId, path: rel, channels: RECORDING_CHANNELS, sampleRateHz: RECORDING_SAMPLE_RATE_HZ }
    const recorder = await WavCallRecorder.open(path, (r) => {
      this.#recorders.delete(callId)
      if (r.error !== undefined) this.#o.log.warn('recording write failed', { callId, err: r.error as Error })
      this.store.setRecording({ ...base, state: 'complete', bytes: r.bytes, durationMs: r.durationMs })
    })
    this.store.setRecording({ ...base, state: 'recording', bytes: 44, durationMs: 0 })
    this.#recorders.set(callId, recorder)
    return recorder
  }

  /**
   * The hook for the recording status callback (`/twilio/recording`; also taken from the `twilio.recording` hub
   * event): download, upload to S3, verify, then delete from Twilio. Resolves when the first attempt is over.
   */
  async onTwilioRecording(notice: TwilioRecordingNotice): Promise<TwilioRecordingRow> {
    return this.archiver.handle(notice)
  }

  lookupContact(number: string): Contact | undefined {
    return this.store.lookupContact(number)
  }

  /** The SQLite contacts behind telephony's `ContactsLookup`. */
  readonly contacts: ContactsStore = {
    find: async (number) => this.store.lookupContact(number),
    upsert: async (contacts) => this.store.upsertContacts(contacts)
  }

  /** The profiles behind telephony's `ProfileSource`. */
  readonly profiles: ProfilesSource = {
    get: async (id) => this.store.getProfile(id),
    list: async () => this.store.listProfiles()
  }

  async s3Target(): Promise<S3Target | undefined> {
    return resolveS3Target(this.#o.settings().s3, this.#o.config, this.#o.secrets)
  }

  /** Queues a call's upload; `not_configured` without a bucket, `conflict` while the call is live. */
  async requestUpload(callId: string): Promise<UploadState> {
    const call = this.store.getCallSummary(callId)
    if (!call) throw new CallbenchError('call_not_found', 'No call with that id')
    if (call.state !== 'ended')
      throw new CallbenchError('conflict', 'The call is still going on; upload it when it has ended')
    if (!(await this.s3Target()))
      throw new CallbenchError('not_configured', 'S3 is not configured: set a bucket in settings or S3_BUCKET')
    return this.uploader.enqueue(callId)
  }

  /** call.json: the call, its turns and metrics, its timeline and what it ran with. */
  callDocument(callId: string): Record<string, unknown> | undefined {
    const r = this.store.getCall(callId)
    if (!r) return undefined
    return {
      format: 'callbench.call/1',
      call: r.call,
      turns: r.turns,
      timeline: r.events,
      settings: r.settings ?? null,
      profile: r.profile ?? null,
      recording: r.recording
        ? {
            file: 'recording.wav',
            channels: { left: 'caller', right: 'agent' },
            sampleRateHz: r.recording.sampleRateHz,
            durationMs: r.recording.durationMs,
            state: r.recording.state
          }
        : null
    }
  }

  transcriptDocument(callId: string): TranscriptDocument | undefined {
    const call = this.store.getCallSummary(callId)
    if (!call) return undefined
    return { callId, startedAt: call.startedAt, segments: this.store.getTranscript(callId) }
  }

  getCall(callId: string): CallRecord | undefined {
    return this.store.getCall(callId)
  }

  /** Deletes the call's rows and its local files (recording, Twilio copies). */
  async deleteCall(callId: string): Promise<boolean> {
    const files = [
      this.store.getRecording(callId)?.path,
      ...this.store.twilioRecordingsOf(callId).map((r) => r.localPath)
    ].filter((p): p is string => !!p)
    const deleted = this.store.deleteCall(callId)
    for (const f of files) await rm(join(this.#o.dataDir, f), { force: true })
    return deleted
  }

  async #afterCall(call: CallSummary): Promise<void> {
    try {
      if (!this.#o.settings().s3.autoUpload) return
      if (!(await this.s3Target())) return
      this.uploader.enqueue(call.id)
    } catch (err) {
      this.#o.log.warn('automatic upload not queued', { callId: call.id, err: err as Error })
    }
  }

  /** Ends recordings still open, commits the log, stops uploads (they resume next start). */
  async close(): Promise<void> {
    this.#unsubscribe()
    this.#unsubscribeRecordings()
    await Promise.allSettled([...this.#recorders.values()].map((r) => r.close()))
    await this.uploader.close()
    await this.archiver.close()
    this.store.close()
  }
}

/** A call id as a file name: ids come from stream parameters, so nothing path-like gets through. */
function fileNameOf(callId: string): string {
  const safe = callId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80)
  if (safe === callId) return safe
  return `${safe}-${createHash('sha256').update(callId).digest('hex').slice(0, 8)}`
}
