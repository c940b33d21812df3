/** Call-level types shared by the core, the events stream and the console. */
import { z } from 'zod'
import { AGENT_MODES } from './modes.js'

export const CALL_STATES = ['connecting', 'ringing', 'active', 'ending', 'ended'] as const
export type CallState = (typeof CALL_STATES)[number]

export const TranscriptRoleSchema = z.enum(['caller', 'agent', 'operator'])
export type TranscriptRole = z.infer<typeof TranscriptRoleSchema>

/** Latency parts of one agent turn, in ms; times are on the call's clock (ms since call start). */
export const TurnMetricsSchema = z.object({
  turn: z.number().int(),
  /** When the caller stopped speaking (call clock, ms). */
  callerStoppedAtMs: z.number().optional(),
  /** When end of turn was decided (call clock, ms). */
  endOfTurnAtMs: z.number().optional(),
  /** When the first agent audio frame left for Twilio (call clock, ms). */
  firstAudioOutAtMs: z.number().optional(),
  endOfSpeechWaitMs: z.number().optional(),
  sttMs: z.number().optional(),
  llmFirstTokenMs: z.number().optional(),
  ttsFirstByteMs: z.number().optional(),
  /** Time the bridge itself added (agent audio in → first frame out). */
  bridgeMs: z.number().optional(),
  /** Caller stopped → first agent audio out. */
  totalMs: z.number().optional()
})
export type TurnMetrics = z.infer<typeof TurnMetricsSchema>

export const CallSummarySchema = z.object({
  id: z.string(),
  callSid: z.string().optional(),
  direction: z.enum(['inbound', 'outbound', 'loopback']),
  from: z.string().optional(),
  to: z.string().optional(),
  mode: z.enum(AGENT_MODES),
  state: z.enum(CALL_STATES),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  endReason: z.string().optional(),
  turns: z.number().int().optional(),
  medianTurnMs: z.number().optional()
})
export type CallSummary = z.infer<typeof CallSummarySchema>
