/** Settings "Test connection" for OpenAI: the key lists models at the configured base URL, and the configured ones are there. */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai'
import { CallbenchError } from '../../shared/errors.js'
import type { ServiceCheckOutcome } from '../../shared/service-test.js'
import type { Settings } from '../../shared/settings.js'
import { hostOf, networkFailure } from '../net-errors.js'
import { openAiFrom, type OpenAiSource } from './llm.js'

export interface OpenAiCheckDeps extends OpenAiSource {
  settings: () => Settings
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1'
const TIMEOUT_MS = 10_000

export async function checkOpenAi(deps: OpenAiCheckDeps): Promise<ServiceCheckOutcome> {
  let client: Awaited<ReturnType<typeof openAiFrom>>
  try {
    client = await openAiFrom(deps)
  } catch (err) {
    if (err instanceof CallbenchError) return { ok: false, message: 'OpenAI is not configured: set the API key' }
    throw err
  }
  const host = hostOf(deps.config('OPENAI_BASE_URL') || DEFAULT_BASE_URL)
  const available = new Set<string>()
  try {
    for await (const model of client.models.list({ timeout: TIMEOUT_MS, maxRetries: 0 })) available.add(model.id)
  } catch (err) {
    return failure(err, host)
  }
  const { realtimeModel, llmModel } = deps.settings().openai
  const wanted = [...new Set([realtimeModel, llmModel].filter(Boolean))]
  const missing = wanted.filter((m) => !available.has(m))
  const detail = `${available.size} models listed; checked ${wanted.join(', ')}`
  if (missing.length === 1) return { ok: false, message: `Model ${missing[0]} is not available to this OpenAI key`, detail }
  if (missing.length > 1) return { ok: false, message: `Models ${missing.join(' and ')} are not available to this OpenAI key`, detail }
  return { ok: true, message: `Connected to OpenAI at ${host}; ${wanted.join(' and ')} available`, detail }
}

function failure(err: unknown, host: string): ServiceCheckOutcome {
  if (err instanceof APIConnectionTimeoutError) return { ok: false, message: `OpenAI at ${host} did not answer within ${TIMEOUT_MS / 1000} s` }
  if (err instanceof APIConnectionError) {
    return { ok: false, message: `Could not reach OpenAI at ${host} (${networkFailure(err) ?? 'no answer'})` }
  }
  if (err instanceof APIError && err.status !== undefined) {
    // The service's own message can quote part of the key ("Incorrect API key provided: sk-…"): keep only its code.
    const detail = err.code ? { detail: `OpenAI error ${err.code}` } : {}
    if (err.status === 401) return { ok: false, message: 'OpenAI rejected the API key (401)', ...detail }
    if (err.status === 403) return { ok: false, message: 'OpenAI refused this key access to the models list (403)', ...detail }
    if (err.status === 404) return { ok: false, message: `No OpenAI models list at ${host} (404): check the base URL`, ...detail }
    if (err.status === 429) return { ok: false, message: 'OpenAI is rate-limiting this key or its quota is used up (429)', ...detail }
    return { ok: false, message: `OpenAI at ${host} answered ${err.status}`, ...detail }
  }
  return { ok: false, message: `Could not reach OpenAI at ${host} (${networkFailure(err) ?? 'no answer'})` }
}
