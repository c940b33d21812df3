/** The one place a Twilio REST client is built: credentials from secrets, base URL from config, errors mapped to ours. */
import twilio from 'twilio'
import { CallbenchError } from '../../shared/errors.js'
import type { SecretStore } from '../settings/secrets.js'

export type TwilioClient = ReturnType<typeof twilio>

/** Twilio's "resource not found" error: for a hang-up, the call has already ended. */
export const TWILIO_NOT_FOUND = 20404

export interface TwilioClientDeps {
  secrets: Pick<SecretStore, 'get'>
  config: (name: string) => string | undefined
}

let cached: { key: string; client: TwilioClient } | undefined

/** A client for the configured account; `not_configured` (422) when the SID or auth token is missing. */
export async function twilioClient(deps: TwilioClientDeps): Promise<TwilioClient> {
  const accountSid = await deps.secrets.get('TWILIO_ACCOUNT_SID')
  const authToken = await deps.secrets.get('TWILIO_AUTH_TOKEN')
  if (!accountSid || !authToken) {
    throw new CallbenchError('not_configured', 'Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN')
  }
  if (!accountSid.startsWith('AC')) throw new CallbenchError('not_configured', 'TWILIO_ACCOUNT_SID must start with AC')
  // TWILIO_API_BASE_URL re-points the REST API (a regional proxy, or a local fake in tests).
  const baseUrl = deps.config('TWILIO_API_BASE_URL')
  const key = `${accountSid}\n${authToken}\n${baseUrl ?? ''}`
  if (cached?.key === key) return cached.client
  const client = twilio(accountSid, authToken, { autoRetry: true, maxRetries: 3 })
  if (baseUrl) client.api.baseUrl = baseUrl.replace(/\/+$/, '')
  cached = { key, client }
  return client
}

/** True when Twilio said the resource does not exist (HTTP 404 / error 20404). */
export function isNotFound(err: unknown): boolean {
  const e = err as { status?: number; code?: number }
  return e?.code === TWILIO_NOT_FOUND || e?.status === 404
}

/** A Twilio REST failure as a CallbenchError: 4xx from Twilio are the request's fault, the rest are retryable. */
export function twilioError(err: unknown, what: string): CallbenchError {
  if (err instanceof CallbenchError) return err
  const e = err as { status?: number; code?: number; message?: string }
  if (typeof e?.status === 'number') {
    const message = `Twilio refused to ${what}: ${e.message ?? 'error'}${e.code ? ` (Twilio error ${e.code})` : ''}`
    if (e.status === 404) return new CallbenchError('not_found', message, { cause: err })
    if (e.status >= 400 && e.status < 500 && e.status !== 429) return new CallbenchError('bad_request', message, { cause: err })
    return new CallbenchError('upstream_failed', message, { cause: err, retryable: true })
  }
  return new CallbenchError('upstream_failed', `Could not reach Twilio to ${what}`, { cause: err, retryable: true })
}
