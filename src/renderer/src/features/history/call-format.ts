// How a call reads in the history: the other party, duration, outcome, direction.
import type { CallSummary } from '../../../../shared/calls.js'
import { formatDurationMs } from '../../../../shared/time-format.js'

export const OUTCOME_LABELS = {
  completed: 'Completed',
  answering_machine: 'Answering machine',
  no_answer: 'No answer',
  busy: 'Busy',
  canceled: 'Canceled',
  failed: 'Failed',
  interrupted: 'Interrupted'
} as const

export const DIRECTION_LABELS = { inbound: 'Inbound', outbound: 'Outbound', loopback: 'Loopback' } as const

/** The number that is not ours: the caller of an inbound call, the callee of an outbound one. */
export function otherParty(call: CallSummary): string {
  if (call.direction === 'loopback') return 'This window'
  const n = call.direction === 'inbound' ? call.from : call.to
  return n?.replace(/^client:/, 'App: ') ?? '—'
}

export function durationMsOf(call: CallSummary): number | undefined {
  if (call.durationMs !== undefined) return call.durationMs
  if (call.endedAt) return Date.parse(call.endedAt) - Date.parse(call.startedAt)
  return undefined
}

export function formatDuration(call: CallSummary): string {
  const ms = durationMsOf(call)
  return ms === undefined ? (call.state === 'ended' ? '—' : 'live') : formatDurationMs(ms)
}

export function outcomeLabel(call: CallSummary): string {
  if (call.outcome) return OUTCOME_LABELS[call.outcome]
  return call.state === 'ended' ? '—' : 'In progress'
}
