/** The control API v1: request and response schemas, written once, used by the core and the console. */
import { z } from 'zod'
import { CallSummarySchema } from './calls.js'
import { AGENT_MODES } from './modes.js'
import { TunnelStateSchema } from './events.js'
import { MaskedSecretSchema, SettingsPatchSchema, SettingsSchema, SECRET_NAMES } from './settings.js'

export const API_VERSION = 'v1'

export const ServicesSchema = z.object({
  twilio: z.boolean(),
  openai: z.boolean(),
  elevenlabs: z.boolean(),
  s3: z.boolean()
})
export type Services = z.infer<typeof ServicesSchema>

/** GET /api/health */
export const HealthSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptimeS: z.number(),
  services: ServicesSchema,
  tunnel: TunnelStateSchema,
  activeCalls: z.number().int(),
  /** An SDK is still being loaded in the background after start (its import blocks the event loop a moment). */
  warmingUp: z.boolean().optional(),
  /** How late the core's event loop ran (a 5 ms timer), since start or the last `?resetLoop=1`, ms. */
  eventLoopDelayMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }).optional(),
  publicUrl: z.string().optional(),
  /** The Twilio number calls come from and go to (settings, else TWILIO_PHONE_NUMBER). */
  phoneNumber: z.string().optional()
})
export type Health = z.infer<typeof HealthSchema>

/** GET /api/settings */
export const SettingsViewSchema = z.object({
  settings: SettingsSchema,
  secrets: z.record(z.enum(SECRET_NAMES), MaskedSecretSchema)
})
export type SettingsView = z.infer<typeof SettingsViewSchema>

/** PUT /api/settings: settings patch plus write-only secrets (empty string deletes). */
export const SettingsUpdateSchema = z.object({
  settings: SettingsPatchSchema.optional(),
  secrets: z.partialRecord(z.enum(SECRET_NAMES), z.string().max(4096)).optional()
})
export type SettingsUpdate = z.infer<typeof SettingsUpdateSchema>

/** GET /api/calls */
export const CallListSchema = z.object({
  calls: z.array(CallSummarySchema),
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int()
})
export type CallList = z.infer<typeof CallListSchema>

/** One engine in GET /api/engines: whether a call can use it now, and if not, why (the key it needs). */
export const EngineInfoSchema = z.object({
  mode: z.enum(AGENT_MODES),
  label: z.string(),
  available: z.boolean(),
  reason: z.string().optional()
})
export type EngineInfo = z.infer<typeof EngineInfoSchema>

/** GET /api/engines */
export const EngineListSchema = z.array(EngineInfoSchema)
export type EngineList = z.infer<typeof EngineListSchema>

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() })
})

export * from './records.js'
export * from './profiles.js'
export * from './telephony.js'
export * from './voices.js'
export * from './service-test.js'
