/** The call log's database as the code sees it: opened with its pragmas and migrations, and the shapes of its rows. */
import { DatabaseSync } from 'node:sqlite'
import type { UploadState } from '../../shared/calls.js'
import { migrate } from './migrations.js'

/** A row as `node:sqlite` returns it. */
export type Row = Record<string, unknown>

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

/** What a call runs with, captured at its start. */
export interface CallMeta {
  /** Effective settings (profile overrides applied). */
  settings?: Record<string, unknown>
  profileId?: string
  /** The profile as it was when the call started. */
  profile?: Record<string, unknown>
}

/** Opens (or creates) the call log at `path` and brings its schema to this build's version. */
export function openCallLogDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 5_000 })
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
  return db
}
