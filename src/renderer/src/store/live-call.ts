// What the console keeps of one live call from its events: transcript lines, turns, timeline; pure updates.
import type { TranscriptRole, TurnMetrics } from '../../../shared/calls.js'
import type { TimelineEntry } from '../../../shared/events.js'

export interface TranscriptLine {
  /** Stable React key. */
  key: number
  role: TranscriptRole
  text: string
  /** False while the line is still forming (shown greyed). */
  final: boolean
  /** Call clock, ms. */
  atMs: number
  /** The caller barged in while this agent line played (call clock, ms). */
  cutAtMs?: number
}

/** A bookmark dropped on the call (b key), call clock. */
export interface CallNote {
  atMs: number
  text: string
}

export interface LiveCallData {
  lines: TranscriptLine[]
  turns: TurnMetrics[]
  timeline: TimelineEntry[]
  notes: CallNote[]
  nextKey: number
}

/** Kept per call; a long call drops its oldest entries beyond these. */
export const MAX_LINES = 500
export const MAX_TIMELINE = 1000

export function emptyLiveCall(): LiveCallData {
  return { lines: [], turns: [], timeline: [], notes: [], nextKey: 1 }
}

export interface TranscriptUpdate {
  role: TranscriptRole
  text: string
  final: boolean
  atMs: number
  correction?: boolean | undefined
}

/**
 * Partial lines carry the text so far and replace the role's forming line; a final line settles it;
 * a correction replaces the role's last settled line (what the caller actually heard after a barge-in).
 */
export function applyTranscript(data: LiveCallData, u: TranscriptUpdate): LiveCallData {
  const lines = data.lines.slice()
  const forming = findLast(lines, (l) => l.role === u.role && !l.final)
  if (u.correction) {
    const settled = findLast(lines, (l) => l.role === u.role && l.final)
    if (settled >= 0) {
      lines[settled] = { ...lines[settled]!, text: u.text }
      return { ...data, lines }
    }
  }
  if (forming >= 0) {
    lines[forming] = { ...lines[forming]!, text: u.text, final: u.final }
    return { ...data, lines }
  }
  if (!u.text) return data
  lines.push({ key: data.nextKey, role: u.role, text: u.text, final: u.final, atMs: u.atMs })
  return { ...data, lines: trim(lines, MAX_LINES), nextKey: data.nextKey + 1 }
}

/** Timeline entries; a barge-in that cleared the agent marks the agent line it cut. */
export function applyTimeline(data: LiveCallData, entry: TimelineEntry): LiveCallData {
  const timeline = trim([...data.timeline, entry], MAX_TIMELINE)
  const cut =
    entry.kind === 'clear'
      ? entry.data?.reason === 'barge_in'
      : entry.kind === 'barge_in' && entry.data?.playing === true
  if (!cut) return { ...data, timeline }
  const idx = findLast(data.lines, (l) => l.role === 'agent')
  if (idx < 0 || data.lines[idx]!.cutAtMs !== undefined) return { ...data, timeline }
  const lines = data.lines.slice()
  lines[idx] = { ...lines[idx]!, cutAtMs: entry.atMs }
  return { ...data, timeline, lines }
}

export function applyTurn(data: LiveCallData, metrics: TurnMetrics): LiveCallData {
  return { ...data, turns: [...data.turns, metrics] }
}

export function addNote(data: LiveCallData, note: CallNote): LiveCallData {
  return { ...data, notes: [...data.notes, note] }
}

function findLast<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i
  return -1
}

function trim<T>(items: T[], max: number): T[] {
  return items.length > max ? items.slice(items.length - max) : items
}
