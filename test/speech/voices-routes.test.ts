import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import type { CallSession } from '../../src/main/calls/call-session.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { FakeRealtimeServer } from '../fakes/openai-realtime.js'
import { TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

const TOKEN = 't'

function api(app: App) {
  return async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`http://127.0.0.1:${app.controlListener.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
}

/** Resolves with the first hub event that matches. */
function hubEvent(app: App, pred: (e: ServerEvent) => boolean): Promise<ServerEvent> {
  return new Promise((resolve) => {
    const off = app.hub.subscribe((e) => {
      if (!pred(e)) return
      off()
      resolve(e)
    })
  })
}

/** Opens a loopback call on /api/media running the echo engine; resolves once its greeting has been sent. */
async function openCall(app: App): Promise<{ sim: TwilioMediaSim; session: CallSession }> {
  const sim = new TwilioMediaSim({ url: `ws://127.0.0.1:${app.controlListener.port}/api/media?token=${TOKEN}`, customParameters: { mode: 'echo' } })
  const started = new Promise<CallSession>((resolve) => app.calls.once('started', resolve))
  const greeted = hubEvent(app, (e) => e.type === 'call.timeline' && e.entry.kind === 'reply.end')
  await sim.connect()
  const session = await started
  await greeted
  await untilFrames(sim, session.stats.framesOut)
  return { sim, session }
}

function untilFrames(sim: TwilioMediaSim, frames: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (sim.stats().mediaFramesReceived < frames) return
      sim.off('media', check)
      resolve()
    }
    sim.on('media', check)
    check()
  })
}

function waitFor(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (!cond()) return
      clearInterval(t)
      resolve()
    }, 5)
  })
}

