// Settings "Test connection": each service's check against its fake (real SDKs) and a real s3rver, ok and each typical
// failure in one clear sentence, never echoing a secret.
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import type { ServiceTestResult } from '../../src/shared/service-test.js'
import type { SettingsPatch } from '../../src/shared/settings.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { FakeOpenAiChat } from '../fakes/openai-chat.js'
import { S3RVER_CREDENTIALS, S3Server } from '../fakes/s3-server.js'
import { FakeTwilio } from '../fakes/twilio-rest.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { s3ClientFor } from '../support/s3.js'

const NUMBER = '+15550001111'
const OPENAI_KEY = 'sk-test-connection-0123456789'
const ELEVENLABS_KEY = 'xi-test-connection-0123456789'

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function request<T>(app: App, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(app.controlUrl + path, {
    method,
    headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text) as T, text }
}

describe('settings: test connection', () => {
  let twilio: FakeTwilio
  let openai: FakeOpenAiChat
  let elevenlabs: FakeElevenLabs
  let s3: S3Server
  let testApp: TestApp
  let app: App
  let voiceId: string
  const responses: string[] = []

  const test = async (service: string): Promise<ServiceTestResult> => {
    const res = await request<ServiceTestResult>(app, 'POST', '/api/settings/test', { service })
    expect(res.status).toBe(200)
    responses.push(res.text)
    return res.body
  }
  const put = async (update: { settings?: SettingsPatch; secrets?: Record<string, string> }) => {
    expect((await request(app, 'PUT', '/api/settings', update)).status).toBe(200)
  }

  beforeAll(async () => {
    twilio = new FakeTwilio()
    await twilio.start()
    twilio.addNumber(NUMBER)
    ;[openai, elevenlabs, s3] = await Promise.all([
      FakeOpenAiChat.start({ apiKey: OPENAI_KEY }),
      FakeElevenLabs.start({ apiKey: ELEVENLABS_KEY }),
      S3Server.start({ buckets: ['callbench'] })
    ])
    elevenlabs.addAgent({ agentId: 'agent_support', name: 'Support line' })
    voiceId = elevenlabs.voices[0]!.voice_id
    // The fakes' keys are OPENAI_KEY and ELEVENLABS_KEY.
    testApp = await startTestApp({
      fakes: { twilio, openaiChat: openai, elevenlabs, s3 },
      env: { TWILIO_PHONE_NUMBER: NUMBER, S3_BUCKET: 'callbench' }
    })
    app = testApp.app
    await put({ settings: { voice: { voiceId }, elevenlabs: { agentId: 'agent_support' } } })
  })

  afterAll(async () => {
    await testApp?.stop()
    await Promise.allSettled([twilio?.close(), openai?.stop(), elevenlabs?.stop(), s3?.dispose()])
    // Nothing secret in any answer, whatever the service said.
    for (const text of responses) {
      for (const secret of [twilio.authToken, twilio.accountSid, OPENAI_KEY, ELEVENLABS_KEY, 'wrong-token-0123456789', 'sk-wrong-0123456789', 'AKIAWRONG0123456789']) {
        expect(text).not.toContain(secret)
      }
    }
  })

  describe('Twilio', () => {
    it('fetches the account and finds the configured number on it', async () => {
      const r = await test('twilio')
      expect(r).toMatchObject({ service: 'twilio', ok: true, message: `Connected to Twilio “Callbench test account”; ${NUMBER} is on the account` })
      expect(r.detail).toBe('Full account · status active')
      expect(twilio.requestsTo('GET', `/Accounts/${twilio.accountSid}.json`)).toHaveLength(1)
      expect(twilio.requestsTo('GET', '/IncomingPhoneNumbers.json').at(-1)!.query).toMatchObject({ PhoneNumber: NUMBER })
    })

    it('says the Account SID / Auth Token were rejected', async () => {
      await put({ secrets: { TWILIO_AUTH_TOKEN: 'wrong-token-0123456789' } })
      try {
        expect(await test('twilio')).toMatchObject({ ok: false, message: 'Twilio rejected the Account SID / Auth Token (401)', detail: 'Twilio error 20003' })
      } finally {
        await put({ secrets: { TWILIO_AUTH_TOKEN: twilio.authToken } })
      }
    })

    it('says the configured number is not on the account', async () => {
      await put({ settings: { twilio: { phoneNumber: '+15559998888' } } })
      try {
        expect(await test('twilio')).toMatchObject({ ok: false, message: 'The number +15559998888 is not on this Twilio account' })
      } finally {
        await put({ settings: { twilio: { phoneNumber: '' } } })
      }
    })

    it('says a suspended account cannot call', async () => {
      twilio.account.status = 'suspended'
      try {
        expect(await test('twilio')).toMatchObject({ ok: false, message: 'The Twilio account “Callbench test account” is suspended: it cannot place or take calls' })
      } finally {
        twilio.account.status = 'active'
      }
    })

    it('says what is missing when it is not configured', async () => {
      await put({ secrets: { TWILIO_AUTH_TOKEN: '' } })
      try {
        expect(await test('twilio')).toMatchObject({ ok: false, message: 'Twilio is not configured: set the Account SID and Auth Token' })
      } finally {
        await put({ secrets: { TWILIO_AUTH_TOKEN: twilio.authToken } })
      }
    })
  })

  describe('OpenAI', () => {
    it('lists models at the configured base URL and finds the configured ones', async () => {
      const r = await test('openai')
      const host = new URL(openai.url).host
      expect(r).toMatchObject({ ok: true, message: `Connected to OpenAI at ${host}; gpt-realtime and gpt-4o-mini available` })
      expect(r.detail).toBe(`${openai.models.length} models listed; checked gpt-realtime, gpt-4o-mini`)
    })

    it('says the key was rejected', async () => {
      await put({ secrets: { OPENAI_API_KEY: 'sk-wrong-0123456789' } })
      try {
        expect(await test('openai')).toMatchObject({ ok: false, message: 'OpenAI rejected the API key (401)', detail: 'OpenAI error invalid_api_key' })
      } finally {
        await put({ secrets: { OPENAI_API_KEY: OPENAI_KEY } })
      }
    })

    it('names the configured model the key cannot use', async () => {
      await put({ settings: { openai: { realtimeModel: 'gpt-realtime-2099' } } })
      try {
        expect(await test('openai')).toMatchObject({ ok: false, message: 'Model gpt-realtime-2099 is not available to this OpenAI key' })
        openai.models = openai.models.filter((m) => m !== 'gpt-4o-mini')
        expect((await test('openai')).message).toBe('Models gpt-realtime-2099 and gpt-4o-mini are not available to this OpenAI key')
      } finally {
        openai.models.push('gpt-4o-mini')
        await put({ settings: { openai: { realtimeModel: 'gpt-realtime' } } })
      }
    })
  })

  describe('ElevenLabs', () => {
    it('reads the account and finds the configured voice and agent', async () => {
      const r = await test('elevenlabs')
      expect(r).toMatchObject({ ok: true, message: 'Connected to ElevenLabs; the voice and agent exist' })
      expect(r.detail).toBe(`creator plan · 1,234 of 100,000 characters used · voice ${elevenlabs.voices[0]!.name} · agent Support line`)
      expect(elevenlabs.requests.filter((q) => q.path === '/v1/user')).not.toHaveLength(0)
    })

    it('says the key was rejected', async () => {
      await put({ secrets: { ELEVENLABS_API_KEY: 'xi-wrong-0123456789' } })
      try {
        expect(await test('elevenlabs')).toMatchObject({ ok: false, message: 'ElevenLabs rejected the API key (401)', detail: 'ElevenLabs status invalid_api_key' })
      } finally {
        await put({ secrets: { ELEVENLABS_API_KEY: ELEVENLABS_KEY } })
      }
    })

    it('names the voice and the agent that do not exist', async () => {
      await put({ settings: { voice: { voiceId: 'voice_gone' } } })
      expect(await test('elevenlabs')).toMatchObject({ ok: false, message: 'Voice voice_gone was not found on this ElevenLabs account' })
      await put({ settings: { voice: { voiceId }, elevenlabs: { agentId: 'agent_gone' } } })
      expect(await test('elevenlabs')).toMatchObject({ ok: false, message: 'Agent agent_gone was not found on this ElevenLabs account' })
      await put({ settings: { elevenlabs: { agentId: 'agent_support' } } })
    })

    it('says a disabled subscription cannot speak', async () => {
      elevenlabs.subscription.status = 'free_disabled'
      try {
        expect(await test('elevenlabs')).toMatchObject({ ok: false, message: 'The ElevenLabs subscription is free disabled' })
      } finally {
        elevenlabs.subscription.status = 'active'
      }
    })
  })

  describe('S3', () => {
    it('heads the bucket, then writes and deletes a probe object under the prefix', async () => {
      const r = await test('s3')
      const host = new URL(s3.endpoint).host
      expect(r).toMatchObject({ ok: true, message: `Bucket callbench at ${host} is reachable; a probe object was written and deleted under callbench/`, detail: 'with the configured access key' })
      // The probe is gone: nothing is left in the bucket.
      const client = s3ClientFor(s3)
      try {
        const list = await client.send(new ListObjectsV2Command({ Bucket: 'callbench' }))
        expect(list.KeyCount ?? 0).toBe(0)
      } finally {
        client.destroy()
      }
    })

    it('says the bucket does not exist', async () => {
      await put({ settings: { s3: { bucket: 'no-such-bucket' } } })
      try {
        expect(await test('s3')).toMatchObject({ ok: false, message: `Bucket no-such-bucket does not exist at ${new URL(s3.endpoint).host}` })
      } finally {
        await put({ settings: { s3: { bucket: '' } } })
      }
    })

    it('says S3 does not know the access key id', async () => {
      // s3rver checks the key id (not v4 signatures): HeadBucket's bare 403, then a listing's error code says why.
      await put({ secrets: { AWS_ACCESS_KEY_ID: 'AKIAWRONG0123456789' } })
      try {
        expect(await test('s3')).toMatchObject({
          ok: false,
          message: 'S3 does not know the access key id (InvalidAccessKeyId)',
          detail: 'S3 InvalidAccessKeyId (403)'
        })
      } finally {
        await put({ secrets: { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId } })
      }
    })
  })

  it('names the host it could not reach, for each service', async () => {
    const port = await closedPort()
    const dead = `http://127.0.0.1:${port}`
    const other = await startTestApp({
      env: {
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_API_BASE_URL: dead,
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${dead}/v1`,
        ELEVENLABS_API_KEY: ELEVENLABS_KEY,
        ELEVENLABS_BASE_URL: dead,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: dead,
        S3_BUCKET: 'callbench'
      }
    })
    try {
      const messages: Record<string, string> = {}
      for (const service of ['twilio', 'openai', 'elevenlabs', 's3']) {
        const res = await request<ServiceTestResult>(other.app, 'POST', '/api/settings/test', { service })
        expect(res.body.ok).toBe(false)
        messages[service] = res.body.message
      }
      const host = `127.0.0.1:${port}`
      expect(messages).toEqual({
        twilio: `Could not reach Twilio at ${host} (connection refused)`,
        openai: `Could not reach OpenAI at ${host} (connection refused)`,
        elevenlabs: `Could not reach ElevenLabs at ${host} (connection refused)`,
        s3: `Could not reach S3 at ${host} (connection refused)`
      })
    } finally {
      await other.stop()
    }
  })

  it('refuses an unknown service', async () => {
    const res = await request<{ error: { code: string; field?: string } }>(app, 'POST', '/api/settings/test', { service: 'fax' })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'bad_request', field: 'service' })
  })
})
