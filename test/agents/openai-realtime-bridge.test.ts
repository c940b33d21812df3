// An OpenAI Realtime call through the real bridge: simulated Twilio → /api/media → CallSession → agent → GA fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import { FakeRealtimeServer } from '../fakes/openai-realtime.js'
import { TwilioMediaSim, loadSpeechClips, speechOf } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

const REPLY_MS = 2000

describe('OpenAI Realtime call through the bridge', () => {
  let fake: FakeRealtimeServer
  let testApp: TestApp
  let app: App

  beforeAll(async () => {
    fake = await FakeRealtimeServer.start({
      replyDurationMs: REPLY_MS,
      replyText: 'Let me check that for you.',
      callerText: 'Hello.'
    })
    testApp = await startTestApp({ fakes: { realtime: fake } })
    app = testApp.app
  })

  afterAll(async () => {
    await testApp.stop()
    await fake.close()
  })

  it('two turns, a barge-in into the second reply truncated at what the caller heard, no caller audio lost', async () => {
    const [first, second, third] = loadSpeechClips()
    const callId = 'rt-bridge-1'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'openai-realtime', callId }
    })
    await sim.connect()
    await sim.play([
      { ...speechOf(first!), label: 'turn1' },
      // The first reply plays out in full before the caller speaks again.
      { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 300 },
      { ...speechOf(second!), label: 'turn2' },
      // Into the second reply: its onset comes 700 ms + the clip's lead-in after the reply starts playing.
      { kind: 'waitForAgent', until: 'speaking', timeoutMs: 8000, afterMs: 700 },
      { ...speechOf(third!), label: 'barge' },
      { kind: 'silence', durationMs: 300 }
    ])
    const session = fake.sessionFor(callId)!
    expect(session).toBeDefined()
    const live = app.calls.get(callId)!
    expect(live.mode).toBe('openai-realtime')
    const turns = [...live.turns]
    const timeline = live.timeline.map((t) => t.kind)
    const truncateEntry = live.timeline.find((t) => t.kind === 'truncate')
    await sim.hangup()
    await session.untilClosed()

    const stats = sim.stats()
    // Every caller frame reached the service, none before session.update.
    expect(session.audioBytesReceived).toBe(stats.framesSent * 160)
    expect(session.appendsBeforeSessionUpdate).toBe(0)
    expect(session.invalidEvents).toEqual([])

    const turn2 = stats.speech.find((s) => s.label === 'turn2')!
    const barge = stats.speech.find((s) => s.label === 'barge')!
    expect(session.responses.length).toBeGreaterThanOrEqual(2)
    const [reply1, reply2] = session.responses
    expect(reply1!.status).toBe('completed')
    // The barge-in cleared Twilio and truncated the SECOND reply at what the simulated caller had heard of it.
    expect(barge.agentPlayingAtOnset).toBe(true)
    expect(barge.clearAtMs).toBeDefined()
    expect(session.truncations).toHaveLength(1)
    const cut = session.truncations[0]!
    expect(cut.itemId).toBe(reply2!.itemId)
    expect(cut.accepted).toBe(true)
    // Reply 2 began playing when its first frame reached the (idle) simulated Twilio.
    const heardAtClearMs = Math.min(REPLY_MS, barge.clearAtMs! - turn2.firstAgentMediaAtMs!)
    expect(Math.abs(cut.audioEndMs - heardAtClearMs)).toBeLessThanOrEqual(20)
    // It waited for the marks Twilio returned on the clear, which timed the clear's round trip.
    expect(truncateEntry?.data?.clearRoundTripMs).toBeGreaterThanOrEqual(0)
    // Nothing of the cut reply reached the caller after the clear.
    expect(stats.generations.reduce((n, g) => n + g.staleFrames, 0)).toBe(0)
    expect(timeline).toEqual(
      expect.arrayContaining(['session.ready', 'speech_started', 'response.created', 'barge_in', 'clear', 'truncate'])
    )
    // Turns carry the engine's share, so the bridge's own share is computed.
    expect(turns.length).toBeGreaterThanOrEqual(2)
    for (const t of turns.slice(0, 2)) {
      expect(t.callerStoppedAtMs).toBeDefined()
      expect(t.llmFirstTokenMs).toBeGreaterThanOrEqual(0)
      expect(t.bridgeMs).toBeGreaterThanOrEqual(0)
    }
    const transcripts = testApp.events.filter((e) => e.type === 'call.transcript' && e.callId === callId)
    expect(
      transcripts.some(
        (e) => e.type === 'call.transcript' && e.role === 'agent' && e.final && e.text === 'Let me check that for you.'
      )
    ).toBe(true)
    expect(transcripts.some((e) => e.type === 'call.transcript' && e.role === 'caller' && e.final)).toBe(true)
  })

  it('the service dropping mid-reply ends only that call, after the apology', async () => {
    fake.options.script = (_s, index) => (index === 0 ? { dropAfterDeltas: 3 } : undefined)
    try {
      const [first] = loadSpeechClips()
      const url = testApp.mediaUrl
      const other = new TwilioMediaSim({ url, customParameters: { mode: 'echo' } })
      await other.connect()
      const sim = new TwilioMediaSim({ url, customParameters: { mode: 'openai-realtime', callId: 'rt-bridge-drop' } })
      await sim.connect()
      void sim.play([speechOf(first!), { kind: 'silence', durationMs: 8000 }])
      const code = await sim.whenClosed()
      expect(code).toBe(1000)
      const ended = await testApp.untilEvent((e) => e.type === 'call.ended' && e.call.id === 'rt-bridge-drop')
      expect(ended.type === 'call.ended' && ended.call.endReason).toBe('engine_failed:upstream_closed')
      // The apology played after the clear.
      const gens = sim.stats().generations
      expect(gens[gens.length - 1]!.framesReceived).toBeGreaterThan(0)
      // The other call is untouched.
      expect(other.stats().closedAtMs).toBeUndefined()
      await other.hangup()
    } finally {
      fake.options.script = undefined
    }
  })
})