describe('voice routes', () => {
  let fake: FakeElevenLabs
  let testApp: TestApp
  let app: App
  let call: ReturnType<typeof api>

  beforeAll(async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0, ttsChunkIntervalMs: 2 })
    testApp = await startTestApp({ token: TOKEN, fakes: { elevenlabs: fake } })
    app = testApp.app
    call = api(app)
  })
  afterAll(async () => {
    await testApp.stop()
    await fake.stop()
  })

  it('lists voices with id, name, category, labels and preview, cached until refresh=1', async () => {
    const count = () => fake.requests.filter((r) => r.path === '/v1/voices').length
    const res = await call('GET', '/api/voices')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { voices: unknown[]; fetchedAt: string }
    expect(body.voices).toContainEqual({
      id: 'voice-rachel',
      name: 'Rachel',
      category: 'premade',
      labels: { accent: 'american', gender: 'female' },
      previewUrl: 'http://127.0.0.1/preview/rachel.mp3'
    })
    const before = count()
    await call('GET', '/api/voices')
    expect(count()).toBe(before)
    await call('GET', '/api/voices?refresh=1')
    expect(count()).toBe(before + 1)
  })

  it('validates a voice id', async () => {
    const ok = (await (await call('GET', '/api/voices/voice-adam/validate')).json()) as { valid: boolean; voice: { name: string } }
    expect(ok.valid).toBe(true)
    expect(ok.voice.name).toBe('Adam')
    const bad = (await (await call('GET', '/api/voices/no-such/validate')).json()) as { valid: boolean; message: string }
    expect(bad.valid).toBe(false)
    expect(bad.message).toContain("'no-such'")
  })

  it('previews a voice as mp3 with the sample sentence', async () => {
    const res = await call('POST', '/api/voices/voice-rachel/preview', {})
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('audio/mpeg')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(bytes[0]).toBe(0xff)
    const rec = fake.tts.at(-1)!
    expect(rec.voiceId).toBe('voice-rachel')
    expect(String(rec.body.text)).toMatch(/how I sound/)
  })

  it('synthesizes mp3 and wav with the given voice settings', async () => {
    const mp3 = await call('POST', '/api/synthesize', { text: 'Testing one two.', voiceId: 'voice-rachel', voiceSettings: { speed: 0.8 }, format: 'mp3' })
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg')
    expect(fake.tts.at(-1)!.body.voice_settings).toMatchObject({ speed: 0.8, stability: 0.5 })
    const wav = await call('POST', '/api/synthesize', { text: 'Testing one two.', voiceId: 'voice-rachel', voiceSettings: {}, format: 'wav' })
    expect(wav.headers.get('content-type')).toBe('audio/wav')
    const bytes = Buffer.from(await wav.arrayBuffer())
    expect(bytes.toString('ascii', 0, 4)).toBe('RIFF')
    expect(bytes.readUInt32LE(24)).toBe(16000)
    expect(fake.tts.at(-1)!.query.output_format).toBe('pcm_16000')
    // 16 chars × 40 ms = 640 ms of 16-bit 16 kHz.
    expect(bytes.readUInt32LE(40)).toBe(640 * 32)
  })

  it.each([
    [{ speed: 1.5 }, 'voiceSettings.speed'],
    [{ speed: 0.5 }, 'voiceSettings.speed'],
    [{ stability: -0.1 }, 'voiceSettings.stability'],
    [{ similarityBoost: 1.2 }, 'voiceSettings.similarityBoost'],
    [{ style: 2 }, 'voiceSettings.style'],
    [{ speakerBoost: 'yes' }, 'voiceSettings.speakerBoost']
  ])('refuses voice settings %j with a 400 naming %s', async (voiceSettings, field) => {
    const res = await call('POST', '/api/synthesize', { text: 'Hi', voiceId: 'voice-rachel', voiceSettings })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; field: string } }
    expect(body.error).toMatchObject({ code: 'bad_request', field })
  })

  it('answers 404 naming an unknown voice on synthesis', async () => {
    const res = await call('POST', '/api/synthesize', { text: 'Hi', voiceId: 'ghost' })
    expect(res.status).toBe(404)
    const body = (await res.json()) as { error: { message: string; field: string } }
    expect(body.error.message).toContain("voice 'ghost'")
    expect(body.error.field).toBe('voiceId')
  })

  it("checks an agent's audio formats for the console", async () => {
    fake.addAgent({ agentId: 'agent_ok', name: 'Twilio ready', input: 'ulaw_8000', output: 'ulaw_8000' })
    fake.addAgent({ agentId: 'agent_pcm', name: 'Web agent', input: 'pcm_16000', output: 'pcm_16000' })
    const ok = (await (await call('GET', '/api/elevenlabs/agents/agent_ok/check')).json()) as Record<string, unknown>
    expect(ok).toMatchObject({ agentId: 'agent_ok', name: 'Twilio ready', passThrough: true, convertible: true, warnings: [] })
    const pcm = (await (await call('GET', '/api/elevenlabs/agents/agent_pcm/check')).json()) as { passThrough: boolean; warnings: string[] }
    expect(pcm.passThrough).toBe(false)
    expect(pcm.warnings[0]).toContain('ulaw_8000')
    expect((await call('GET', '/api/elevenlabs/agents/agent_none/check')).status).toBe(404)
  })

  it('creates an agent from settings, stores its id, and updates it in place next time', async () => {
    await call('PUT', '/api/settings', {
      settings: { elevenlabs: { agentId: '', prompt: 'You book tables.', firstMessage: 'Hi, table for how many?', language: 'en' }, voice: { voiceId: 'voice-adam' } }
    })
    const res = await call('POST', '/api/elevenlabs/agents', { name: 'Bench agent' })
    const created = (await res.json()) as { agentId: string; created: boolean }
    expect(created.created).toBe(true)
    expect(app.settings.get().elevenlabs.agentId).toBe(created.agentId)
    const agent = fake.agents.get(created.agentId)!
    expect(agent.name).toBe('Bench agent')
    expect(agent.tags).toContain('callbench')
    expect(agent.conversationConfig).toMatchObject({
      agent: { first_message: 'Hi, table for how many?', language: 'en', prompt: { prompt: 'You book tables.', tools: [{ type: 'client', name: 'end_call' }] } },
      asr: { user_input_audio_format: 'ulaw_8000' },
      tts: { voice_id: 'voice-adam', agent_output_audio_format: 'ulaw_8000' }
    })
    expect(agent.platformSettings).toMatchObject({
      overrides: { conversation_config_override: { agent: { prompt: { prompt: true }, first_message: true }, tts: { voice_id: true } } }
    })
    await call('PUT', '/api/settings', { settings: { elevenlabs: { ...app.settings.get().elevenlabs, prompt: 'You take orders.' } } })
    const again = (await (await call('POST', '/api/elevenlabs/agents', {})).json()) as { agentId: string; created: boolean }
    expect(again).toEqual({ agentId: created.agentId, created: false })
    expect((fake.agents.get(created.agentId)!.conversationConfig.agent as { prompt: { prompt: string } }).prompt.prompt).toBe('You take orders.')
    // The check route sees the new agent as a pass-through.
    const check = (await (await call('GET', `/api/elevenlabs/agents/${created.agentId}/check`)).json()) as { passThrough: boolean }
    expect(check.passThrough).toBe(true)
  })

  it('never updates an agent Callbench did not make', async () => {
    fake.addAgent({ agentId: 'agent_theirs', name: 'Production agent' })
    await call('PUT', '/api/settings', { settings: { elevenlabs: { ...app.settings.get().elevenlabs, agentId: 'agent_theirs' } } })
    const res = (await (await call('POST', '/api/elevenlabs/agents', {})).json()) as { agentId: string; created: boolean }
    expect(res.created).toBe(true)
    expect(res.agentId).not.toBe('agent_theirs')
    expect(fake.agents.get('agent_theirs')!.name).toBe('Production agent')
  })

  describe('in a live call', () => {
    let sim: TwilioMediaSim | undefined
    afterEach(async () => {
      await sim?.hangup()
      sim = undefined
    })

    it('streams say into the call as μ-law and names the speaker in the transcript', async () => {
      const opened = await openCall(app)
      sim = opened.sim
      const before = sim.stats().mediaBytesReceived
      const operatorLine = hubEvent(app, (e) => e.type === 'call.transcript' && e.role === 'operator')
      const text = 'Hello, this is the operator.' // 28 chars × 40 ms = 1120 ms
      const res = await call('POST', `/api/calls/${opened.session.id}/say`, { text, voiceId: 'voice-adam' })
      expect(res.status).toBe(200)
      const body = (await res.json()) as { replyId: string; via: string; voiceId: string }
      expect(body).toMatchObject({ via: 'elevenlabs', voiceId: 'voice-adam' })
      const rec = fake.tts.at(-1)!
      expect(rec.query.output_format).toBe('ulaw_8000')
      await waitFor(() => rec.done)
      await untilFrames(sim, opened.session.stats.framesOut)
      expect(sim.stats().mediaBytesReceived - before).toBe(1120 * 8)
      expect(await operatorLine).toMatchObject({ text })
    })

    it('refuses say with 404 for an unknown call and 400 for empty text', async () => {
      expect((await call('POST', '/api/calls/nope/say', { text: 'Hi' })).status).toBe(404)
      const opened = await openCall(app)
      sim = opened.sim
      const res = await call('POST', `/api/calls/${opened.session.id}/say`, { text: '' })
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe('text')
    })

    it('changes the voice for the rest of the call', async () => {
      const opened = await openCall(app)
      sim = opened.sim
      const id = opened.session.id
      const bad = await call('POST', `/api/calls/${id}/voice`, { voiceId: 'ghost' })
      expect(bad.status).toBe(404)
      const res = await call('POST', `/api/calls/${id}/voice`, { voiceId: 'voice-rachel', voiceSettings: { speed: 1.2 } })
      expect(((await res.json()) as { voiceId: string }).voiceId).toBe('voice-rachel')
      await call('POST', `/api/calls/${id}/say`, { text: 'Faster now.' })
      const rec = fake.tts.at(-1)!
      expect(rec.voiceId).toBe('voice-rachel')
      expect(rec.body.voice_settings).toMatchObject({ speed: 1.2 })
      await waitFor(() => rec.done)
    })

    it('speaks and answers on the events socket: get_call, say, update_voice, stop', async () => {
      const opened = await openCall(app)
      sim = opened.sim
      const callId = opened.session.id
      const ws = new WebSocket(`ws://127.0.0.1:${app.controlListener.port}/api/events?token=${TOKEN}`)
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      const replies = new Map<string, (msg: Record<string, unknown>) => void>()
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as Record<string, unknown>
        if (msg.type === 'reply') replies.get(msg.id as string)?.(msg)
      })
      const ask = (msg: Record<string, unknown>) =>
        new Promise<Record<string, unknown>>((resolve) => {
          replies.set(msg.id as string, resolve)
          ws.send(JSON.stringify(msg))
        })
      const view = await ask({ type: 'get_call', id: 'a', callId })
      expect(view).toMatchObject({ ok: true, data: { call: { id: callId, mode: 'echo' }, canSay: false, speaking: false } })
      const said = await ask({ type: 'say', id: 'b', callId, text: 'From the socket.' })
      expect(said).toMatchObject({ ok: true, data: { via: 'elevenlabs' } })
      const badVoice = await ask({ type: 'update_voice', id: 'c', callId, voiceSettings: { speed: 3 } })
      expect(badVoice).toMatchObject({ ok: false, error: { code: 'bad_request' } })
      expect(String((badVoice.error as { message: string }).message)).toContain('voiceSettings.speed')
      const stopped = await ask({ type: 'stop', id: 'd', callId })
      expect(stopped.ok).toBe(true)
      const missing = await ask({ type: 'get_call', id: 'e', callId: 'nope' })
      expect(missing).toMatchObject({ ok: false, error: { code: 'call_not_found' } })
      ws.close()
    })
  })
})

