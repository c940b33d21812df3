/** Voices, speech and ElevenLabs agents in the control API: voice list, synthesis, speaking into a live call. */
import { z } from 'zod'
import { CallSummarySchema } from './calls.js'
import { VoiceSettingsPatchSchema, VoiceSettingsSchema, type VoiceSettingsPatch } from './settings.js'

/** Longest text spoken in one request, characters. */
export const MAX_SPEAK_CHARS = 5_000

export { VoiceSettingsPatchSchema, type VoiceSettingsPatch }

const voiceId = z.string().trim().min(1).max(100)

/** One ElevenLabs voice. */
export const VoiceSchema = z.object({
  id: z.string(),
  name: z.string(),
  category: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  description: z.string().optional(),
  /** A sample ElevenLabs hosts, playable as is. */
  previewUrl: z.string().optional()
})
export type Voice = z.infer<typeof VoiceSchema>

/** GET /api/voices (`?refresh=1` skips the cache). */
export const VoiceListSchema = z.object({
  voices: z.array(VoiceSchema),
  /** ISO 8601, when the list was fetched from ElevenLabs. */
  fetchedAt: z.string()
})
export type VoiceList = z.infer<typeof VoiceListSchema>

/** GET /api/voices/:id/validate */
export const VoiceValidationSchema = z.object({
  valid: z.boolean(),
  voice: VoiceSchema.optional(),
  message: z.string().optional()
})
export type VoiceValidation = z.infer<typeof VoiceValidationSchema>

/** POST /api/voices/:id/preview → audio/mpeg. */
export const VoicePreviewRequestSchema = z.object({
  text: z.string().trim().min(1).max(500).optional(),
  voiceSettings: VoiceSettingsPatchSchema.optional()
})

/** POST /api/synthesize → audio/mpeg (`mp3`) or audio/wav (`wav`: 16 kHz 16-bit PCM, or μ-law 8 kHz with `wavEncoding`). */
export const SynthesizeRequestSchema = z.object({
  text: z.string().trim().min(1).max(MAX_SPEAK_CHARS),
  voiceId,
  voiceSettings: VoiceSettingsPatchSchema.optional(),
  format: z.enum(['mp3', 'wav']).default('mp3'),
  wavEncoding: z.enum(['pcm16', 'ulaw']).default('pcm16')
})
export type SynthesizeRequest = z.infer<typeof SynthesizeRequestSchema>

/** POST /api/calls/:id/say, and the `say` events command (with `callId`). */
export const SayRequestSchema = z.object({
  text: z.string().trim().min(1).max(MAX_SPEAK_CHARS),
  voiceId: voiceId.optional(),
  voiceSettings: VoiceSettingsPatchSchema.optional()
})
export type SayRequest = z.infer<typeof SayRequestSchema>

export const SayResultSchema = z.object({
  /** The reply the speech plays as (the call's timeline names it). */
  replyId: z.string(),
  /** `elevenlabs`: our TTS into the call; `agent`: the engine speaks it in its own voice. */
  via: z.enum(['elevenlabs', 'agent']),
  voiceId: z.string().optional()
})
export type SayResult = z.infer<typeof SayResultSchema>

/** POST /api/calls/:id/voice, and the `update_voice` events command (with `callId`). */
export const CallVoiceRequestSchema = z.object({
  voiceId: voiceId.optional(),
  voiceSettings: VoiceSettingsPatchSchema.optional()
})
export type CallVoiceRequest = z.infer<typeof CallVoiceRequestSchema>

/** The voice a live call speaks `say` text in. */
export const CallVoiceSchema = z.object({ voiceId: z.string(), voiceSettings: VoiceSettingsSchema })
export type CallVoice = z.infer<typeof CallVoiceSchema>

/** The `get_call` events command. */
export const LiveCallViewSchema = z.object({
  call: CallSummarySchema,
  voice: CallVoiceSchema,
  /** The engine speaks `say` text itself (no ElevenLabs key needed). */
  canSay: z.boolean(),
  /** A `say` is playing. */
  speaking: z.boolean()
})
export type LiveCallView = z.infer<typeof LiveCallViewSchema>

/** POST /api/calls/:id/context, and the `context` events command (with `callId`). */
export const CallContextRequestSchema = z.object({ text: z.string().trim().min(1).max(MAX_SPEAK_CHARS) })

/** GET /api/elevenlabs/agents/:id/check */
export const ElevenLabsAgentCheckSchema = z.object({
  agentId: z.string(),
  name: z.string(),
  inputFormat: z.string(),
  outputFormat: z.string(),
  /** μ-law 8 kHz both ways: Twilio audio goes straight through. */
  passThrough: z.boolean(),
  /** The bridge can resample what the agent speaks (22.05/44.1 kHz it cannot). */
  convertible: z.boolean(),
  warnings: z.array(z.string())
})
export type ElevenLabsAgentCheck = z.infer<typeof ElevenLabsAgentCheckSchema>

/** POST /api/elevenlabs/agents: create (or update the one Callbench made) from the current settings. */
export const ElevenLabsAgentUpsertSchema = z.object({ name: z.string().trim().min(1).max(100).optional() })
export const ElevenLabsAgentUpsertResultSchema = z.object({ agentId: z.string(), created: z.boolean() })
export type ElevenLabsAgentUpsertResult = z.infer<typeof ElevenLabsAgentUpsertResultSchema>
