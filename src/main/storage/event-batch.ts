/**
 * A call's marks (`mark.sent`, `mark.played`, `mark.cleared`: hundreds a call-minute, kept in memory while it runs) as
 * one `event_batches` row written at its end: one JSON.stringify and one INSERT, where an `events` row each was a
 * measurable share of the bridge's CPU at a few hundred calls. Reads merge the entries back where those rows would
 * have sorted.
 */
import type { TimelineEntry } from '../../shared/events.js'

/**
 * The stored form: one array per field. Cheaper to write and to parse than an object or a tuple per entry (measured
 * on marks); `data` is null where the entry has none.
 */
interface BatchColumns {
  atMs: number[]
  kind: string[]
  data: Array<Record<string, unknown> | null>
}

/** An `events` row as the reads map it, with the id that orders rows of equal at_ms. */
export interface EventRow {
  id: number
  entry: TimelineEntry
}

/** An `event_batches` row as the reads see it. */
export interface StoredBatch {
  /** The call's last `events` row when the batch was written (0 when it had none). */
  afterEventId: number
  entries: TimelineEntry[]
}

/** What the `event_batches` row stores: the entries, and the latest at_ms (the call's last activity after a crash). */
export function encodeEventBatch(entries: readonly TimelineEntry[]): { json: string; lastAtMs: number } {
  const n = entries.length
  const cols: BatchColumns = { atMs: new Array<number>(n), kind: new Array<string>(n), data: new Array(n) }
  let lastAtMs = -Infinity
  for (let i = 0; i < n; i++) {
    const e = entries[i]!
    cols.atMs[i] = e.atMs
    cols.kind[i] = e.kind
    cols.data[i] = e.data ?? null
    if (e.atMs > lastAtMs) lastAtMs = e.atMs
  }
  return { json: JSON.stringify(cols), lastAtMs }
}

export function decodeEventBatch(json: string): TimelineEntry[] {
  const cols = JSON.parse(json) as BatchColumns
  const n = cols.atMs.length
  const out = new Array<TimelineEntry>(n)
  for (let i = 0; i < n; i++) {
    const data = cols.data[i]
    out[i] = data ? { atMs: cols.atMs[i]!, kind: cols.kind[i]!, data } : { atMs: cols.atMs[i]!, kind: cols.kind[i]! }
  }
  return out
}

/**
 * A call's timeline: its `events` rows (in at_ms, id order) with its batches merged in, in at_ms order. At equal at_ms
 * a batch's entries come after the rows up to its `afterEventId` and before later ones (notes added after the call),
 * as rows inserted when it was written would have; entries of one batch at equal at_ms keep their order.
 */
export function mergeEventBatches(rows: readonly EventRow[], batches: readonly StoredBatch[]): TimelineEntry[] {
  if (batches.length === 0) return rows.map((r) => r.entry)
  const marks = batches.flatMap((b) => b.entries.map((entry) => ({ entry, after: b.afterEventId })))
  // Array sort is stable, and linear on entries already in time order (one batch, recorded on one clock).
  marks.sort((a, b) => a.entry.atMs - b.entry.atMs || a.after - b.after)
  const out: TimelineEntry[] = []
  let i = 0
  let j = 0
  while (i < rows.length && j < marks.length) {
    const row = rows[i]!
    const mark = marks[j]!
    const rowFirst = row.entry.atMs < mark.entry.atMs || (row.entry.atMs === mark.entry.atMs && row.id <= mark.after)
    if (rowFirst) {
      out.push(row.entry)
      i++
    } else {
      out.push(mark.entry)
      j++
    }
  }
  for (; i < rows.length; i++) out.push(rows[i]!.entry)
  for (; j < marks.length; j++) out.push(marks[j]!.entry)
  return out
}
