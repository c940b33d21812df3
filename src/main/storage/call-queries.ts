/** Reads of the call log: history pages, a call's detail, recovery lists, contacts and profiles, rows mapped to our types. */
import type { StatementSync } from 'node:sqlite'
import type { CallList } from '../../shared/api.js'
import type { CallSummary, TurnMetrics, UploadState } from '../../shared/calls.js'
import type { TimelineEntry } from '../../shared/events.js'
import type { Profile } from '../../shared/profiles.js'
import type { CallListFilter, Contact, TranscriptSegment } from '../../shared/records.js'
import type { RecordingRow, Row, TwilioRecordingRow, TwilioRecordingState, UploadRow } from './call-store-schema.js'
import { numberKey } from './contacts-csv.js'
import { decodeEventBatch, mergeEventBatches, type EventRow, type StoredBatch } from './event-batch.js'
import { buildHistoryWhere } from './history-query.js'

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

const SUMMARY_COLUMNS = `c.*, r.path AS rec_path, u.state AS up_state, u.percent AS up_percent, u.url AS up_url,
  u.error AS up_error, u.attempts AS up_attempts, u.updated_at AS up_updated_at`
const SUMMARY_JOINS = 'LEFT JOIN recordings r ON r.call_id = c.id LEFT JOIN uploads u ON u.call_id = c.id'

/** Runs the reads on statements the store prepares (and caches). Sees only what has been committed. */
export class CallQueries {
  readonly #stmt: (sql: string) => StatementSync

  constructor(stmt: (sql: string) => StatementSync) {
    this.#stmt = stmt
  }

  listCalls(filter: CallListFilter): CallList {
    const { where, params } = buildHistoryWhere(filter)
    const total = Number((this.#stmt(`SELECT COUNT(*) AS n FROM calls c ${where}`).get(...params) as Row).n)
    const rows = this.#stmt(
      `SELECT ${SUMMARY_COLUMNS} FROM calls c ${SUMMARY_JOINS} ${where} ORDER BY c.started_at_ms DESC, c.id DESC LIMIT ? OFFSET ?`
    ).all(...params, filter.pageSize, (filter.page - 1) * filter.pageSize) as Row[]
    return { calls: rows.map(toSummary), total, page: filter.page, pageSize: filter.pageSize }
  }

  getCallSummary(id: string): CallSummary | undefined {
    const row = this.#stmt(`SELECT ${SUMMARY_COLUMNS} FROM calls c ${SUMMARY_JOINS} WHERE c.id = ?`).get(id) as
      Row | undefined
    return row ? toSummary(row) : undefined
  }

  /** The call with the given Twilio CallSid, most recent first. */
  findByCallSid(callSid: string): CallSummary | undefined {
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
    const rows = (
      this.#stmt('SELECT id, at_ms, kind, data_json FROM events WHERE call_id = ? ORDER BY at_ms, id').all(id) as Row[]
    ).map((r): EventRow => ({
      id: r.id as number,
      entry: {
        atMs: r.at_ms as number,
        kind: r.kind as string,
        ...(r.data_json ? { data: JSON.parse(r.data_json as string) as Record<string, unknown> } : {})
      }
    }))
    const batches = (
      this.#stmt('SELECT after_event_id, entries_json FROM event_batches WHERE call_id = ? ORDER BY id').all(
        id
      ) as Row[]
    ).map((r): StoredBatch => ({
      afterEventId: r.after_event_id as number,
      entries: decodeEventBatch(r.entries_json as string)
    }))
    const events = mergeEventBatches(rows, batches)
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
    return (
      this.#stmt('SELECT at_ms, role, text, correction FROM transcript WHERE call_id = ? ORDER BY id').all(id) as Row[]
    ).map((r): TranscriptSegment => ({
      atMs: r.at_ms as number,
      role: r.role as TranscriptSegment['role'],
      text: r.text as string,
      ...(r.correction ? { correction: true } : {})
    }))
  }

  /** Calls a crash left open (no end written). */
  openCalls(): Array<{ id: string; startedAtMs: number; lastEventAtMs: number }> {
    // A call's marks are queued just before its end, but a burst may commit them first: they count as activity too.
    return (
      this.#stmt(
        `SELECT c.id, c.started_at_ms, (SELECT MAX(at_ms) FROM (
           SELECT at_ms FROM events e WHERE e.call_id = c.id
           UNION ALL SELECT last_at_ms FROM event_batches b WHERE b.call_id = c.id)) AS last_ms
         FROM calls c WHERE c.state <> 'ended'`
      ).all() as Row[]
    ).map((r) => ({
      id: r.id as string,
      startedAtMs: r.started_at_ms as number,
      lastEventAtMs: (r.last_ms as number | null) ?? 0
    }))
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

  lookupContact(number: string): Contact | undefined {
    const key = numberKey(number)
    if (!key) return undefined
    const r = this.#stmt('SELECT * FROM contacts WHERE number = ?').get(key) as Row | undefined
    return r ? toContact(r) : undefined
  }

  listContacts(limit: number, offset: number): Contact[] {
    return (this.#stmt('SELECT * FROM contacts ORDER BY name LIMIT ? OFFSET ?').all(limit, offset) as Row[]).map(
      toContact
    )
  }

  listProfiles(): Profile[] {
    return (this.#stmt('SELECT * FROM profiles ORDER BY name, id').all() as Row[]).map(toProfile)
  }

  getProfile(id: string): Profile | undefined {
    const r = this.#stmt('SELECT * FROM profiles WHERE id = ?').get(id) as Row | undefined
    return r ? toProfile(r) : undefined
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
