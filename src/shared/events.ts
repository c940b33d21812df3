/** Messages on the events WebSocket (`/api/events`): what the core publishes and what the console may send. */
import { z } from 'zod'
import { CallSummarySchema, TranscriptRoleSchema, TurnMetricsSchema, UploadStateSchema } from './calls.js'
import { CallCostSchema } from './cost.js'

export const LevelsSchema = z.object({
  /** RMS and peak, dBFS, of the last 20 ms–50 ms window. */
  callerRmsDbfs: z.number(),
  callerPeakDbfs: z.number(),
  agentRmsDbfs: z.number(),
  agentPeakDbfs: z.number()
})
export type Levels = z.infer<typeof LevelsSchema>

/** One entry of a call's timeline (both legs, one clock: ms since call start). */
export const TimelineEntrySchema = z.object({
  atMs: z.number(),
  kind: z.string(),
  data: z.record(z.string(), z.unknown()).optional()
})
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>

export const TunnelStateSchema = z.object({
  status: z.enum(['off', 'starting', 'ready', 'error', 'external']),
  publicUrl: z.string().optional(),
  message: z.string().optional()
})
export type TunnelState = z.infer<typeof TunnelStateSchema>

export const ServerEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), version: z.string(), serverTimeMs: z.number() }),
  z.object({ type: z.literal('pong'), id: z.string().optional(), serverTimeMs: z.number() }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string(),
    fields: z.record(z.string(), z.unknown()).optional(),
    atMs: z.number()
  }),
  z.object({ type: z.literal('call.started'), call: CallSummarySchema }),
  z.object({ type: z.literal('call.updated'), call: CallSummarySchema }),
  z.object({ type: z.literal('call.ended'), call: CallSummarySchema }),
  z.object({ type: z.literal('call.levels'), callId: z.string(), atMs: z.number(), levels: LevelsSchema }),
  z.object({
    type: z.literal('call.transcript'),
    callId: z.string(),
    atMs: z.number(),
    role: TranscriptRoleSchema,
    text: z.string(),
    final: z.boolean(),
    correction: z.boolean().optional()
  }),
  z.object({ type: z.literal('call.turn'), callId: z.string(), metrics: TurnMetricsSchema }),
  z.object({ type: z.literal('call.timeline'), callId: z.string(), entry: TimelineEntrySchema }),
  /**
   * A call's running cost estimate (shared/cost.ts): at most once a second while it changes, and once more with
   * `final` when the call ends (also kept in the call log as the timeline entry `cost`).
   */
  z.object({ type: z.literal('call.cost'), callId: z.string(), cost: CallCostSchema, final: z.boolean() }),
  z.object({ type: z.literal('tunnel.state'), tunnel: TunnelStateSchema }),
  /**
   * Twilio's recording status callback for a call (Twilio-side recording): the call-records feature downloads it.
   * `recordingUrl` needs the account's Basic auth; append `.wav` or `.mp3` (PROTOCOLS §2.3).
   */
  z.object({
    type: z.literal('twilio.recording'),
    callId: z.string().optional(),
    callSid: z.string(),
    recordingSid: z.string(),
    recordingUrl: z.string(),
    status: z.string(),
    durationS: z.number().optional(),
    channels: z.number().int().optional()
  }),
  /** A call's S3 upload moved (queued, % done, done with the URL, failed with the reason). */
  z.object({ type: z.literal('upload.progress'), callId: z.string(), upload: UploadStateSchema }),
  z.object({
    type: z.literal('reply'),
    id: z.string(),
    ok: z.boolean(),
    data: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional()
  })
])
export type ServerEvent = z.infer<typeof ServerEventSchema>
export type ServerEventType = ServerEvent['type']

export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), id: z.string().optional() }),
  /** Limit which calls' high-rate events (levels) this socket receives; omitted = all. */
  z.object({ type: z.literal('subscribe'), callIds: z.array(z.string()).optional() })
])
export type ClientMessage = z.infer<typeof ClientMessageSchema>
