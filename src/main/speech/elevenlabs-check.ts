/** Settings "Test connection" for ElevenLabs: the key reads the account, and the configured voice and agent exist. */
import { CallbenchError } from '../../shared/errors.js'
import type { ServiceCheckOutcome } from '../../shared/service-test.js'
import type { Settings } from '../../shared/settings.js'
import { hostOf, networkFailure } from '../net-errors.js'
import { elevenLabsFrom, loadElevenLabsSdk, type ElevenLabsSource } from './elevenlabs-client.js'

export interface ElevenLabsCheckDeps extends ElevenLabsSource {
  settings: () => Settings
}

const TIMEOUT_S = 10
/** Subscription statuses that cannot make speech (ElevenLabs SubscriptionStatusType). */
const UNUSABLE = new Set(['free_disabled', 'incomplete'])

export async function checkElevenLabs(deps: ElevenLabsCheckDeps): Promise<ServiceCheckOutcome> {
  let conn: Awaited<ReturnType<typeof elevenLabsFrom>>
  try {
    conn = await elevenLabsFrom(deps, { maxRetries: 0, timeoutInSeconds: TIMEOUT_S })
  } catch (err) {
    if (err instanceof CallbenchError && err.code === 'not_configured') {
      return { ok: false, message: 'ElevenLabs is not configured: set the API key' }
    }
    throw err
  }
  const host = hostOf(conn.baseUrl)
  const sdk = await loadElevenLabsSdk()
  const failure = (err: unknown, what: string, notFound: string): ServiceCheckOutcome => {
    if (err instanceof sdk.ElevenLabsTimeoutError) return { ok: false, message: `ElevenLabs at ${host} did not answer within ${TIMEOUT_S} s` }
    const status = err instanceof sdk.ElevenLabsError ? err.statusCode : undefined
    if (status === undefined) return { ok: false, message: `Could not reach ElevenLabs at ${host} (${networkFailure(err) ?? 'no answer'})` }
    const code = statusOf((err as { body?: unknown }).body)
    const detail = code ? { detail: `ElevenLabs status ${code}` } : {}
    if (status === 404) return { ok: false, message: notFound, ...detail }
    if (status === 401 && code === 'missing_permissions') {
      return { ok: false, message: `The ElevenLabs API key lacks the permission to read ${what} (401)`, ...detail }
    }
    if (status === 401 || status === 403) return { ok: false, message: `ElevenLabs rejected the API key (${status})`, ...detail }
    if (status === 429) return { ok: false, message: 'ElevenLabs is rate-limiting this key (429)', ...detail }
    return { ok: false, message: `ElevenLabs at ${host} answered ${status} when asked for ${what}`, ...detail }
  }

  let sub: { tier: string; characterCount: number; characterLimit: number; status: string }
  try {
    sub = (await conn.client.user.get()).subscription
  } catch (err) {
    return failure(err, 'the account', 'ElevenLabs has no user for this key (404)')
  }
  const facts = [`${sub.tier} plan`, `${sub.characterCount.toLocaleString('en-US')} of ${sub.characterLimit.toLocaleString('en-US')} characters used`]
  if (UNUSABLE.has(sub.status)) return { ok: false, message: `The ElevenLabs subscription is ${sub.status.replace('_', ' ')}`, detail: facts.join(' · ') }

  const settings = deps.settings()
  const voiceId = settings.voice.voiceId
  if (voiceId) {
    try {
      const voice = await conn.client.voices.get(voiceId)
      facts.push(`voice ${voice.name ?? voiceId}`)
    } catch (err) {
      return failure(err, 'voices', `Voice ${voiceId} was not found on this ElevenLabs account`)
    }
  }
  const agentId = settings.elevenlabs.agentId || deps.config('ELEVENLABS_AGENT_ID')
  if (agentId) {
    try {
      const agent = await conn.client.conversationalAi.agents.get(agentId)
      facts.push(`agent ${agent.name || agentId}`)
    } catch (err) {
      return failure(err, 'agents', `Agent ${agentId} was not found on this ElevenLabs account`)
    }
  }
  const checked = [voiceId ? 'voice' : '', agentId ? 'agent' : ''].filter(Boolean).join(' and ')
  return {
    ok: true,
    message: `Connected to ElevenLabs${checked ? `; the ${checked} exist${checked.includes(' and ') ? '' : 's'}` : ''}`,
    detail: facts.join(' · ')
  }
}

/** ElevenLabs error bodies: `{detail: {status, message}}`. */
function statusOf(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | undefined)?.detail
  const status = (detail as { status?: unknown } | undefined)?.status
  return typeof status === 'string' ? status : undefined
}
