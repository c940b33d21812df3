/** Telephony in the control API: placing and hanging up Twilio calls, Voice SDK tokens, contacts import, the tunnel. */
import { z } from 'zod'
import { AMD_OVERRIDES, TWILIO_CALL_STATUSES } from './calls.js'
import { AGENT_MODES } from './modes.js'
import { ProfileSettingsSchema } from './profiles.js'

/** E.164: `+`, a non-zero country code digit, at most 15 digits in all. */
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/

export function isE164(value: string): boolean {
  return E164_PATTERN.test(value)
}

export const E164Schema = z.string().trim().regex(E164_PATTERN, 'must be an E.164 phone number such as +15551234567')

export const MACHINE_DETECTION = ['off', 'enable', 'detect-message-end'] as const
export type MachineDetection = (typeof MACHINE_DETECTION)[number]

/** POST /api/calls: place an outbound call through Twilio. Give `profileId`, or `mode` (+ `overrides`), or neither. */
export const PlaceCallSchema = z
  .object({
    to: E164Schema,
    /** Caller id; default the configured Twilio number. */
    from: E164Schema.optional(),
    profileId: z.string().min(1).max(100).optional(),
    mode: z.enum(AGENT_MODES).optional(),
    /** Settings overrides for this call only (with `mode`). */
    overrides: ProfileSettingsSchema.optional(),
    /** Twilio-side dual-channel recording. Default false. */
    record: z.boolean().default(false),
    /** Answering-machine detection; default the profile's AMD policy, else off. */
    machineDetection: z.enum(MACHINE_DETECTION).optional(),
    /** Ring time before no-answer, s (Twilio default 60, max 600). */
    timeoutS: z.number().int().min(5).max(600).optional(),
    /** Free-form labels passed to the agent as stream parameters and kept with the call. */
    metadata: z
      .record(z.string().regex(/^[A-Za-z0-9_]{1,40}$/, 'keys are letters, digits and _'), z.string().max(400))
      .refine((m) => Object.keys(m).length <= 10, 'at most 10 keys')
      .optional()
  })
  .strict()
  .refine((b) => !(b.profileId && b.mode), { message: 'give profileId or mode, not both', path: ['mode'] })
export type PlaceCallRequest = z.input<typeof PlaceCallSchema>

export const PlaceCallResultSchema = z.object({
  callId: z.string(),
  callSid: z.string(),
  status: z.enum(TWILIO_CALL_STATUSES)
})
export type PlaceCallResult = z.infer<typeof PlaceCallResultSchema>

/** POST /api/calls/:id/hangup (id: our call id or the Twilio CA sid). */
export const HangupResultSchema = z.object({
  callId: z.string().optional(),
  callSid: z.string(),
  status: z.enum(TWILIO_CALL_STATUSES),
  /** Twilio said the call had already ended. */
  alreadyEnded: z.boolean()
})
export type HangupResult = z.infer<typeof HangupResultSchema>

/**
 * POST /api/calls/:id/amd: the operator overrides the answering-machine verdict. `human`: stop any voicemail or
 * hang-up in progress and let the agent go on; `voicemail`: leave the profile's voicemail now; `hangup`: end the call.
 */
export const AmdOverrideSchema = z.object({ action: z.enum(AMD_OVERRIDES) }).strict()
export type AmdOverrideRequest = z.infer<typeof AmdOverrideSchema>

export const AmdOverrideResultSchema = z.object({
  callId: z.string(),
  action: z.enum(AMD_OVERRIDES),
  /** A voicemail or hang-up under way was stopped (`human`). */
  stopped: z.boolean(),
  status: z.enum(TWILIO_CALL_STATUSES)
})
export type AmdOverrideResult = z.infer<typeof AmdOverrideResultSchema>

/** GET /api/calls/:id/twilio: Twilio's view of a call. */
export const TwilioCallViewSchema = z.object({
  callId: z.string().optional(),
  callSid: z.string(),
  status: z.enum(TWILIO_CALL_STATUSES),
  direction: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
  answeredBy: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  durationS: z.number().optional()
})
export type TwilioCallView = z.infer<typeof TwilioCallViewSchema>

/** POST /api/voice-token */
export const VoiceTokenSchema = z.object({
  token: z.string(),
  identity: z.string(),
  /** ISO 8601. */
  expiresAt: z.string(),
  ttlS: z.number().int()
})
export type VoiceToken = z.infer<typeof VoiceTokenSchema>
