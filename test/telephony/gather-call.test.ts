import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import { AudioUrlSigner } from '../../src/main/telephony/gather.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { FakeOpenAiChat } from '../fakes/openai-chat.js'
import { TwilioGatherCaller } from '../fakes/twilio-gather.js'
import { FakeTwilio } from '../fakes/twilio-rest.js'
import { startTestApp, type TestApp } from '../support/app.js'

const PUBLIC = 'https://gather-test.example.com'
const GREETING = 'Hello, this is the clinic. How can I help?'

describe('Gather fallback against the Twilio fake (no media stream)', () => {
  let twilio: FakeTwilio
  let chat: FakeOpenAiChat
  let eleven: FakeElevenLabs
  let testApp: TestApp
  let app: App
  let events: ServerEvent[]
  const resolve = (url: string) => url.replace(PUBLIC, `http://127.0.0.1:${app.publicListener.port}`)
  let seq = 0
  const caller = () =>
    new TwilioGatherCaller(twilio, {
      callSid: `CA${String(++seq).padStart(32, '0')}`,
      from: '+15550001111',
      to: '+15550002222',
      resolve
    })

  beforeAll(async () => {
    twilio = new FakeTwilio({ resolve: (url) => resolve(url) })
    await twilio.start()
    chat = await FakeOpenAiChat.start({ reply: () => 'We open at nine. Anything else I can help with?' })
    eleven = await FakeElevenLabs.start()
    testApp = await startTestApp({
      publicUrl: PUBLIC,
      fakes: { openaiChat: chat, elevenlabs: eleven },
      env: { TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken }
    })
    ;({ app, events } = testApp)
    await app.settings.update({
      defaultMode: 'gather',
      voice: { ...app.settings.get().voice, voiceId: 'voice-adam' },
      openai: { ...app.settings.get().openai, greeting: GREETING, instructions: 'You answer for the clinic.' },
      gather: { speechTimeoutS: 2, minConfidence: 0.5, language: 'en-GB' }
    })
  })
  afterAll(async () => {
    await testApp.stop()
    await twilio.close()
    await chat.stop()
    await eleven.stop()
  })

  it('signed voice webhook → Gather TwiML → action with SpeechResult → Play of signed ElevenLabs audio, turn after turn', async () => {
    const c = caller()
    const first = await c.answer(`${PUBLIC}/twilio/voice`)
    expect(first.status).toBe(200)
    expect(first.gather).toMatchObject({
      input: 'speech',
      method: 'POST',
      speechTimeout: '2',
      language: 'en-GB',
      actionOnEmptyResult: 'true'
    })
    expect(first.gather!.action.startsWith(`${PUBLIC}/twilio/gather?callId=`)).toBe(true)
    // The greeting plays in the agent's ElevenLabs voice, from a short-lived signed URL on the public listener.
    expect(first.plays).toHaveLength(1)
    const greeting = first.plays[0]!
    expect(greeting.url).toMatch(new RegExp(`^${PUBLIC}/twilio/gather/audio/[\\w-]+\\.wav\\?exp=\\d+&sig=[\\w-]+$`))
    expect(greeting.status).toBe(200)
    expect(greeting.contentType).toBe('audio/wav')
    expect(greeting.body.subarray(0, 4).toString()).toBe('RIFF')
    expect(greeting.body.readUInt16LE(20)).toBe(7) // WAVE_FORMAT_MULAW
    expect(greeting.body.readUInt32LE(24)).toBe(8000)
    const greetingTts = eleven.tts.find((t) => t.body.text === GREETING)!
    expect(greetingTts.voiceId).toBe('voice-adam')
    expect(greetingTts.query.output_format).toBe('ulaw_8000')

    const turn = await c.say('What time do you open tomorrow?', 0.91)
    const req = chat.requests.at(-1)!
    expect(req.messages).toEqual([
      { role: 'system', content: 'You answer for the clinic.' },
      { role: 'assistant', content: GREETING },
      { role: 'user', content: 'What time do you open tomorrow?' }
    ])
    // The reply is spoken in pieces (sentence by sentence), each synthesised while the model wrote the next.
    expect(turn.gather).toBeDefined()
    expect(turn.plays.length).toBe(2)
    for (const p of turn.plays) {
      expect(p.status).toBe(200)
      expect(p.body.length).toBeGreaterThan(44 + 8 * 200)
    }
    expect(eleven.tts.slice(-2).map((t) => t.body.text)).toEqual(['We open at nine.', 'Anything else I can help with?'])

    // Low confidence: asked again, the model is not called.
    const before = chat.requests.length
    const unsure = await c.say('mumble mumble', 0.2)
    expect(chat.requests.length).toBe(before)
    expect(unsure.gather).toBeDefined()
    expect(eleven.tts.at(-1)!.body.text).toMatch(/didn't catch that/)

    // The second turn carries the first in its history.
    await c.say('And on Sunday?', 0.88)
    expect(chat.requests.at(-1)!.messages.map((m) => m.role)).toEqual([
      'system',
      'assistant',
      'user',
      'assistant',
      'user'
    ])

    const callId = new URL(first.gather!.action).searchParams.get('callId')!
    const transcript = events.filter(
      (e): e is Extract<ServerEvent, { type: 'call.transcript' }> => e.type === 'call.transcript' && e.callId === callId
    )
    expect(transcript.map((t) => t.role)).toEqual(['agent', 'caller', 'agent', 'caller', 'agent'])
  })

  it('refuses audio URLs whose signature is wrong, expired or for another clip, and unsigned action posts', async () => {
    const c = caller()
    const step = await c.answer(`${PUBLIC}/twilio/voice`)
    const url = new URL(step.plays[0]!.url)
    const local = (u: URL) => resolve(u.toString())
    const tampered = new URL(url)
    tampered.searchParams.set(
      'sig',
      url.searchParams.get('sig')!.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))
    )
    expect((await fetch(local(tampered))).status).toBe(403)
    const otherClip = new URL(url)
    otherClip.pathname = '/twilio/gather/audio/AAAAAAAAAAAAAAAA.wav'
    expect((await fetch(local(otherClip))).status).toBe(403)
    const expired = new URL(url)
    expired.searchParams.set('exp', String(Math.floor(Date.now() / 1000) - 10))
    expect((await fetch(local(expired))).status).toBe(403)
    expect((await fetch(local(url))).status).toBe(200)
    const unsigned = await fetch(resolve(step.gather!.action), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: c.callSid, SpeechResult: 'hi', Confidence: '0.9' }).toString()
    })
    expect(unsigned.status).toBe(403)
    const badSig = await twilio.sendWebhook(
      step.gather!.action,
      { CallSid: c.callSid, SpeechResult: 'hi', Confidence: '0.9' },
      { signWith: 'not-the-token' }
    )
    expect(badSig.status).toBe(403)
  })

  it('speaks with Twilio <Say> when there is no ElevenLabs key, and says goodbye after repeated silence', async () => {
    await app.secrets.delete('ELEVENLABS_API_KEY')
    try {
      const c = caller()
      const first = await c.answer(`${PUBLIC}/twilio/voice`)
      expect(first.plays).toHaveLength(0)
      expect(first.says).toEqual([GREETING])
      const turn = await c.say('What time do you open?')
      expect(turn.says).toEqual(['We open at nine.', 'Anything else I can help with?'])
      await c.silence()
      await c.silence()
      const last = await c.silence()
      expect(last.hangup).toBe(true)
      expect(last.gather).toBeUndefined()
    } finally {
      await app.secrets.set('ELEVENLABS_API_KEY', eleven.apiKey)
    }
  })

  it('lists engines with the key each one lacks; Gather is refused on a media stream', async () => {
    const res = await fetch(`${app.controlUrl}/api/engines`, { headers: { authorization: 'Bearer t' } })
    expect(res.status).toBe(200)
    const engines = (await res.json()) as Array<{ mode: string; available: boolean; reason?: string }>
    expect(engines.find((e) => e.mode === 'gather')).toMatchObject({ available: true })
    expect(engines.find((e) => e.mode === 'cascade')).toMatchObject({ available: true })
    await app.secrets.delete('OPENAI_API_KEY')
    await app.secrets.delete('ELEVENLABS_API_KEY')
    try {
      const off = (await (
        await fetch(`${app.controlUrl}/api/engines`, { headers: { authorization: 'Bearer t' } })
      ).json()) as typeof engines
      const cascade = off.find((e) => e.mode === 'cascade')!
      expect(cascade.available).toBe(false)
      expect(cascade.reason).toContain('OPENAI_API_KEY')
      expect(cascade.reason).toContain('ELEVENLABS_API_KEY')
      const hybrid = off.find((e) => e.mode === 'hybrid')!
      expect(hybrid.available).toBe(false)
      expect(hybrid.reason).toMatch(/OPENAI_API_KEY.*ELEVENLABS_API_KEY/)
      expect(off.find((e) => e.mode === 'gather')).toMatchObject({ available: false })
      expect(off.find((e) => e.mode === 'echo')).toMatchObject({ available: true })
    } finally {
      await app.secrets.set('OPENAI_API_KEY', chat.apiKey)
      await app.secrets.set('ELEVENLABS_API_KEY', eleven.apiKey)
    }
  })

  it('signs over path and expiry with a per-launch secret', () => {
    const a = new AudioUrlSigner()
    const b = new AudioUrlSigner()
    const q = new URLSearchParams(a.sign('/twilio/gather/audio/x.wav', 60, 1000))
    expect(a.verify('/twilio/gather/audio/x.wav', q.get('exp'), q.get('sig'), 1000)).toBe(true)
    expect(a.verify('/twilio/gather/audio/x.wav', q.get('exp'), q.get('sig'), 1061)).toBe(false)
    expect(a.verify('/twilio/gather/audio/y.wav', q.get('exp'), q.get('sig'), 1000)).toBe(false)
    expect(b.verify('/twilio/gather/audio/x.wav', q.get('exp'), q.get('sig'), 1000)).toBe(false)
  })
})
