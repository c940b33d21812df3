// Twilio signatures on the public listener: webhooks and the Media Streams upgrade, signed with the SDK's own helper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import twilio from 'twilio'
import WebSocket from 'ws'
import { telephonyOf } from '../../src/main/server/routes/telephony.js'
import type { PlaceCallResult } from '../../src/shared/telephony.js'
import { startHarness, PUBLIC_URL, type Harness } from './harness.js'

const VOICE_PARAMS = {
  AccountSid: 'AC' + '1'.repeat(32),
  ApiVersion: '2010-04-01',
  CallSid: 'CA' + '2'.repeat(32),
  CallStatus: 'ringing',
  Direction: 'inbound',
  From: '+15551230000',
  To: '+15550001111'
}

async function post(h: Harness, path: string, params: Record<string, string>, signature: string | undefined) {
  const res = await fetch(h.local(PUBLIC_URL + path), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(params).toString()
  })
  return { status: res.status, body: await res.text() }
}

/** Opens the media WebSocket; answers the HTTP status of a refused upgrade, or the open socket. */
function upgrade(h: Harness, path: string, signature: string | undefined): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(h.local(PUBLIC_URL.replace('https', 'wss') + path), {
      headers: signature !== undefined ? { 'x-twilio-signature': signature } : {}
    })
    ws.once('open', () => resolve({ status: 101, ws }))
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 })
      res.resume()
    })
    ws.once('error', reject)
  })
}

function sign(h: Harness, url: string, params: Record<string, string>, token = h.fake.authToken): string {
  return twilio.getExpectedTwilioSignature(token, url, params)
}

function sideEffects(h: Harness) {
  return {
    events: h.events.filter((e) => e.type.startsWith('call.')).length,
    live: h.app.calls.list().length,
    tracked: telephonyOf(h.app).telephony.tracker.list().length,
    rest: h.fake.requests.length
  }
}

