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
  /**
   * The reply was prepared during the end-of-turn silence, starting this long before the turn ended (cascade early
   * reply); the STT, LLM and TTS parts then count only what each still took after the end of turn.
   */
  earlyReplyMs: z.number().optional(),
  /** Time the bridge itself added (agent audio in → first frame out). */
  bridgeMs: z.number().optional(),
  /** Caller stopped → first agent audio out. */
  totalMs: z.number().optional()
})
export type TurnMetrics = z.infer<typeof TurnMetricsSchema>

/** How a call ended, for the history filter. `answering_machine`: AMD said a machine or fax answered. */
export const CALL_OUTCOMES = [
  'completed',
  'answering_machine',
  'no_answer',
  'busy',
  'canceled',
  'failed',
  'interrupted'
] as const
export type CallOutcome = (typeof CALL_OUTCOMES)[number]

/** Where a call's S3 upload stands (recording, transcript and call.json under one key prefix). */
export const UploadStateSchema = z.object({
  state: z.enum(['queued', 'uploading', 'done', 'failed']),
  /** 0–100 while uploading. */
  percent: z.number().optional(),
  /** The recording object's URL once done. */
  url: z.string().optional(),
  /** Why it failed (no secrets). */
  error: z.string().optional(),
  attempts: z.number().int().optional(),
  /** ISO 8601, UTC. */
  updatedAt: z.string()
})
export type UploadState = z.infer<typeof UploadStateSchema>

/** Twilio call statuses, as status callbacks and the REST API report them (PROTOCOLS §2.2). */
export const TWILIO_CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled'
] as const
export type TwilioCallStatus = (typeof TWILIO_CALL_STATUSES)[number]

/** What the operator may say about an answering-machine verdict on a live call (POST /api/calls/:id/amd). */
export const AMD_OVERRIDES = ['human', 'voicemail', 'hangup'] as const
export type AmdOverride = (typeof AMD_OVERRIDES)[number]

/** Answering-machine detection on a call placed through Twilio with AMD on: the verdict and its timing. */
export const CallAmdSchema = z.object({
  /** Twilio MachineDetection the call was placed with. */
  detection: z.enum(['enable', 'detect-message-end']),
  /** Twilio's verdict (AnsweredBy), once it arrived. */
  answeredBy: z.string().optional(),
  /** How long Twilio took to decide (MachineDetectionDuration), ms. */
  detectionMs: z.number().optional(),
  /** When the verdict arrived, call clock ms. */
  atMs: z.number().optional(),
  /** When the agent's greeting started going out, call clock ms (absent: the verdict came before any greeting). */
  greetingStartedAtMs: z.number().optional(),
  /** Verdict time minus greeting start, ms. */
  intoGreetingMs: z.number().optional(),
  /** How much of the greeting the callee had heard when the verdict came (echoed marks), ms. */
  greetingHeardMs: z.number().optional(),
  /** What the profile's machine policy did: continue, hangup, leave_message, or skipped (the operator decided first). */
  action: z.string().optional(),
  /** The operator's word on it, which wins over the verdict. */
  override: z.enum(AMD_OVERRIDES).optional()
})
export type CallAmd = z.infer<typeof CallAmdSchema>

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
  medianTurnMs: z.number().optional(),
  /** Agent profile the call ran with. */
  profileId: z.string().optional(),
  /** Twilio AnsweredBy (human, machine_start, machine_end_beep, fax, unknown…). */
  answeredBy: z.string().optional(),
  /** Answering-machine detection, on calls placed with it on. */
  amd: CallAmdSchema.optional(),
  /** Twilio's own call status (status callbacks), for calls placed or taken through Twilio. */
  twilioStatus: z.enum(TWILIO_CALL_STATUSES).optional(),
  outcome: z.enum(CALL_OUTCOMES).optional(),
  durationMs: z.number().optional(),
  /** A local recording exists. */
  hasRecording: z.boolean().optional(),
  upload: UploadStateSchema.optional()
})
export type CallSummary = z.infer<typeof CallSummarySchema>