describe('stop in a live call', () => {
  let fake: FakeElevenLabs
  let testApp: TestApp
  let app: App

  beforeAll(async () => {
    // Real-time TTS: 100 ms of audio every 100 ms, so the stream is still running when stop comes.
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0, ttsChunkIntervalMs: 100 })
    testApp = await startTestApp({ token: TOKEN, fakes: { elevenlabs: fake } })
    app = testApp.app
  })
  afterAll(async () => {
    await testApp.stop()
    await fake.stop()
  })

  it('silences say at once: Twilio clear, nothing more sent, the TTS stream aborted', async () => {
    const { sim, session } = await openCall(app)
    const call = api(app)
    const said = await call('POST', `/api/calls/${session.id}/say`, { text: 'This is a long announcement that goes on and on and on for several seconds.' })
    expect(said.status).toBe(200)
    const rec = fake.tts.at(-1)!
    await waitFor(() => rec.bytesSent >= 3 * 800)
    await untilFrames(sim, session.stats.framesOut)
    expect(sim.agentPlaying()).toBe(true)
    const cleared = new Promise<void>((resolve) => sim.once('clear', () => resolve()))
    const res = await call('POST', `/api/calls/${session.id}/stop`)
    expect(((await res.json()) as { stopped: number }).stopped).toBe(1)
    await cleared
    // Twilio dropped what was queued: playback ends with the frame playing now.
    expect(sim.agentPlaying()).toBe(false)
    const framesAtClear = sim.stats().mediaFramesReceived
    await waitFor(() => rec.aborted)
    expect(rec.done).toBe(false)
    // The stream is closed, so nothing more can come in; let the pump see that, then nothing went out after the clear.
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(session.stats.framesOut).toBe(framesAtClear)
    expect(sim.stats().mediaFramesReceived).toBe(framesAtClear)
    await sim.hangup()
  })
})

