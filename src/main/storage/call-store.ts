/** The call log in SQLite (node:sqlite, WAL): the one module that writes it. Live-call writes are queued and batched. */
import { randomUUID } from 'node:crypto'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type { CallSummary, TurnMetrics, UploadState } from '../../shared/calls.js'
import type { TimelineEntry } from '../../shared/events.js'
import type { Profile, ProfileInput } from '../../shared/profiles.js'
import type { CallList } from '../../shared/api.js'
import type { CallListFilter, Contact, TranscriptSegment } from '../../shared/records.js'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import { numberKey } from './contacts-csv.js'
import { buildHistoryWhere, digitsOf } from './history-query.js'
import { migrate } from './migrations.js'
import { outcomeOf } from './outcome.js'

export interface CallStoreOptions {
  /** Database file; `:memory:` for tests that need no file. */
  path: string
  /** Queued live-call writes are committed this often, in one transaction. Default 200 ms. */
  flushIntervalMs?: number
  log?: Logger
}

/** A call's local recording as stored. `path` is relative to the data folder. */
export interface RecordingRow {
  callId: string
  path: string
  state: 'recording' | 'complete' | 'repaired' | 'missing'
  bytes: number
  durationMs: number
  channels: number
  sampleRateHz: number
}

/** Upload bookkeeping beyond what the console sees: where the objects go and the multipart in flight. */
export interface UploadRow extends UploadState {
  callId: string
  keyPrefix?: string
  /** `{key, uploadId}` of a multipart upload that may be left on the server, aborted before a retry. */
  multipart?: { key: string; uploadId: string }
}

export type TwilioRecordingState = 'pending' | 'downloaded' | 'uploaded' | 'done' | 'failed'

export interface TwilioRecordingRow {
  recordingSid: string
  callSid: string
  callId?: string
  state: TwilioRecordingState
  localPath?: string
  bytes?: number
  s3Key?: string
  error?: string
  attempts: number
}

/** What the history detail reads for one call. */
export interface CallRecord {
  call: CallSummary
  turns: TurnMetrics[]
  transcript: TranscriptSegment[]
  events: TimelineEntry[]
  settings?: Record<string, unknown>
  profile?: Record<string, unknown>
  recording?: RecordingRow
  upload?: UploadRow
}

type Op =
  | { t: 'call'; call: CallSummary }
  | { t: 'end'; call: CallSummary }
  | { t: 'event'; callId: string; entry: TimelineEntry }
  | { t: 'transcript'; callId: string; seg: TranscriptSegment }
  | { t: 'turn'; callId: string; metrics: TurnMetrics }
  | { t: 'meta'; callId: string; meta: CallMeta }
  | { t: 'answered'; callId: string; answeredBy: string }

type Row = Record<string, unknown>

/** What a call runs with, captured at its start. */
export interface CallMeta {
  /** Effective settings (profile overrides applied). */
  settings?: Record<string, unknown>
  profileId?: string
  /** The profile as it was when the call started. */
  profile?: Record<string, unknown>
}

const SUMMARY_COLUMNS = `c.*, r.path AS rec_path, u.state AS up_state, u.percent AS up_percent, u.url AS up_url,
  u.error AS up_error, u.attempts AS up_attempts, u.updated_at AS up_updated_at`
const SUMMARY_JOINS = 'LEFT JOIN recordings r ON r.call_id = c.id LEFT JOIN uploads u ON u.call_id = c.id'

export class CallStore {
  readonly db: DatabaseSync
  readonly #log: Logger | undefined
  readonly #flushIntervalMs: number
  readonly #stmts = new Map<string, StatementSync>()
  #queue: Op[] = []
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #failedWrites = 0

  private constructor(db: DatabaseSync, opts: CallStoreOptions) {
    this.db = db
    this.#log = opts.log
    this.#flushIntervalMs = opts.flushIntervalMs ?? 200
  }

