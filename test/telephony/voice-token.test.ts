// The Voice SDK access token, decoded and verified with the JWT library the twilio SDK itself uses.
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VoiceToken } from '../../src/shared/telephony.js'
import { startHarness, type Harness } from './harness.js'

// jsonwebtoken is what twilio's AccessToken signs with; resolved from the SDK's own dependencies.
const requireFromTwilio = createRequire(createRequire(import.meta.url).resolve('twilio'))
const jwt = requireFromTwilio('jsonwebtoken') as {
  verify(token: string, secret: string, opts: { algorithms: string[]; complete: true }): { header: Record<string, unknown>; payload: JwtPayload }
}

interface JwtPayload {
  iss: string
  sub: string
  iat: number
  exp: number
  grants: Record<string, unknown>
}

const KEY_SID = 'SK' + 'c'.repeat(32)
const KEY_SECRET = 'key-secret-for-tests'
const APP_SID = 'AP' + 'd'.repeat(32)

describe('POST /api/voice-token', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { TWILIO_API_KEY_SID: KEY_SID, TWILIO_API_KEY_SECRET: KEY_SECRET, TWILIO_TWIML_APP_SID: APP_SID } })
  })
  afterAll(async () => {
    await h.close()
  })

  it('grants voice on our TwiML app to this install, for one hour', async () => {
    const res = await h.api<VoiceToken>('POST', '/api/voice-token')
    expect(res.status).toBe(200)
    const { header, payload } = jwt.verify(res.body.token, KEY_SECRET, { algorithms: ['HS256'], complete: true })
    expect(header).toMatchObject({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })
    expect(payload).toMatchObject({
      iss: KEY_SID,
      sub: h.fake.accountSid,
      grants: {
        identity: res.body.identity,
        voice: { incoming: { allow: true }, outgoing: { application_sid: APP_SID } }
      }
    })
    expect(payload.exp - payload.iat).toBe(3600)
    expect(res.body.identity).toMatch(/^callbench_[0-9a-f]{12}$/)
    expect(res.body.ttlS).toBe(3600)
  })

  it('keeps one identity per install', async () => {
    const a = await h.api<VoiceToken>('POST', '/api/voice-token')
    const b = await h.api<VoiceToken>('POST', '/api/voice-token')
    expect(a.body.identity).toBe(b.body.identity)
  })

  it('refuses a token signed with another secret', async () => {
    const res = await h.api<VoiceToken>('POST', '/api/voice-token')
    expect(() => jwt.verify(res.body.token, 'another-secret', { algorithms: ['HS256'], complete: true })).toThrow(/signature/)
  })
})
