/** The one place that builds the ElevenLabs SDK client from secrets and config, and turns its errors into ours. */
import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js'
import { CallbenchError } from '../../shared/errors.js'
import type { SecretStore } from '../settings/secrets.js'

/** Where the client's key and base URL come from (an App or an engine's AgentDeps both fit). */
export interface ElevenLabsSource {
  secrets: Pick<SecretStore, 'get'>
  config: (name: string) => string | undefined
}

/** A ready client and what it was built from (the WebSocket clients need the same key and base). */
export interface ElevenLabsConnection {
  client: ElevenLabsClient
  apiKey: string
  /** HTTP(S) base URL without a trailing slash. */
  baseUrl: string
}

export interface ElevenLabsClientOptions {
  /** Retries of the SDK's own (idempotent and not) requests. Default 1. */
  maxRetries?: number
  /** Per-request timeout, seconds. Default 15. */
  timeoutInSeconds?: number
}

let cached: { key: string; connection: ElevenLabsConnection } | undefined

type ElevenLabsSdk = typeof import('@elevenlabs/elevenlabs-js')
let sdkPromise: Promise<ElevenLabsSdk> | undefined
let sdk: ElevenLabsSdk | undefined

/**
 * The SDK, loaded on first use: importing it takes seconds, which would otherwise delay every start of the
 * app whether or not ElevenLabs is configured.
 */
export function loadElevenLabsSdk(): Promise<ElevenLabsSdk> {
  sdkPromise ??= import('@elevenlabs/elevenlabs-js').then((m) => (sdk = m))
  return sdkPromise
}

const PRODUCTION_BASE_URL = 'https://api.elevenlabs.io'

/** Whether an ElevenLabs key is configured. */
export async function hasElevenLabsKey(source: Pick<ElevenLabsSource, 'secrets'>): Promise<boolean> {
  return Boolean(await source.secrets.get('ELEVENLABS_API_KEY'))
}

/** The client for the current key and `ELEVENLABS_BASE_URL`; `not_configured` without a key. */
export async function elevenLabsFrom(source: ElevenLabsSource, opts: ElevenLabsClientOptions = {}): Promise<ElevenLabsConnection> {
  const apiKey = await source.secrets.get('ELEVENLABS_API_KEY')
  if (!apiKey) throw new CallbenchError('not_configured', 'ElevenLabs API key is not set', { field: 'ELEVENLABS_API_KEY' })
  const baseUrl = (source.config('ELEVENLABS_BASE_URL') || PRODUCTION_BASE_URL).replace(/\/+$/, '')
  const maxRetries = opts.maxRetries ?? 1
  const timeoutInSeconds = opts.timeoutInSeconds ?? 15
  const key = `${apiKey}\n${baseUrl}\n${maxRetries}\n${timeoutInSeconds}`
  if (cached?.key === key) return cached.connection
  const { ElevenLabsClient } = await loadElevenLabsSdk()
  const client = new ElevenLabsClient({ apiKey, baseUrl, maxRetries, timeoutInSeconds })
  const connection = { client, apiKey, baseUrl }
  cached = { key, connection }
  return connection
}

/** `ws(s)://` form of the HTTP base URL, for the TTS and Agents WebSockets. */
export function wsBaseOf(baseUrl: string): string {
  return baseUrl.replace(/^http(s?):\/\//i, (_m, s: string) => `ws${s}://`)
}

/**
 * Maps an SDK failure to a CallbenchError. `what` names the thing asked for (e.g. "voice 'abc'") so a 404
 * reads "ElevenLabs voice 'abc' not found"; `field` is set on it for the console.
 */
export function elevenLabsError(err: unknown, what: string, field?: string): CallbenchError {
  if (err instanceof CallbenchError) return err
  const opts = { cause: err, ...(field ? { field } : {}) }
  // SDK errors only exist once the SDK has loaded.
  if (sdk && err instanceof sdk.ElevenLabsTimeoutError) {
    return new CallbenchError('upstream_timeout', `ElevenLabs timed out on ${what}`, { ...opts, retryable: true })
  }
  if (sdk && err instanceof sdk.ElevenLabsError && err.statusCode !== undefined) {
    const status = err.statusCode
    if (status === 404) return new CallbenchError('not_found', `ElevenLabs ${what} not found`, opts)
    if (status === 400 || status === 422) {
      return new CallbenchError('bad_request', `ElevenLabs rejected ${what}: ${detailOf(err.body)}`, opts)
    }
    // Our own 401 means "bad control token" to the console, so an upstream auth failure is an upstream failure.
    if (status === 401 || status === 403) {
      return new CallbenchError('upstream_failed', `ElevenLabs refused the API key (${status}) for ${what}`, opts)
    }
    return new CallbenchError('upstream_failed', `ElevenLabs answered ${status} for ${what}`, {
      ...opts,
      retryable: status === 429 || status >= 500
    })
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new CallbenchError('upstream_closed', `ElevenLabs request for ${what} was aborted`, opts)
  }
  return new CallbenchError('upstream_failed', `ElevenLabs request for ${what} failed`, { ...opts, retryable: true })
}

function detailOf(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 200)
  if (body && typeof body === 'object') {
    const detail = (body as { detail?: unknown }).detail
    if (typeof detail === 'string') return detail.slice(0, 200)
    if (detail && typeof detail === 'object') {
      const message = (detail as { message?: unknown }).message
      if (typeof message === 'string') return message.slice(0, 200)
    }
  }
  return 'invalid request'
}