  static open(opts: CallStoreOptions): CallStore {
    const db = new DatabaseSync(opts.path, { timeout: 5_000 })
    try {
      db.exec('PRAGMA journal_mode = WAL')
      // WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last transactions.
      db.exec('PRAGMA synchronous = NORMAL')
      db.exec('PRAGMA foreign_keys = ON')
      migrate(db)
    } catch (err) {
      db.close()
      throw err
    }
    return new CallStore(db, opts)
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.#stmts.set(sql, s)
    }
    return s
  }

  #tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const out = fn()
      this.db.exec('COMMIT')
      return out
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }

  // ---- live-call writes: queued, committed in batches ----

  /** call.started / call.updated. */
  queueCall(call: CallSummary): void {
    this.#enqueue({ t: 'call', call })
  }

  /** call.ended: the call row's end state. Committed with everything queued before it, at the next flush. */
  queueEnd(call: CallSummary): void {
    this.#enqueue({ t: 'end', call })
    this.#scheduleFlush(0)
  }

  queueEvent(callId: string, entry: TimelineEntry): void {
    this.#enqueue({ t: 'event', callId, entry })
  }

  queueTranscript(callId: string, seg: TranscriptSegment): void {
    this.#enqueue({ t: 'transcript', callId, seg })
  }

  queueTurn(callId: string, metrics: TurnMetrics): void {
    this.#enqueue({ t: 'turn', callId, metrics })
  }

  /** The settings snapshot and profile a call runs with (from its `call.start` timeline entry). */
  queueMeta(callId: string, meta: CallMeta): void {
    this.#enqueue({ t: 'meta', callId, meta })
  }

  /** Twilio's answering-machine verdict (AnsweredBy). */
  queueAnsweredBy(callId: string, answeredBy: string): void {
    this.#enqueue({ t: 'answered', callId, answeredBy })
  }

  #enqueue(op: Op): void {
    if (this.#closed) return
    this.#queue.push(op)
    this.#scheduleFlush(this.#flushIntervalMs)
  }

  #scheduleFlush(delayMs: number): void {
    if (this.#timer && delayMs > 0) return
    clearTimeout(this.#timer)
    // Even "now" is a timer: call.ended is published from inside the session, never write on its stack.
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.flush()
    }, delayMs)
    this.#timer.unref()
  }

  /** Commits every queued write in one transaction. Reads call it first, so they always see what was published. */
  flush(): void {
    if (this.#queue.length === 0 || !this.db.isOpen) return
    const ops = this.#queue
    this.#queue = []
    this.#tx(() => {
      for (const op of ops) {
        try {
          this.#apply(op)
        } catch (err) {
          // One bad write (an event for a call never started) must not lose the rest of the batch.
          if (this.#failedWrites++ < 20) this.#log?.warn('call log write failed', { op: op.t, err: err as Error })
        }
      }
    })
  }

  #apply(op: Op): void {
    switch (op.t) {
      case 'call':
        this.#upsertCall(op.call)
        break
      case 'end':
        this.#upsertCall(op.call)
        this.#endCall(op.call)
        break
      case 'event':
        this.#stmt('INSERT INTO events (call_id, at_ms, kind, data_json) VALUES (?, ?, ?, ?)').run(
          op.callId,
          op.entry.atMs,
          op.entry.kind,
          op.entry.data ? JSON.stringify(op.entry.data) : null
        )
        break
      case 'transcript':
        this.#stmt('INSERT INTO transcript (call_id, at_ms, role, text, correction) VALUES (?, ?, ?, ?, ?)').run(
          op.callId,
          op.seg.atMs,
          op.seg.role,
          op.seg.text,
          op.seg.correction ? 1 : 0
        )
        break
      case 'turn': {
        const m = op.metrics
        this.#stmt(
          `INSERT INTO turns (call_id, turn, caller_stopped_at_ms, first_audio_out_at_ms, total_ms, metrics_json)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (call_id, turn) DO UPDATE SET caller_stopped_at_ms = excluded.caller_stopped_at_ms,
             first_audio_out_at_ms = excluded.first_audio_out_at_ms, total_ms = excluded.total_ms, metrics_json = excluded.metrics_json`
        ).run(
          op.callId,
          m.turn,
          m.callerStoppedAtMs ?? null,
          m.firstAudioOutAtMs ?? null,
          m.totalMs ?? null,
          JSON.stringify(m)
        )
        break
      }
      case 'answered':
        this.#stmt(
          `UPDATE calls SET answered_by = ?, outcome = CASE WHEN state = 'ended' AND (? LIKE 'machine%' OR ? = 'fax')
             THEN 'answering_machine' ELSE outcome END WHERE id = ?`
        ).run(op.answeredBy, op.answeredBy, op.answeredBy, op.callId)
        break
      case 'meta':
        this.#stmt(
          `UPDATE calls SET settings_json = COALESCE(?, settings_json), profile_id = COALESCE(?, profile_id),
             profile_json = COALESCE(?, profile_json) WHERE id = ?`
        ).run(
          op.meta.settings ? JSON.stringify(op.meta.settings) : null,
          op.meta.profileId ?? null,
          op.meta.profile ? JSON.stringify(op.meta.profile) : null,
          op.callId
        )
        break
    }
  }

  #upsertCall(c: CallSummary): void {
    const startedAtMs = Date.parse(c.startedAt)
    this.#stmt(
      `INSERT INTO calls (id, call_sid, direction, from_number, to_number, from_digits, to_digits, mode, profile_id, state,
         started_at, started_at_ms, answered_by, turn_count, median_turn_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         call_sid = COALESCE(excluded.call_sid, call_sid),
         from_number = COALESCE(excluded.from_number, from_number), from_digits = CASE WHEN excluded.from_number IS NULL THEN from_digits ELSE excluded.from_digits END,
         to_number = COALESCE(excluded.to_number, to_number), to_digits = CASE WHEN excluded.to_number IS NULL THEN to_digits ELSE excluded.to_digits END,
         mode = excluded.mode, profile_id = COALESCE(excluded.profile_id, profile_id),
         state = CASE WHEN state = 'ended' THEN state ELSE excluded.state END,
         answered_by = COALESCE(excluded.answered_by, answered_by),
         turn_count = MAX(turn_count, excluded.turn_count), median_turn_ms = COALESCE(excluded.median_turn_ms, median_turn_ms)`
    ).run(
      c.id,
      c.callSid ?? null,
      c.direction,
      c.from ?? null,
      c.to ?? null,
      digitsOf(c.from),
      digitsOf(c.to),
      c.mode,
      c.profileId ?? null,
      c.state,
      new Date(startedAtMs).toISOString(),
      startedAtMs,
      c.answeredBy ?? null,
      c.turns ?? 0,
      c.medianTurnMs ?? null
    )
  }

  #endCall(c: CallSummary): void {
    const endedAt = c.endedAt ? new Date(c.endedAt) : new Date()
    // The recording is the caller's timeline, frame for frame: its length is the call's media length. The wall-clock
    // span of the session also counts engine setup (frames are buffered meanwhile) and teardown.
    const recorded = this.#stmt("SELECT duration_ms FROM recordings WHERE call_id = ? AND state = 'complete'").get(
      c.id
    ) as Row | undefined
    const durationMs =
      c.durationMs ??
      (recorded && (recorded.duration_ms as number) > 0
        ? (recorded.duration_ms as number)
        : Math.max(0, endedAt.getTime() - Date.parse(c.startedAt)))
    const answeredBy = c.answeredBy ?? this.#answeredBy(c.id)
    this.#stmt(
      `UPDATE calls SET state = 'ended', ended_at = ?, duration_ms = ?, end_reason = ?, outcome = ?, answered_by = COALESCE(?, answered_by)
       WHERE id = ?`
    ).run(
      endedAt.toISOString(),
      Math.round(durationMs),
      c.endReason ?? null,
      outcomeOf({ ...c, ...(answeredBy ? { answeredBy } : {}) }),
      answeredBy ?? null,
      c.id
    )
  }

  #answeredBy(callId: string): string | undefined {
    const r = this.#stmt('SELECT answered_by FROM calls WHERE id = ?').get(callId) as Row | undefined
    return (r?.answered_by as string | null) ?? undefined
  }

  // ---- queries ----

  listCalls(filter: CallListFilter): CallList {
    this.flush()
    const { where, params } = buildHistoryWhere(filter)
    const total = Number((this.#stmt(`SELECT COUNT(*) AS n FROM calls c ${where}`).get(...params) as Row).n)
    const rows = this.#stmt(
      `SELECT ${SUMMARY_COLUMNS} FROM calls c ${SUMMARY_JOINS} ${where} ORDER BY c.started_at_ms DESC, c.id DESC LIMIT ? OFFSET ?`
    ).all(...params, filter.pageSize, (filter.page - 1) * filter.pageSize) as Row[]
    return { calls: rows.map(toSummary), total, page: filter.page, pageSize: filter.pageSize }
  }

  getCallSummary(id: string): CallSummary | undefined {
    this.flush()
    const row = this.#stmt(`SELECT ${SUMMARY_COLUMNS} FROM calls c ${SUMMARY_JOINS} WHERE c.id = ?`).get(id) as
      Row | undefined
    return row ? toSummary(row) : undefined
  }

  /** The call with the given Twilio CallSid, most recent first. */
  findByCallSid(callSid: string): CallSummary | undefined {
    this.flush()
    const row = this.#stmt(
      `SELECT ${SUMMARY_COLUMNS} FROM calls c ${SUMMARY_JOINS} WHERE c.call_sid = ? ORDER BY c.started_at_ms DESC LIMIT 1`
    ).get(callSid) as Row | undefined
    return row ? toSummary(row) : undefined
  }

  getCall(id: string): CallRecord | undefined {
    const call = this.getCallSummary(id)
    if (!call) return undefined
    const base = this.#stmt('SELECT settings_json, profile_json FROM calls WHERE id = ?').get(id) as Row
    const turns = (this.#stmt('SELECT metrics_json FROM turns WHERE call_id = ? ORDER BY turn').all(id) as Row[]).map(
      (r) => JSON.parse(r.metrics_json as string) as TurnMetrics
    )
    const events = (
      this.#stmt('SELECT at_ms, kind, data_json FROM events WHERE call_id = ? ORDER BY at_ms, id').all(id) as Row[]
    ).map((r): TimelineEntry => ({
      atMs: r.at_ms as number,
      kind: r.kind as string,
      ...(r.data_json ? { data: JSON.parse(r.data_json as string) as Record<string, unknown> } : {})
    }))
    const recording = this.getRecording(id)
    const upload = this.getUpload(id)
    return {
      call,
      turns,
      transcript: this.getTranscript(id),
      events,
      ...(base.settings_json ? { settings: JSON.parse(base.settings_json as string) as Record<string, unknown> } : {}),
      ...(base.profile_json ? { profile: JSON.parse(base.profile_json as string) as Record<string, unknown> } : {}),
      ...(recording ? { recording } : {}),
      ...(upload ? { upload } : {})
    }
  }

  getTranscript(id: string): TranscriptSegment[] {
    this.flush()
    return (
      this.#stmt('SELECT at_ms, role, text, correction FROM transcript WHERE call_id = ? ORDER BY id').all(id) as Row[]
    ).map((r): TranscriptSegment => ({
      atMs: r.at_ms as number,
      role: r.role as TranscriptSegment['role'],
      text: r.text as string,
      ...(r.correction ? { correction: true } : {})
    }))
  }

  /** Calls a crash left open (no end written): to be marked interrupted at startup. */
  openCalls(): Array<{ id: string; startedAtMs: number; lastEventAtMs: number }> {
    this.flush()
    return (
      this.#stmt(
        `SELECT c.id, c.started_at_ms, (SELECT MAX(at_ms) FROM events e WHERE e.call_id = c.id) AS last_ms
         FROM calls c WHERE c.state <> 'ended'`
      ).all() as Row[]
    ).map((r) => ({
      id: r.id as string,
      startedAtMs: r.started_at_ms as number,
      lastEventAtMs: (r.last_ms as number | null) ?? 0
    }))
  }

  markInterrupted(id: string, durationMs: number): void {
    this.flush()
    const row = this.#stmt('SELECT started_at_ms FROM calls WHERE id = ?').get(id) as Row | undefined
    if (!row) return
    const endedAt = new Date((row.started_at_ms as number) + durationMs).toISOString()
    this.#tx(() => {
      this.#stmt(
        `UPDATE calls SET state = 'ended', ended_at = ?, duration_ms = ?, end_reason = 'interrupted', outcome = 'interrupted' WHERE id = ?`
      ).run(endedAt, Math.round(durationMs), id)
      this.#stmt('INSERT INTO events (call_id, at_ms, kind, data_json) VALUES (?, ?, ?, ?)').run(
        id,
        Math.round(durationMs),
        'call.interrupted',
        JSON.stringify({ reason: 'the app stopped during the call' })
      )
    })
  }

  /** Removes the call and everything hanging off it (events, turns, transcript, recording and upload rows). */
  deleteCall(id: string): boolean {
    this.flush()
    return this.#tx(() => {
      this.#stmt('DELETE FROM twilio_recordings WHERE call_id = ?').run(id)
      this.#stmt('DELETE FROM recordings WHERE call_id = ?').run(id)
      return Number(this.#stmt('DELETE FROM calls WHERE id = ?').run(id).changes) > 0
    })
  }

  // ---- recordings ----

  /** Recording rows may be written before the call row lands (the recorder opens first), so the call is created if missing. */
  setRecording(rec: RecordingRow, call?: CallSummary): void {
    this.flush()
    this.#tx(() => {
      if (call) this.#upsertCall(call)
      this.#stmt(
        `INSERT INTO recordings (call_id, path, state, bytes, duration_ms, channels, sample_rate_hz) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (call_id) DO UPDATE SET path = excluded.path, state = excluded.state, bytes = excluded.bytes,
           duration_ms = excluded.duration_ms, channels = excluded.channels, sample_rate_hz = excluded.sample_rate_hz`
      ).run(rec.callId, rec.path, rec.state, rec.bytes, rec.durationMs, rec.channels, rec.sampleRateHz)
    })
  }

  getRecording(callId: string): RecordingRow | undefined {
    const r = this.#stmt('SELECT * FROM recordings WHERE call_id = ?').get(callId) as Row | undefined
    if (!r) return undefined
    return {
      callId,
      path: r.path as string,
      state: r.state as RecordingRow['state'],
      bytes: r.bytes as number,
      durationMs: r.duration_ms as number,
      channels: r.channels as number,
      sampleRateHz: r.sample_rate_hz as number
    }
  }

  /** Recordings still marked as being written (a crash left them open). */
  openRecordings(): RecordingRow[] {
    return (this.#stmt("SELECT call_id FROM recordings WHERE state = 'recording'").all() as Row[])
      .map((r) => this.getRecording(r.call_id as string))
      .filter((r): r is RecordingRow => !!r)
  }

  // ---- uploads ----

  setUpload(u: UploadRow): void {
    this.flush()
    this.#stmt(
      `INSERT INTO uploads (call_id, state, percent, url, error, attempts, key_prefix, multipart_json, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (call_id) DO UPDATE SET state = excluded.state, percent = excluded.percent, url = excluded.url,
         error = excluded.error, attempts = excluded.attempts, key_prefix = COALESCE(excluded.key_prefix, key_prefix),
         multipart_json = excluded.multipart_json, updated_at = excluded.updated_at`
    ).run(
      u.callId,
      u.state,
      u.percent ?? null,
      u.url ?? null,
      u.error ?? null,
      u.attempts ?? 0,
      u.keyPrefix ?? null,
      u.multipart ? JSON.stringify(u.multipart) : null,
      u.updatedAt
    )
  }

  getUpload(callId: string): UploadRow | undefined {
    const r = this.#stmt('SELECT * FROM uploads WHERE call_id = ?').get(callId) as Row | undefined
    return r ? toUploadRow(r) : undefined
  }

  /** Uploads a restart must take up again: queued, cut off while uploading, or failed on a retryable error. */
  pendingUploads(): UploadRow[] {
    return (
      this.#stmt("SELECT * FROM uploads WHERE state IN ('queued', 'uploading') ORDER BY updated_at").all() as Row[]
    ).map(toUploadRow)
  }

  // ---- Twilio-side recordings ----

  setTwilioRecording(r: TwilioRecordingRow): void {
    const now = new Date().toISOString()
    this.#stmt(
      `INSERT INTO twilio_recordings (recording_sid, call_sid, call_id, state, local_path, bytes, s3_key, error, attempts, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (recording_sid) DO UPDATE SET call_id = COALESCE(excluded.call_id, call_id), state = excluded.state,
         local_path = COALESCE(excluded.local_path, local_path), bytes = COALESCE(excluded.bytes, bytes),
         s3_key = COALESCE(excluded.s3_key, s3_key), error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at`
    ).run(
      r.recordingSid,
      r.callSid,
      r.callId ?? null,
      r.state,
      r.localPath ?? null,
      r.bytes ?? null,
      r.s3Key ?? null,
      r.error ?? null,
      r.attempts,
      now,
      now
    )
  }

  getTwilioRecording(recordingSid: string): TwilioRecordingRow | undefined {
    const r = this.#stmt('SELECT * FROM twilio_recordings WHERE recording_sid = ?').get(recordingSid) as Row | undefined
    return r ? toTwilioRow(r) : undefined
  }

  twilioRecordingsOf(callId: string): TwilioRecordingRow[] {
    return (this.#stmt('SELECT * FROM twilio_recordings WHERE call_id = ?').all(callId) as Row[]).map(toTwilioRow)
  }

  pendingTwilioRecordings(): TwilioRecordingRow[] {
    return (
      this.#stmt(
        "SELECT * FROM twilio_recordings WHERE state NOT IN ('done', 'failed') ORDER BY created_at"
      ).all() as Row[]
    ).map(toTwilioRow)
  }

  // ---- contacts ----

  lookupContact(number: string): Contact | undefined {
    const key = numberKey(number)
    if (!key) return undefined
    const r = this.#stmt('SELECT * FROM contacts WHERE number = ?').get(key) as Row | undefined
    return r ? toContact(r) : undefined
  }

  /** Inserts or replaces contacts by number, in one transaction. */
  upsertContacts(contacts: readonly Contact[]): number {
    const now = new Date().toISOString()
    return this.#tx(() => {
      const stmt = this.#stmt(
        `INSERT INTO contacts (number, name, company, notes, fields_json, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (number) DO UPDATE SET name = excluded.name, company = excluded.company, notes = excluded.notes,
           fields_json = excluded.fields_json, updated_at = excluded.updated_at`
      )
      let n = 0
      for (const c of contacts) {
        const key = numberKey(c.number)
        if (!key) continue
        // The display form (with its +) lives in fields under a reserved name so the key stays digits only.
        const fields = { ...(c.fields ?? {}), '@number': c.number }
        stmt.run(key, c.name, c.company ?? null, c.notes ?? null, JSON.stringify(fields), now)
        n++
      }
      return n
    })
  }

  listContacts(limit = 500, offset = 0): Contact[] {
    return (this.#stmt('SELECT * FROM contacts ORDER BY name LIMIT ? OFFSET ?').all(limit, offset) as Row[]).map(
      toContact
    )
  }

  deleteContact(number: string): boolean {
    return Number(this.#stmt('DELETE FROM contacts WHERE number = ?').run(numberKey(number)).changes) > 0
  }

  // ---- agent profiles ----

  listProfiles(): Profile[] {
    return (this.#stmt('SELECT * FROM profiles ORDER BY name, id').all() as Row[]).map(toProfile)
  }

  getProfile(id: string): Profile | undefined {
    const r = this.#stmt('SELECT * FROM profiles WHERE id = ?').get(id) as Row | undefined
    return r ? toProfile(r) : undefined
  }

  createProfile(input: ProfileInput): Profile {
    const now = new Date().toISOString()
    const id = randomUUID()
    this.#stmt(
      'INSERT INTO profiles (id, name, mode, settings_json, amd_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'
    ).run(id, input.name, input.mode, JSON.stringify(input.settings), JSON.stringify(input.amd), now, now)
    return this.getProfile(id)!
  }

  updateProfile(id: string, input: ProfileInput): Profile {
    const r = this.#stmt(
      'UPDATE profiles SET name = ?, mode = ?, settings_json = ?, amd_json = ?, updated_at = ? WHERE id = ?'
    ).run(
      input.name,
      input.mode,
      JSON.stringify(input.settings),
      JSON.stringify(input.amd),
      new Date().toISOString(),
      id
    )
    if (Number(r.changes) === 0) throw new CallbenchError('not_found', 'No such profile')
    return this.getProfile(id)!
  }

  deleteProfile(id: string): boolean {
    return Number(this.#stmt('DELETE FROM profiles WHERE id = ?').run(id).changes) > 0
  }

  /** Commits what is queued and closes the database. */
  close(): void {
    if (this.#closed) return
    clearTimeout(this.#timer)
    try {
      this.flush()
    } finally {
      this.#closed = true
      this.db.close()
    }
  }
}

function toSummary(r: Row): CallSummary {
  const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T))
  const s: CallSummary = {
    id: r.id as string,
    direction: r.direction as CallSummary['direction'],
    mode: r.mode as CallSummary['mode'],
    state: r.state as CallSummary['state'],
    startedAt: r.started_at as string,
    turns: r.turn_count as number,
    hasRecording: r.rec_path !== null && r.rec_path !== undefined
  }
  const callSid = opt<string>(r.call_sid)
  if (callSid) s.callSid = callSid
  const from = opt<string>(r.from_number)
  if (from) s.from = from
  const to = opt<string>(r.to_number)
  if (to) s.to = to
  const endedAt = opt<string>(r.ended_at)
  if (endedAt) s.endedAt = endedAt
  const endReason = opt<string>(r.end_reason)
  if (endReason) s.endReason = endReason
  const median = opt<number>(r.median_turn_ms)
  if (median !== undefined) s.medianTurnMs = median
  const profileId = opt<string>(r.profile_id)
  if (profileId) s.profileId = profileId
  const answeredBy = opt<string>(r.answered_by)
  if (answeredBy) s.answeredBy = answeredBy
  const outcome = opt<CallSummary['outcome']>(r.outcome)
  if (outcome) s.outcome = outcome
  const durationMs = opt<number>(r.duration_ms)
  if (durationMs !== undefined) s.durationMs = durationMs
  if (r.up_state) {
    s.upload = {
      state: r.up_state as UploadState['state'],
      updatedAt: r.up_updated_at as string,
      attempts: r.up_attempts as number,
      ...(r.up_percent !== null ? { percent: r.up_percent as number } : {}),
      ...(r.up_url ? { url: r.up_url as string } : {}),
      ...(r.up_error ? { error: r.up_error as string } : {})
    }
  }
  return s
}

