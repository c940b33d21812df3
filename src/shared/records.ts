/** Call records in the control API: the history query, one call's detail, its transcript, uploads. */
import { z } from 'zod'
import {
  CALL_OUTCOMES,
  CallSummarySchema,
  TranscriptRoleSchema,
  TurnMetricsSchema,
  UploadStateSchema
} from './calls.js'
import { TimelineEntrySchema } from './events.js'
import { AGENT_MODES } from './modes.js'

/** Largest page of GET /api/calls. */
export const MAX_PAGE_SIZE = 200

const instant = z
  .string()
  .trim()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a date (ISO 8601 expected)')

/**
 * Query string of GET /api/calls. `page` starts at 1. `from` is inclusive, `to` exclusive (ISO 8601 instants;
 * a bare date `YYYY-MM-DD` is midnight UTC, and as `to` it takes in that whole day). `number` matches the digits
 * of either party; `q` is a full-text search in the transcripts (every word must occur, prefixes match).
 */
export const CallListQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  from: instant.optional(),
  to: instant.optional(),
  direction: z.enum(['inbound', 'outbound', 'loopback']).optional(),
  number: z.string().trim().max(40).optional(),
  mode: z.enum(AGENT_MODES).optional(),
  profileId: z.string().max(100).optional(),
  outcome: z.enum(CALL_OUTCOMES).optional(),
  q: z.string().trim().max(200).optional()
})
export type CallListQuery = z.input<typeof CallListQuerySchema>
export type CallListFilter = z.output<typeof CallListQuerySchema>

/** One final transcript segment. `atMs` on the call's clock (ms since call start). */
export const TranscriptSegmentSchema = z.object({
  atMs: z.number(),
  role: TranscriptRoleSchema,
  text: z.string(),
  correction: z.boolean().optional()
})
export type TranscriptSegment = z.infer<typeof TranscriptSegmentSchema>

export const RecordingInfoSchema = z.object({
  /** Control API path of the WAV (supports HTTP range requests). */
  url: z.string(),
  bytes: z.number().int(),
  durationMs: z.number(),
  channels: z.number().int(),
  sampleRateHz: z.number().int(),
  /** The file was left open by a crash and its header repaired. */
  repaired: z.boolean().optional()
})
export type RecordingInfo = z.infer<typeof RecordingInfoSchema>

/** GET /api/calls/:id */
export const CallDetailSchema = z.object({
  call: CallSummarySchema,
  turns: z.array(TurnMetricsSchema),
  transcript: z.array(TranscriptSegmentSchema),
  events: z.array(TimelineEntrySchema),
  recording: RecordingInfoSchema.optional(),
  upload: UploadStateSchema.optional(),
  /** The effective settings (engine, VAD, voice, profile overrides applied) the call ran with. */
  settings: z.record(z.string(), z.unknown()).optional(),
  /** The call is still going on: turns, transcript and events are the live registry's. */
  live: z.boolean()
})
export type CallDetail = z.infer<typeof CallDetailSchema>

/** GET /api/calls/:id/transcript?format=json */
export const TranscriptDocumentSchema = z.object({
  callId: z.string(),
  startedAt: z.string(),
  segments: z.array(TranscriptSegmentSchema)
})
export type TranscriptDocument = z.infer<typeof TranscriptDocumentSchema>

/** POST /api/calls/:id/upload answers with the call's upload state. */
export const UploadResponseSchema = z.object({ callId: z.string(), upload: UploadStateSchema })
export type UploadResponse = z.infer<typeof UploadResponseSchema>

/** POST /api/contacts/import (text/csv body) answers with counts. */
export const ContactImportResultSchema = z.object({
  imported: z.number().int(),
  skipped: z.number().int()
})
export type ContactImportResult = z.infer<typeof ContactImportResultSchema>

export const ContactSchema = z.object({
  /** E.164 as given, normalised to `+digits`. */
  number: z.string(),
  name: z.string(),
  company: z.string().optional(),
  notes: z.string().optional(),
  /** Extra CSV columns, passed to the agent as customer context. */
  fields: z.record(z.string(), z.string()).optional()
})
export type Contact = z.infer<typeof ContactSchema>

/**
 * POST /api/calls/:id/notes: a bookmark on the call's timeline (kind `note`), or the operator's verdict at the end
 * (kind `verdict`, pass or fail with a comment). Published as a `call.timeline` entry, so the call log keeps it.
 */
export const CallNoteInputSchema = z
  .object({
    text: z.string().trim().max(2_000).default(''),
    verdict: z.enum(['pass', 'fail']).optional(),
    /** On the call's clock, ms; default: now for a live call, the end for an ended one. */
    atMs: z.number().min(0).max(86_400_000).optional()
  })
  .refine((n) => n.text.length > 0 || n.verdict !== undefined, { message: 'give a text or a verdict', path: ['text'] })
export type CallNoteInput = z.input<typeof CallNoteInputSchema>

export const CallNoteResultSchema = z.object({ callId: z.string(), entry: TimelineEntrySchema })
export type CallNoteResult = z.infer<typeof CallNoteResultSchema>
