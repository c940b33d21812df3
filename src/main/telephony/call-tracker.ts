/** Twilio's view of each call we placed or answered: status by callback, AMD result, per-call stream token. */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AmdOverride, CallAmd, CallOutcome, CallState, CallSummary, TwilioCallStatus } from '../../shared/calls.js'
import { TWILIO_CALL_STATUSES } from '../../shared/calls.js'
import type { AgentMode } from '../../shared/modes.js'
import type { AmdPolicy, ProfileSettings } from '../../shared/profiles.js'

export interface TrackedCall {
  id: string
  callSid?: string
  direction: 'inbound' | 'outbound'
  from?: string
  to?: string
  mode: AgentMode
  /** The mode asked for explicitly (else the profile's or the default decides when the engine is built). */
  requestedMode?: AgentMode
  profileId?: string
  overrides?: ProfileSettings
  status: TwilioCallStatus
  /** Highest SequenceNumber seen on status callbacks. */
  sequence: number
  answeredBy?: string
  amd?: AmdPolicy
  /** Twilio MachineDetection the call was placed with (AMD on). */
  machineDetection?: CallAmd['detection']
  /** The AMD verdict's timing and what was done about it, for the summary. */
  amdResult?: Omit<CallAmd, 'detection' | 'answeredBy' | 'override'>
  /** The operator's override of the verdict. */
  amdOverride?: AmdOverride
  record: boolean
  metadata: Record<string, string>
  customer?: Record<string, string>
  createdAt: Date
  endedAt?: Date
  durationS?: number
  /** Random per call, sent in the TwiML `<Parameter>`s and checked on the stream's `start`. */
  streamToken: string
  streamClaimed: boolean
  /** call.started went out (outbound: once Twilio accepted the call). */
  published: boolean
}

const TERMINAL: ReadonlySet<TwilioCallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled'])
const RANK: Record<TwilioCallStatus, number> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 4,
  'no-answer': 4,
  failed: 4,
  canceled: 4
}
/** Ended calls kept for status queries and late callbacks. */
const MAX_TRACKED = 1000

export function isTerminal(status: TwilioCallStatus): boolean {
  return TERMINAL.has(status)
}

export function parseStatus(value: string | undefined): TwilioCallStatus | undefined {
  return (TWILIO_CALL_STATUSES as readonly string[]).includes(value ?? '') ? (value as TwilioCallStatus) : undefined
}

export function stateOf(status: TwilioCallStatus): CallState {
  if (status === 'queued' || status === 'initiated') return 'connecting'
  if (status === 'ringing') return 'ringing'
  if (status === 'in-progress') return 'active'
  return 'ended'
}

function isMachine(answeredBy: string | undefined): boolean {
  return !!answeredBy && (answeredBy.startsWith('machine') || answeredBy === 'fax')
}

export function outcomeOf(call: Pick<TrackedCall, 'status' | 'answeredBy' | 'amdOverride'>): CallOutcome | undefined {
  switch (call.status) {
    case 'completed': {
      // The operator's word wins over the verdict; hanging up says nothing about who answered.
      const machine =
        call.amdOverride === 'human' ? false : call.amdOverride === 'voicemail' ? true : isMachine(call.answeredBy)
      return machine ? 'answering_machine' : 'completed'
    }
    case 'busy':
      return 'busy'
    case 'no-answer':
      return 'no_answer'
    case 'canceled':
      return 'canceled'
    case 'failed':
      return 'failed'
    default:
      return undefined
  }
}

export function newStreamToken(): string {
  return randomBytes(18).toString('base64url')
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export class CallTracker {
  readonly #byId = new Map<string, TrackedCall>()
  readonly #bySid = new Map<string, TrackedCall>()

  add(call: TrackedCall): TrackedCall {
    this.#byId.set(call.id, call)
    if (call.callSid) this.#bySid.set(call.callSid, call)
    if (this.#byId.size > MAX_TRACKED) this.#prune()
    return call
  }

  setSid(call: TrackedCall, callSid: string): void {
    call.callSid = callSid
    this.#bySid.set(callSid, call)
  }

  remove(call: TrackedCall): void {
    this.#byId.delete(call.id)
    if (call.callSid) this.#bySid.delete(call.callSid)
  }

  get(id: string): TrackedCall | undefined {
    return this.#byId.get(id)
  }

  bySid(callSid: string): TrackedCall | undefined {
    return this.#bySid.get(callSid)
  }

  /** By our id or Twilio's CA sid. */
  find(idOrSid: string): TrackedCall | undefined {
    return this.#byId.get(idOrSid) ?? this.#bySid.get(idOrSid)
  }

  list(): TrackedCall[] {
    return [...this.#byId.values()]
  }

  /**
   * Applies a status from a callback. Callbacks can arrive out of order: a lower SequenceNumber, or a status that
   * would move the call backwards, is ignored. Answers whether anything changed.
   */
  applyStatus(call: TrackedCall, status: TwilioCallStatus, sequence: number | undefined): boolean {
    if (sequence !== undefined && sequence < call.sequence) return false
    if (isTerminal(call.status)) return false
    if (RANK[status] < RANK[call.status]) return false
    if (sequence !== undefined) call.sequence = sequence
    if (status === call.status) return false
    call.status = status
    if (isTerminal(status)) call.endedAt = new Date()
    return true
  }

  #prune(): void {
    for (const call of this.#byId.values()) {
      if (this.#byId.size <= MAX_TRACKED * 0.9) break
      if (isTerminal(call.status)) this.remove(call)
    }
  }
}

/** The call summary telephony publishes: the live session's (turns, end reason) with Twilio's facts on top. */
export function summaryOf(call: TrackedCall, session: CallSummary | undefined): CallSummary {
  const terminal = isTerminal(call.status)
  const outcome = outcomeOf(call)
  const base: CallSummary = session ?? {
    id: call.id,
    direction: call.direction,
    mode: call.mode,
    state: stateOf(call.status),
    startedAt: call.createdAt.toISOString()
  }
  const state: CallState = terminal ? 'ended' : session ? session.state : stateOf(call.status)
  return {
    ...base,
    id: call.id,
    direction: call.direction,
    ...(call.callSid ? { callSid: call.callSid } : {}),
    ...(call.from ? { from: call.from } : {}),
    ...(call.to ? { to: call.to } : {}),
    ...(call.profileId ? { profileId: call.profileId } : {}),
    ...(call.answeredBy ? { answeredBy: call.answeredBy } : {}),
    ...(call.machineDetection
      ? {
          amd: {
            detection: call.machineDetection,
            ...(call.answeredBy ? { answeredBy: call.answeredBy } : {}),
            ...call.amdResult,
            ...(call.amdOverride ? { override: call.amdOverride } : {})
          }
        }
      : {}),
    twilioStatus: call.status,
    state,
    ...(terminal && call.endedAt && !base.endedAt ? { endedAt: call.endedAt.toISOString() } : {}),
    ...(terminal && !base.endReason ? { endReason: call.status } : {}),
    ...(call.durationS !== undefined ? { durationMs: call.durationS * 1000 } : {}),
    ...(outcome ? { outcome } : {})
  }
}
