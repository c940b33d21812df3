/** The call log in SQLite (node:sqlite, WAL): the one module that writes it. Live-call writes are queued and batched. */
import { randomUUID } from 'node:crypto'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { CallList } from '../../shared/api.js'
import type { CallSummary, TurnMetrics } from '../../shared/calls.js'
import { CallbenchError } from '../../shared/errors.js'
import type { TimelineEntry } from '../../shared/events.js'
import type { Profile, ProfileInput } from '../../shared/profiles.js'
import type { CallListFilter, Contact, TranscriptSegment } from '../../shared/records.js'
import type { Logger } from '../log.js'
import { CallQueries, type CallRecord } from './call-queries.js'
import {
  openCallLogDatabase,
  type CallMeta,
  type RecordingRow,
  type Row,
  type TwilioRecordingRow,
  type UploadRow
} from './call-store-schema.js'
import { numberKey } from './contacts-csv.js'
import { encodeEventBatch } from './event-batch.js'
import { digitsOf } from './history-query.js'
import { outcomeOf } from './outcome.js'
import { WriteQueue } from './write-queue.js'

export type { CallRecord } from './call-queries.js'
export type {
  CallMeta,
  RecordingRow,
  TwilioRecordingRow,
  TwilioRecordingState,
  UploadRow
} from './call-store-schema.js'

export interface CallStoreOptions {
  /** Database file; `:memory:` for tests that need no file. */
  path: string
  /** Queued live-call writes are committed this often, in one transaction. Default 200 ms. */
  flushIntervalMs?: number
  log?: Logger
}

type Op =
  | { t: 'call'; call: CallSummary }
  | { t: 'end'; call: CallSummary }
  | { t: 'event'; callId: string; entry: TimelineEntry }
  | { t: 'events'; callId: string; entries: TimelineEntry[] }
  | { t: 'transcript'; callId: string; seg: TranscriptSegment }
  | { t: 'turn'; callId: string; metrics: TurnMetrics }
  | { t: 'meta'; callId: string; meta: CallMeta }
  | { t: 'answered'; callId: string; answeredBy: string }

export class CallStore {
  readonly db: DatabaseSync
  readonly #log: Logger | undefined
  readonly #stmts = new Map<string, StatementSync>()
  readonly #writes: WriteQueue<Op>
  readonly #queries: CallQueries
  #closed = false
  #failedWrites = 0

