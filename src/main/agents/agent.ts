/** The contract every agent engine implements; CallSession knows nothing engine-specific. */
import { EventEmitter } from 'node:events'
import type { AudioFormat } from '../audio/format.js'
import type { AgentMode } from '../../shared/modes.js'
import type { TranscriptRole, TurnMetrics } from '../../shared/calls.js'
import type { CallbenchError } from '../../shared/errors.js'

/** What an agent knows about the call it serves. */
export interface CallContext {
  callId: string
  callSid?: string
  streamSid?: string
  direction: 'inbound' | 'outbound' | 'loopback'
  from?: string
  to?: string
  mode: AgentMode
  customParameters: Record<string, string>
  /** Customer context from the inbound lookup (name, tags, notes…), if any. */
  customer?: Record<string, string>
  /** Milliseconds since the call started (the call's one clock). */
  clock: () => number
}

/** What an engine can do; CallSession branches on these, never on the mode. */
export interface AgentCapabilities {
  /** The engine detects caller speech itself (server VAD) and emits `interrupt`. */
  readonly ownsTurnDetection: boolean
  /** `say()` speaks arbitrary text in the agent's own voice. */
  readonly canSay: boolean
  /** Wants `played()` updates (to truncate at the heard position). */
  readonly wantsPlayback: boolean
}

export interface TranscriptEvent {
  role: TranscriptRole
  text: string
  final: boolean
  /** Replaces the last agent line (ElevenLabs correction after a barge-in). */
  correction?: boolean
}

export interface AgentEvents {
  /**
   * Agent speech, in `output` format. `replyId` names the reply it belongs to (e.g. the OpenAI item id):
   * `played()` reports positions per reply, and audio of a reply cut by a barge-in is dropped.
   */
  audio: [chunk: Uint8Array, replyId?: string]
  /** The current reply's audio is complete (the bridge flushes its partial frame). */
  audioEnd: [replyId?: string]
  /** The engine saw the caller start speaking over it: clear what is queued. */
  interrupt: []
  transcript: [TranscriptEvent]
  turn: [Partial<TurnMetrics>]
  /** A named engine event for the call's timeline. */
  event: [name: string, data?: Record<string, unknown>]
  /** Something went wrong but the call goes on. */
  error: [CallbenchError]
  /** The engine cannot go on: the bridge plays the apology prompt and ends the call with this reason. */
  failed: [CallbenchError]
  /** End the call once what was sent has played (a goodbye, the end_call tool). */
  hangup: [reason: string]
}

/** Every event an agent emits, for code that forwards or records them all. */
export const AGENT_EVENT_NAMES: ReadonlyArray<keyof AgentEvents> = [
  'audio',
  'audioEnd',
  'interrupt',
  'transcript',
  'turn',
  'event',
  'error',
  'failed',
  'hangup'
]

export interface Agent extends EventEmitter<AgentEvents> {
  readonly input: AudioFormat
  readonly output: AudioFormat
  readonly capabilities: AgentCapabilities
  start(call: CallContext): Promise<void>
  /** Caller audio, already in `input` format. */
  pushAudio(chunk: Uint8Array): void
  /** Milliseconds of reply `replyId` the caller has actually heard (from echoed marks). */
  played(ms: number, replyId?: string): void
  /**
   * Twilio returned the first mark a barge-in `clear` dropped, `roundTripMs` after the clear was sent: the time
   * a mark's echo took to come back plus the clear's own trip, by which the caller heard more than the last echo
   * said. Not called when nothing was pending.
   */
  cleared?(roundTripMs: number): void
  /** Operator-injected speech. */
  say(text: string): Promise<void>
  /** Stop the agent's current speech. */
  cancel(): void
  /** Background information for the engine from the console (`context` command), when it takes any. */
  sendContext?(text: string): void
  close(): Promise<void>
}
