import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

describe('echo call through the bridge (loopback media endpoint)', () => {
  let testApp: TestApp
  let app: App
  let events: ServerEvent[]

  beforeAll(async () => {
    testApp = await startTestApp()
    ;({ app, events } = testApp)
  })
  afterAll(async () => {
    await testApp.stop()
  })

  for (const vad of ['energy', 'silero'] as const) {
    it(`greets, echoes a turn and clears on barge-in (${vad} VAD)`, async () => {
      const [first, second] = loadSpeechClips()
      const url = testApp.mediaUrl
      const sim = new TwilioMediaSim({ url, customParameters: { mode: 'echo', vad, silenceMs: '500' } })
      await sim.connect()
      await sim.play([
        { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 200 },
        { ...speechOf(first!), label: 'turn' },
        // The echo of the turn starts 500 ms after its end; speak over it once it plays.
        { kind: 'waitForAgent', timeoutMs: 4000, until: 'speaking', afterMs: 300 },
        { ...speechOf(second!), label: 'barge' },
        { kind: 'silence', durationMs: 300 }
      ])
      const callId = [...events].reverse().find((e) => e.type === 'call.started')!
      expect(callId.type).toBe('call.started')
      const id = (callId as Extract<ServerEvent, { type: 'call.started' }>).call.id
      const live = app.calls.get(id)!
      expect(live.mode).toBe('echo')
      // The live view over HTTP: whole, and without the marks when asked.
      const liveView = async (query: string): Promise<string[]> => {
        const res = await fetch(`${testApp.url}/api/calls/${id}/live${query}`, {
          headers: { authorization: `Bearer ${testApp.token}` }
        })
        expect(res.status).toBe(200)
        return ((await res.json()) as { timeline: Array<{ kind: string }> }).timeline.map((e) => e.kind)
      }
      const whole = await liveView('')
      const withoutMarks = await liveView('?marks=0')
      expect(whole).toEqual(expect.arrayContaining(['mark.sent', 'mark.played', 'reply.start']))
      expect(withoutMarks).toEqual(whole.filter((k) => !k.startsWith('mark.')))
      await sim.hangup()

      const stats = sim.stats()
      const turn = stats.speech.find((s) => s.label === 'turn')!
      const barge = stats.speech.find((s) => s.label === 'barge')!
      // The greeting and the echo reached the caller.
      expect(stats.generations[0]!.framesReceived).toBeGreaterThan(50)
      expect(turn.firstAgentMediaAtMs).toBeDefined()
      expect(turn.firstAgentMediaAtMs! - turn.offsetSentAtMs!).toBeGreaterThanOrEqual(400)
      // The barge-in cleared Twilio's buffer after the caller started speaking.
      expect(barge.agentPlayingAtOnset).toBe(true)
      expect(barge.clearAtMs).toBeDefined()
      expect(barge.clearAtMs!).toBeGreaterThan(barge.onsetSentAtMs!)
      // No agent audio of the cut reply leaked past the clear.
      expect(stats.generations.reduce((n, g) => n + g.staleFrames, 0)).toBe(0)
      expect(live.stats.framesLost).toBe(0)
      expect(live.stats.framesIn).toBe(stats.framesSent)
      expect(live.turns.length).toBeGreaterThanOrEqual(1)
      expect(live.turns[0]!.endOfSpeechWaitMs).toBeGreaterThanOrEqual(400)
      // Levels and the timeline went out on the events stream.
      expect(events.some((e) => e.type === 'call.levels' && e.callId === id && e.levels.callerRmsDbfs > -60)).toBe(true)
      const kinds = live.timeline.map((t) => t.kind)
      expect(kinds).toEqual(
        expect.arrayContaining(['call.start', 'reply.start', 'mark.sent', 'mark.played', 'barge_in', 'clear'])
      )
    })
  }

  it('a pre-warmed engine keeps what it said before the stream arrived (the greeting)', async () => {
    await app.calls.prewarm('prewarmed-1', 'echo', { direction: 'outbound' })
    const url = testApp.mediaUrl
    const sim = new TwilioMediaSim({ url, customParameters: { callId: 'prewarmed-1', vad: 'energy' } })
    await sim.connect()
    await sim.play([{ kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 100 }])
    const live = app.calls.get('prewarmed-1')!
    expect(live.mode).toBe('echo')
    await sim.hangup()
    // The shipped greeting is 3.3 s: well over 100 frames of it reached the caller.
    expect(sim.stats().mediaFramesReceived).toBeGreaterThan(100)
    expect(live.timeline.some((e) => e.kind === 'reply.start' && e.data?.replyId === 'greeting')).toBe(true)
  })
})