describe('signed requests only', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => {
    await h.close()
  })

  it('accepts a webhook signed for the public URL', async () => {
    const res = await post(h, '/twilio/voice', VOICE_PARAMS, sign(h, `${PUBLIC_URL}/twilio/voice`, VOICE_PARAMS))
    expect(res.status).toBe(200)
    expect(res.body).toContain('<Connect><Stream url="wss://callbench-test.example/twilio/media"')
  })

  it.each([
    ['a missing header', () => undefined],
    ['a signature for the local URL', () => sign(h, h.local(`${PUBLIC_URL}/twilio/voice`), VOICE_PARAMS)],
    ['a signature for another path', () => sign(h, `${PUBLIC_URL}/twilio/status`, VOICE_PARAMS)],
    ['a changed parameter', () => sign(h, `${PUBLIC_URL}/twilio/voice`, { ...VOICE_PARAMS, From: '+15559999999' })],
    ['another auth token', () => sign(h, `${PUBLIC_URL}/twilio/voice`, VOICE_PARAMS, 'f'.repeat(32))]
  ])('refuses a webhook with %s: 403 and nothing else happens', async (_name, signature) => {
    const before = sideEffects(h)
    const warned = h.events.filter((e) => e.type === 'log' && e.msg === 'twilio request rejected').length
    const res = await post(h, '/twilio/voice', VOICE_PARAMS, signature())
    expect(res.status).toBe(403)
    expect(res.body).not.toContain('<Response>')
    expect(sideEffects(h)).toEqual(before)
    expect(h.events.filter((e) => e.type === 'log' && e.msg === 'twilio request rejected').length).toBe(warned + 1)
  })

  it('checks the query string as part of the URL', async () => {
    const params = { CallSid: VOICE_PARAMS.CallSid, CallStatus: 'ringing' }
    const signed = sign(h, `${PUBLIC_URL}/twilio/status?callId=a`, params)
    expect((await post(h, '/twilio/status?callId=a', params, signed)).status).toBe(200)
    expect((await post(h, '/twilio/status?callId=b', params, signed)).status).toBe(403)
  })

  it('refuses status, AMD and recording callbacks that are not signed', async () => {
    for (const path of ['/twilio/status', '/twilio/amd', '/twilio/recording']) {
      expect((await post(h, path, { CallSid: VOICE_PARAMS.CallSid, AnsweredBy: 'machine_start' }, 'bm90IGEgc2lnbmF0dXJl')).status).toBe(403)
    }
  })

  describe('the Media Streams upgrade', () => {
    const wssUrl = PUBLIC_URL.replace('https', 'wss') + '/twilio/media'

    it('opens when signed over the wss:// URL from our TwiML with no params', async () => {
      const { status, ws } = await upgrade(h, '/twilio/media', sign(h, wssUrl, {}))
      expect(status).toBe(101)
      ws!.close()
    })

    it.each([
      ['no signature', () => undefined, '/twilio/media'],
      ['a signature over https://', () => sign(h, `${PUBLIC_URL}/twilio/media`, {}), '/twilio/media'],
      ['a signature over another path', () => sign(h, PUBLIC_URL.replace('https', 'wss') + '/twilio/other', {}), '/twilio/media'],
      ['a query string', () => sign(h, `${wssUrl}?callId=x`, {}), '/twilio/media?callId=x'],
      ['another auth token', () => sign(h, wssUrl, {}, 'f'.repeat(32)), '/twilio/media']
    ])('refuses %s with 403', async (_name, signature, path) => {
      const before = sideEffects(h)
      const { status } = await upgrade(h, path, signature())
      expect(status).toBe(403)
      expect(sideEffects(h)).toEqual(before)
    })

    it('closes a signed stream whose start does not carry the call token', async () => {
      const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: '+15557654321', mode: 'echo' })
      const before = h.app.calls.list().length
      const { ws } = await upgrade(h, '/twilio/media', sign(h, wssUrl, {}))
      const closed = new Promise<number>((resolve) => ws!.once('close', (code) => resolve(code)))
      ws!.send('{"event":"connected","protocol":"Call","version":"1.0.0"}')
      ws!.send(
        JSON.stringify({
          event: 'start',
          sequenceNumber: '1',
          streamSid: 'MZ' + '3'.repeat(32),
          start: {
            accountSid: h.fake.accountSid,
            streamSid: 'MZ' + '3'.repeat(32),
            callSid: placed.body.callSid,
            tracks: ['inbound'],
            customParameters: { callId: placed.body.callId, streamToken: 'guessed-token-guessed-token' },
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }
          }
        })
      )
      expect(await closed).toBe(1011)
      expect(h.app.calls.list().length).toBe(before)
    })
  })
})

describe('without an auth token', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ noAuthToken: true })
  })
  afterAll(async () => {
    await h.close()
  })

  it('refuses everything on the public listener, signed or not', async () => {
    expect((await post(h, '/twilio/voice', VOICE_PARAMS, sign(h, `${PUBLIC_URL}/twilio/voice`, VOICE_PARAMS))).status).toBe(403)
    expect((await post(h, '/twilio/voice', VOICE_PARAMS, undefined)).status).toBe(403)
    expect((await upgrade(h, '/twilio/media', sign(h, PUBLIC_URL.replace('https', 'wss') + '/twilio/media', {}))).status).toBe(403)
  })
})

describe('unsigned loopback development mode', () => {
  it('lets unsigned local requests through only when asked for and nothing is exposed', async () => {
    const dev = await startHarness({ publicUrl: undefined, env: { CALLBENCH_UNSIGNED_LOOPBACK: '1' } })
    try {
      const res = await post(dev, '/twilio/voice', VOICE_PARAMS, undefined)
      expect(res.status).toBe(200)
      expect(res.body).toContain(`ws://127.0.0.1:${dev.app.publicListener.port}/twilio/media`)
    } finally {
      await dev.close()
    }
    const exposed = await startHarness({ env: { CALLBENCH_UNSIGNED_LOOPBACK: '1' } })
    try {
      expect((await post(exposed, '/twilio/voice', VOICE_PARAMS, undefined)).status).toBe(403)
    } finally {
      await exposed.close()
    }
  })
})
