// A hybrid call through the real bridge: simulated Twilio → /api/media → CallSession → Realtime (text) fake + ElevenLabs TTS fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { FakeRealtimeServer } from '../fakes/openai-realtime.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

const SHORT = 'Let me check that for you.'
const LONG =
  'Of course, let me look that up for you right away. Our shop opens at nine in the morning on weekdays and closes at six in the evening, ' +
  'while on Saturdays we open an hour later and close at four, and on Sundays we stay closed all day long.'

describe('hybrid engine through the bridge (Realtime text → ElevenLabs voice)', () => {
  let realtime: FakeRealtimeServer
  let eleven: FakeElevenLabs
  let testApp: TestApp
  let app: App
  const clips = loadSpeechClips()
  beforeAll(async () => {
    realtime = await FakeRealtimeServer.start({ callerText: 'Hello.', firstDeltaDelayMs: 20, textDeltaIntervalMs: 5 })
    eleven = await FakeElevenLabs.start({ ttsFirstByteDelayMs: 30 })
    testApp = await startTestApp({ fakes: { realtime, elevenlabs: eleven } })
    app = testApp.app
    await app.settings.update({
      voice: {
        voiceId: 'voice-adam',
        settings: { stability: 0.6, similarityBoost: 0.7, style: 0, speakerBoost: true, speed: 0.9 }
      }
    })
  })
  afterAll(async () => {
    await testApp.stop()
    await realtime.close()
    await eleven.stop()
  })

  it('asks the model for text and speaks it through TTS: the first audio reaches Twilio, turn metrics complete', async () => {
    realtime.options.replyText = SHORT
    const callId = 'hybrid-1'
    const sim = new TwilioMediaSim({ url: testApp.mediaUrl, customParameters: { mode: 'hybrid', callId } })
    const socketsBefore = eleven.ttsSockets.length
    await sim.connect()
    await sim.play([
      { kind: 'silence', durationMs: 200 },
      { ...speechOf(clips[0]!), label: 'turn' },
      { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 100 }
    ])
    const live = app.calls.get(callId)!
    expect(live.mode).toBe('hybrid')
    await sim.hangup()

    const session = realtime.sessionFor(callId)!
    expect(session.config.output_modalities).toEqual(['text'])
    expect(session.responses[0]!.status).toBe('completed')
    const socket = eleven.ttsSockets.slice(socketsBefore).find((s) => s.messages.length > 1)!
    expect(socket.voiceId).toBe('voice-adam')
    expect(socket.query.output_format).toBe('ulaw_8000')
    expect(socket.messages[0]).toMatchObject({ voice_settings: { stability: 0.6, similarity_boost: 0.7, speed: 0.9 } })
    const spoken = socket.messages
      .slice(1)
      .map((m) => m.text as string)
      .join('')
    expect(spoken.replace(/\s+/g, ' ').trim()).toBe(SHORT)

    const turn = sim.stats().speech.find((s) => s.label === 'turn')!
    expect(turn.firstAgentMediaAtMs).toBeGreaterThan(turn.offsetSentAtMs!)
    // The reply's audio (the fake speaks 40 ms per character) all reached the caller.
    expect(sim.stats().mediaBytesReceived).toBeGreaterThanOrEqual(SHORT.length * 40 * 8)
    expect(live.turns).toHaveLength(1)
    const m = live.turns[0]!
    // Measured between two events received from the fake, so delivery jitter can shorten its 20 ms delay.
    expect(m.llmFirstTokenMs).toBeGreaterThan(0)
    expect(m.ttsFirstByteMs).toBeGreaterThanOrEqual(30)
    expect(m.bridgeMs).toBeGreaterThanOrEqual(0)
  })

  it('barge-in: clear, TTS socket closed, response.cancel sent, the model told what was heard', async () => {
    realtime.options.replyText = LONG
    // Slow text, so the response is still being written when the caller speaks over the first sentence.
    realtime.options.textDeltaIntervalMs = 120
    const callId = 'hybrid-2'
    const sim = new TwilioMediaSim({ url: testApp.mediaUrl, customParameters: { mode: 'hybrid', callId } })
    await sim.connect()
    await sim.play([
      { kind: 'silence', durationMs: 200 },
      { ...speechOf(clips[1]!), label: 'turn' },
      { kind: 'waitForAgent', until: 'speaking', timeoutMs: 8000, afterMs: 400 },
      { ...speechOf(clips[2]!), label: 'barge' },
      { kind: 'silence', durationMs: 300 }
    ])
    const live = app.calls.get(callId)!
    const session = realtime.sessionFor(callId)!
    await sim.hangup()

    const barge = sim.stats().speech.find((s) => s.label === 'barge')!
    expect(barge.agentPlayingAtOnset).toBe(true)
    expect(barge.clearAtMs).toBeGreaterThan(barge.onsetSentAtMs!)
    expect(sim.stats().generations.reduce((n, g) => n + g.staleFrames, 0)).toBe(0)

    const cutSocket = eleven.ttsSockets.find((s) =>
      s.messages.some((m) => typeof m.text === 'string' && m.text.startsWith('Of course'))
    )!
    expect(cutSocket.closedBeforeFinal).toBe(true)
    const types = session.received.map((r) => r.event.type)
    expect(types).toContain('response.cancel')
    expect(session.responses[0]!.status).toBe('cancelled')
    const note = session.received.find(
      (r) =>
        r.event.type === 'conversation.item.create' &&
        JSON.stringify(r.event).includes('The caller interrupted your last reply')
    )
    expect(note).toBeDefined()
    const heard = /heard only: \\"(.*?)\\"/.exec(JSON.stringify(note!.event))?.[1] ?? ''
    expect(heard.length).toBeGreaterThan(0)
    expect(LONG.startsWith(heard)).toBe(true)
    expect(live.timeline.map((t) => t.kind)).toEqual(
      expect.arrayContaining(['speech_started', 'barge_in', 'clear', 'reply.cut'])
    )
  })
})