describe('say without an ElevenLabs key', () => {
  it('asks an OpenAI Realtime model to speak the text verbatim', async () => {
    const rt = await FakeRealtimeServer.start({ logAppends: false })
    const testApp = await startTestApp({ token: TOKEN, env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: rt.baseUrl } })
    const app = testApp.app
    try {
      const sim = new TwilioMediaSim({
        url: testApp.mediaUrl,
        customParameters: { mode: 'openai-realtime', callId: 'rt-say-1' }
      })
      const ready = hubEvent(app, (e) => e.type === 'call.timeline' && e.callId === 'rt-say-1' && e.entry.kind === 'session.ready')
      await sim.connect()
      await ready
      const text = 'Your order has shipped.'
      const res = await api(app)('POST', '/api/calls/rt-say-1/say', { text })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { via: string }).via).toBe('agent')
      const session = await rt.sessionAt(0)
      const asked = await session.untilReceived((e) => e.event.type === 'response.create' && JSON.stringify(e.event).includes(text))
      expect(JSON.stringify(asked.event)).toMatch(/exactly/i)
      await sim.hangup()
    } finally {
      await testApp.stop()
      await rt.close()
    }
  })

  it('is refused on an engine that cannot speak text, with the reason', async () => {
    const testApp = await startTestApp({ token: TOKEN })
    const app = testApp.app
    try {
      const { sim, session } = await openCall(app)
      const res = await api(app)('POST', `/api/calls/${session.id}/say`, { text: 'Hello' })
      expect(res.status).toBe(422)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('not_configured')
      expect(body.error.message).toContain('ElevenLabs API key')
      expect((await api(app)('GET', '/api/voices')).status).toBe(422)
      await sim.hangup()
    } finally {
      await testApp.stop()
    }
  })
})
