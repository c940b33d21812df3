// The history filters as the form holds them → the GET /api/calls query (dates in the user's time zone).
import type { CallListQuery } from '../../../../shared/api.js'
import type { CallOutcome } from '../../../../shared/calls.js'
import type { AgentMode } from '../../../../shared/modes.js'
import { zonedToUtcIso } from '../../../../shared/time-format.js'

export interface HistoryFilters {
  /** Words that must occur in the transcript. */
  q: string
  /** Digits of either party. */
  number: string
  direction: '' | 'inbound' | 'outbound' | 'loopback'
  mode: '' | AgentMode
  outcome: '' | CallOutcome
  /** `YYYY-MM-DD` in the user's zone, inclusive. */
  fromDate: string
  /** `YYYY-MM-DD` in the user's zone, inclusive. */
  toDate: string
}

export const EMPTY_FILTERS: HistoryFilters = {
  q: '',
  number: '',
  direction: '',
  mode: '',
  outcome: '',
  fromDate: '',
  toDate: ''
}

export function toQuery(f: HistoryFilters, page: number, pageSize: number, timeZone: string): CallListQuery {
  const q: CallListQuery = { page, pageSize }
  if (f.q.trim()) q.q = f.q.trim()
  const digits = f.number.replace(/\D/g, '')
  if (digits) q.number = digits
  if (f.direction) q.direction = f.direction
  if (f.mode) q.mode = f.mode
  if (f.outcome) q.outcome = f.outcome
  const zone = timeZone || undefined
  if (f.fromDate) q.from = zonedToUtcIso(f.fromDate, '00:00:00', zone)
  if (f.toDate) q.to = zonedToUtcIso(nextDay(f.toDate), '00:00:00', zone)
  return q
}

/** `2026-03-14` → `2026-03-15` (calendar arithmetic, no zone involved). */
export function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)
}
