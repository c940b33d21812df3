/** POST /api/settings/test: checks one service's keys and configuration against the service itself. */
import { z } from 'zod'

export const TESTABLE_SERVICES = ['twilio', 'openai', 'elevenlabs', 's3'] as const
export type TestableService = (typeof TESTABLE_SERVICES)[number]

export const ServiceTestRequestSchema = z.object({ service: z.enum(TESTABLE_SERVICES) }).strict()
export type ServiceTestRequest = z.infer<typeof ServiceTestRequestSchema>

/** The answer, ok or not (a failed check is a 200 with `ok: false`: the test itself worked). */
export const ServiceTestResultSchema = z.object({
  service: z.enum(TESTABLE_SERVICES),
  ok: z.boolean(),
  /** One sentence: what works, or exactly what is wrong. Never a secret. */
  message: z.string(),
  /** More facts (account name, tier, models checked, the service's own error code). */
  detail: z.string().optional(),
  durationMs: z.number()
})
export type ServiceTestResult = z.infer<typeof ServiceTestResultSchema>

/** What one service's check found (the route adds the service and the time taken). */
export type ServiceCheckOutcome = Pick<ServiceTestResult, 'ok' | 'message' | 'detail'>
