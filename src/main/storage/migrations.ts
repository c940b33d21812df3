/** Versioned schema of the call log: migration N brings `PRAGMA user_version` from N-1 to N, in one transaction. */
import type { DatabaseSync } from 'node:sqlite'
import { CallbenchError } from '../../shared/errors.js'

/** Times are ISO 8601 UTC text, with `*_ms` epoch copies where the history filters and sorts on them. */
const MIGRATIONS: readonly string[] = [
  // 1: the whole first schema.
  `
  CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    call_sid TEXT,
    direction TEXT NOT NULL,
    from_number TEXT,
    to_number TEXT,
    from_digits TEXT NOT NULL DEFAULT '',
    to_digits TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL,
    profile_id TEXT,
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    ended_at TEXT,
    duration_ms INTEGER,
    end_reason TEXT,
    outcome TEXT,
    answered_by TEXT,
    turn_count INTEGER NOT NULL DEFAULT 0,
    median_turn_ms REAL,
    settings_json TEXT,
    profile_json TEXT
  );
  CREATE INDEX calls_started ON calls (started_at_ms DESC, id DESC);
  CREATE INDEX calls_call_sid ON calls (call_sid);
  CREATE INDEX calls_open ON calls (state) WHERE state <> 'ended';

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at_ms REAL NOT NULL,
    kind TEXT NOT NULL,
    data_json TEXT
  );
  CREATE INDEX events_call ON events (call_id, id);

  CREATE TABLE turns (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    turn INTEGER NOT NULL,
    caller_stopped_at_ms REAL,
    first_audio_out_at_ms REAL,
    total_ms REAL,
    metrics_json TEXT NOT NULL,
    PRIMARY KEY (call_id, turn)
  ) WITHOUT ROWID;

  CREATE TABLE transcript (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at_ms REAL NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    correction INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX transcript_call ON transcript (call_id, id);

  CREATE VIRTUAL TABLE transcript_fts USING fts5 (
    text, content = 'transcript', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER transcript_ai AFTER INSERT ON transcript BEGIN
    INSERT INTO transcript_fts (rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER transcript_ad AFTER DELETE ON transcript BEGIN
    INSERT INTO transcript_fts (transcript_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TRIGGER transcript_au AFTER UPDATE ON transcript BEGIN
    INSERT INTO transcript_fts (transcript_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO transcript_fts (rowid, text) VALUES (new.id, new.text);
  END;

  -- No foreign key: the recorder opens its file before the call's first event is committed.
  CREATE TABLE recordings (
    call_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    state TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    duration_ms REAL NOT NULL DEFAULT 0,
    channels INTEGER NOT NULL,
    sample_rate_hz INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE uploads (
    call_id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    percent REAL,
    url TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    key_prefix TEXT,
    multipart_json TEXT,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE twilio_recordings (
    recording_sid TEXT PRIMARY KEY,
    call_sid TEXT NOT NULL,
    call_id TEXT,
    state TEXT NOT NULL,
    local_path TEXT,
    bytes INTEGER,
    s3_key TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE contacts (
    number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    company TEXT,
    notes TEXT,
    fields_json TEXT,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    amd_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: a call's marks, written at its end as one row (event-batch.ts) rather than an events row each.
  `
  CREATE TABLE event_batches (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    -- The call's last events row when the batch was written: at equal at_ms its entries sort after that row.
    after_event_id INTEGER NOT NULL,
    last_at_ms REAL NOT NULL,
    entries_json TEXT NOT NULL
  );
  CREATE INDEX event_batches_call ON event_batches (call_id, id);
  `
]

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Brings the database to SCHEMA_VERSION (or to the earlier version `to`: a database as an older build left it, for the
 * tests of its upgrade). A database from a newer build is refused, never downgraded.
 */
export function migrate(db: DatabaseSync, to = SCHEMA_VERSION): number {
  const current = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)
  if (current > SCHEMA_VERSION) {
    throw new CallbenchError('unsupported', `Call log schema v${current} is newer than this build (v${SCHEMA_VERSION})`)
  }
  const target = Math.min(to, SCHEMA_VERSION)
  for (let v = current; v < target; v++) {
    db.exec('BEGIN IMMEDIATE')
    try {
      db.exec(MIGRATIONS[v]!)
      // PRAGMA takes no bound parameters; v is our own integer.
      db.exec(`PRAGMA user_version = ${v + 1}`)
      db.exec('COMMIT')
    } catch (err) {
      db.exec('ROLLBACK')
      throw new CallbenchError('internal', `Call log migration to v${v + 1} failed`, { cause: err })
    }
  }
  return Math.max(current, target)
}
