/** Agent profiles: a named engine, settings overrides and an answering-machine policy, picked per call. */
import { z } from 'zod'
import { AGENT_MODES } from './modes.js'
import { OpenAiTurnDetectionSchema, VAD_METHODS, VoiceSettingsPatchSchema } from './settings.js'

/**
 * Settings a profile may override, every field optional and without defaults, so that an override of
 * `vad.threshold` leaves the rest of `vad` as the user set it (merged deeply over the current settings).
 */
export const ProfileSettingsSchema = z
  .object({
    vad: z
      .object({
        method: z.enum(VAD_METHODS),
        threshold: z.number().min(0).max(1),
        minSpeechMs: z.number().int().min(0).max(2000),
        silenceMs: z.number().int().min(100).max(5000),
        preSpeechPadMs: z.number().int().min(0).max(2000),
        earlyReplyMs: z.number().int().min(0).max(5000)
      })
      .partial()
      .strict(),
    voice: z
      .object({
        voiceId: z.string(),
        settings: VoiceSettingsPatchSchema
      })
      .partial()
      .strict(),
    openai: z
      .object({
        realtimeModel: z.string(),
        llmModel: z.string(),
        voice: z.string(),
        instructions: z.string().max(20_000),
        greeting: z.string().max(2_000),
        turnDetection: OpenAiTurnDetectionSchema,
        temperature: z.number().min(0).max(2)
      })
      .partial()
      .strict(),
    gather: z
      .object({
        speechTimeoutS: z.number().int().min(0).max(10),
        minConfidence: z.number().min(0).max(1),
        language: z.string().max(16)
      })
      .partial()
      .strict(),
    elevenlabs: z
      .object({
        agentId: z.string(),
        prompt: z.string().max(20_000),
        firstMessage: z.string().max(2_000),
        language: z.string().max(16)
      })
      .partial()
      .strict()
  })
  .partial()
  .strict()
export type ProfileSettings = z.infer<typeof ProfileSettingsSchema>

/** What to do when answering-machine detection says a machine answered (outbound calls). */
export const AMD_ACTIONS = ['continue', 'hangup', 'leave_message'] as const
export type AmdAction = (typeof AMD_ACTIONS)[number]

export const AmdPolicySchema = z.object({
  /** Ask Twilio for answering-machine detection on outbound calls. Default false. */
  enabled: z.boolean().default(false),
  onMachine: z.enum(AMD_ACTIONS).default('continue'),
  /** Spoken after the beep when `onMachine` is `leave_message`. */
  message: z.string().max(2_000).default(''),
  /** Twilio MachineDetectionTimeout, s (default 30). */
  timeoutS: z.number().int().min(3).max(59).default(30)
})
export type AmdPolicy = z.infer<typeof AmdPolicySchema>

/** Body of POST /api/profiles and PUT /api/profiles/:id. */
export const ProfileInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  mode: z.enum(AGENT_MODES),
  settings: ProfileSettingsSchema.default({}),
  amd: AmdPolicySchema.prefault({})
})
export type ProfileInput = z.infer<typeof ProfileInputSchema>

export const ProfileSchema = ProfileInputSchema.extend({
  id: z.string(),
  /** ISO 8601, UTC. */
  createdAt: z.string(),
  updatedAt: z.string()
})
export type Profile = z.infer<typeof ProfileSchema>

/** GET /api/profiles */
export const ProfileListSchema = z.object({ profiles: z.array(ProfileSchema) })
export type ProfileList = z.infer<typeof ProfileListSchema>
