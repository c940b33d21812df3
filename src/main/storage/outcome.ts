/** Derives a call's outcome (the history filter) from what the session and Twilio said about its end. */
import { CALL_OUTCOMES, type CallOutcome, type CallSummary } from '../../shared/calls.js'

/** Twilio AnsweredBy values that mean nobody human picked up (PROTOCOLS §2.4). */
export function isMachine(answeredBy: string | undefined): boolean {
  return !!answeredBy && (answeredBy.startsWith('machine') || answeredBy === 'fax')
}

export function outcomeOf(call: Pick<CallSummary, 'outcome' | 'answeredBy' | 'endReason'>): CallOutcome {
  if (call.outcome && (CALL_OUTCOMES as readonly string[]).includes(call.outcome)) return call.outcome
  if (isMachine(call.answeredBy)) return 'answering_machine'
  const reason = (call.endReason ?? '').toLowerCase()
  if (reason.includes('interrupted')) return 'interrupted'
  if (reason.includes('busy')) return 'busy'
  if (/no[-_ ]?answer/.test(reason)) return 'no_answer'
  if (reason.includes('cancel')) return 'canceled'
  if (/fail|error/.test(reason)) return 'failed'
  return 'completed'
}