function toUploadRow(r: Row): UploadRow {
  return {
    callId: r.call_id as string,
    state: r.state as UploadState['state'],
    updatedAt: r.updated_at as string,
    attempts: r.attempts as number,
    ...(r.percent !== null ? { percent: r.percent as number } : {}),
    ...(r.url ? { url: r.url as string } : {}),
    ...(r.error ? { error: r.error as string } : {}),
    ...(r.key_prefix ? { keyPrefix: r.key_prefix as string } : {}),
    ...(r.multipart_json ? { multipart: JSON.parse(r.multipart_json as string) as UploadRow['multipart'] } : {})
  }
}

function toTwilioRow(r: Row): TwilioRecordingRow {
  return {
    recordingSid: r.recording_sid as string,
    callSid: r.call_sid as string,
    state: r.state as TwilioRecordingState,
    attempts: r.attempts as number,
    ...(r.call_id ? { callId: r.call_id as string } : {}),
    ...(r.local_path ? { localPath: r.local_path as string } : {}),
    ...(r.bytes !== null ? { bytes: r.bytes as number } : {}),
    ...(r.s3_key ? { s3Key: r.s3_key as string } : {}),
    ...(r.error ? { error: r.error as string } : {})
  }
}

function toContact(r: Row): Contact {
  const { '@number': display, ...fields } = r.fields_json
    ? (JSON.parse(r.fields_json as string) as Record<string, string>)
    : {}
  return {
    number: display ?? (r.number as string),
    name: r.name as string,
    ...(r.company ? { company: r.company as string } : {}),
    ...(r.notes ? { notes: r.notes as string } : {}),
    ...(Object.keys(fields).length ? { fields } : {})
  }
}

function toProfile(r: Row): Profile {
  return {
    id: r.id as string,
    name: r.name as string,
    mode: r.mode as Profile['mode'],
    settings: JSON.parse(r.settings_json as string) as Profile['settings'],
    amd: JSON.parse(r.amd_json as string) as Profile['amd'],
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string
  }
}
