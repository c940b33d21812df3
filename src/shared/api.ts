/** The control API v1: request and response schemas, written once, used by the core and the console. */
import { z } from 'zod'
import { CallSummarySchema } from './calls.js'
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
  publicUrl: z.string().optional()
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

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() })
})