  private constructor(db: DatabaseSync, opts: CallStoreOptions) {
    this.db = db
    this.#log = opts.log
    this.#writes = new WriteQueue<Op>({
      intervalMs: opts.flushIntervalMs ?? 200,
      commit: (ops) => this.#commit(ops),
      canCommit: () => this.db.isOpen,
      // A call's marks are one op but hundreds of entries to encode: they count as such against a commit's size.
      weight: (op) => (op.t === 'events' ? op.entries.length : 1)
    })
    this.#queries = new CallQueries((sql) => this.#stmt(sql))
  }

  static open(opts: CallStoreOptions): CallStore {
    return new CallStore(openCallLogDatabase(opts.path), opts)
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
    this.#writes.push({ t: 'call', call })
  }

  /** call.ended: the call row's end state. Committed with everything queued before it, at the next flush. */
  queueEnd(call: CallSummary): void {
    this.#writes.push({ t: 'end', call }, true)
  }

  queueEvent(callId: string, entry: TimelineEntry): void {
    this.#writes.push({ t: 'event', callId, entry })
  }

  /**
   * Timeline entries kept in memory while the call ran (marks), at its end: one row for them all. They read back
   * with the call's events as if each had been queued with `queueEvent` now.
   */
  queueEventBatch(callId: string, entries: readonly TimelineEntry[]): void {
    if (entries.length === 0) return
    // A copy: the op is written at a later flush.
    this.#writes.push({ t: 'events', callId, entries: entries.slice() })
  }

  queueTranscript(callId: string, seg: TranscriptSegment): void {
    this.#writes.push({ t: 'transcript', callId, seg })
  }

  queueTurn(callId: string, metrics: TurnMetrics): void {
    this.#writes.push({ t: 'turn', callId, metrics })
  }

  /** The settings snapshot and profile a call runs with (from its `call.start` timeline entry). */
  queueMeta(callId: string, meta: CallMeta): void {
    this.#writes.push({ t: 'meta', callId, meta })
  }

  /** Twilio's answering-machine verdict (AnsweredBy). */
  queueAnsweredBy(callId: string, answeredBy: string): void {
    this.#writes.push({ t: 'answered', callId, answeredBy })
  }

  /** Commits every queued write in one transaction. Reads call it first, so they always see what was published. */
  flush(): void {
    this.#writes.flush()
  }

  #commit(ops: Op[]): void {
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
      case 'events': {
        // The ops before this one are in: the call's last events row now is the one the batch's entries follow.
        const last = this.#stmt('SELECT MAX(id) AS id FROM events WHERE call_id = ?').get(op.callId) as Row
        const batch = encodeEventBatch(op.entries)
        this.#stmt(
          'INSERT INTO event_batches (call_id, after_event_id, last_at_ms, entries_json) VALUES (?, ?, ?, ?)'
        ).run(op.callId, (last.id as number | null) ?? 0, batch.lastAtMs, batch.json)
        break
      }
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

  // ---- history and detail (reads see every write published before them) ----

  listCalls(filter: CallListFilter): CallList {
    this.flush()
    return this.#queries.listCalls(filter)
  }

  getCallSummary(id: string): CallSummary | undefined {
    this.flush()
    return this.#queries.getCallSummary(id)
  }

  /** The call with the given Twilio CallSid, most recent first. */
  findByCallSid(callSid: string): CallSummary | undefined {
    this.flush()
    return this.#queries.findByCallSid(callSid)
  }

  getCall(id: string): CallRecord | undefined {
    this.flush()
    return this.#queries.getCall(id)
  }

  getTranscript(id: string): TranscriptSegment[] {
    this.flush()
    return this.#queries.getTranscript(id)
  }

  /** Calls a crash left open (no end written): to be marked interrupted at startup. */
  openCalls(): Array<{ id: string; startedAtMs: number; lastEventAtMs: number }> {
    this.flush()
    return this.#queries.openCalls()
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

  /** Removes the call and all that hangs off it (events and their batches, turns, transcript, recording and upload). */
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
    return this.#queries.getRecording(callId)
  }

  /** Recordings still marked as being written (a crash left them open). */
  openRecordings(): RecordingRow[] {
    return this.#queries.openRecordings()
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
    return this.#queries.getUpload(callId)
  }

  /** Uploads a restart must take up again: queued, cut off while uploading, or failed on a retryable error. */
  pendingUploads(): UploadRow[] {
    return this.#queries.pendingUploads()
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
    return this.#queries.getTwilioRecording(recordingSid)
  }

  twilioRecordingsOf(callId: string): TwilioRecordingRow[] {
    return this.#queries.twilioRecordingsOf(callId)
  }

  pendingTwilioRecordings(): TwilioRecordingRow[] {
    return this.#queries.pendingTwilioRecordings()
  }

  // ---- contacts ----

  lookupContact(number: string): Contact | undefined {
    return this.#queries.lookupContact(number)
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
    return this.#queries.listContacts(limit, offset)
  }

  deleteContact(number: string): boolean {
    return Number(this.#stmt('DELETE FROM contacts WHERE number = ?').run(numberKey(number)).changes) > 0
  }

  // ---- agent profiles ----

  listProfiles(): Profile[] {
    return this.#queries.listProfiles()
  }

  getProfile(id: string): Profile | undefined {
    return this.#queries.getProfile(id)
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
    this.#writes.close()
    try {
      this.flush()
    } finally {
      this.#closed = true
      this.db.close()
    }
  }
}
