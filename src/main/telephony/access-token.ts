/** Access tokens for the Voice JS SDK in the console: one identity per app install, a VoiceGrant on our TwiML app. */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import twilio from 'twilio'
import { CallbenchError } from '../../shared/errors.js'
import type { VoiceToken } from '../../shared/telephony.js'
import type { SecretStore } from '../settings/secrets.js'

export const VOICE_TOKEN_TTL_S = 3600

/** This install's client identity (`callbench_<hex>`), created once and kept in the data folder. */
export async function installIdentity(dataDir: string): Promise<string> {
  const file = join(dataDir, 'voice-identity.json')
  try {
    const { identity } = JSON.parse(await readFile(file, 'utf8')) as { identity?: string }
    // Identities: alphanumerics and `_` only, up to 121 characters (PROTOCOLS §2.6).
    if (identity && /^[A-Za-z0-9_]{1,121}$/.test(identity)) return identity
  } catch {
    // No identity yet.
  }
  const identity = `callbench_${randomBytes(6).toString('hex')}`
  await writeFile(file, JSON.stringify({ identity }), { mode: 0o600 })
  return identity
}

export interface VoiceTokenDeps {
  secrets: Pick<SecretStore, 'get'>
  dataDir: string
  appSid: () => Promise<string | undefined>
  nowMs?: () => number
}

export async function createVoiceToken(deps: VoiceTokenDeps): Promise<VoiceToken> {
  const accountSid = await deps.secrets.get('TWILIO_ACCOUNT_SID')
  const keySid = await deps.secrets.get('TWILIO_API_KEY_SID')
  const keySecret = await deps.secrets.get('TWILIO_API_KEY_SECRET')
  if (!accountSid || !keySid || !keySecret) {
    throw new CallbenchError(
      'not_configured',
      'The Voice SDK needs TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET (an API key, not the auth token)'
    )
  }
  const appSid = await deps.appSid()
  if (!appSid) {
    throw new CallbenchError('not_configured', 'No TwiML app: set TWILIO_TWIML_APP_SID, or turn on Twilio provisioning to create one')
  }
  const identity = await installIdentity(deps.dataDir)
  const { AccessToken } = twilio.jwt
  const token = new AccessToken(accountSid, keySid, keySecret, { identity, ttl: VOICE_TOKEN_TTL_S })
  token.addGrant(new AccessToken.VoiceGrant({ outgoingApplicationSid: appSid, incomingAllow: true }))
  const nowMs = deps.nowMs?.() ?? Date.now()
  return {
    token: token.toJwt(),
    identity,
    ttlS: VOICE_TOKEN_TTL_S,
    expiresAt: new Date(nowMs + VOICE_TOKEN_TTL_S * 1000).toISOString()
  }
}
