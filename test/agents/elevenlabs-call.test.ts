import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import type { CallSession } from '../../src/main/calls/call-session.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { FakeElevenLabs, type FakeConversation } from '../fakes/elevenlabs.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

const GREETING_MS = 400

describe('ElevenLabs calls through the bridge', () => {
  let fake: FakeElevenLabs
  let agentId: string
  let testApp: TestApp
  let app: App

  beforeAll(async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 50, replyAudioMs: GREETING_MS, endOfTurnSilenceMs: 300 })
    agentId = fake.addAgent({ input: 'ulaw_8000', output: 'ulaw_8000', firstMessage: 'Hello, how can I help?' }).agentId
    testApp = await startTestApp({ fakes: { elevenlabs: fake }, env: { ELEVENLABS_AGENT_ID: agentId } })
    app = testApp.app
  })
  afterAll(async () => {
    await testApp.stop()
    await fake.stop()
  })

  function hubEvent(pred: (e: ServerEvent) => boolean): Promise<ServerEvent> {
    return new Promise((resolve) => {
      const off = app.hub.subscribe((e) => {
        if (!pred(e)) return
        off()
        resolve(e)
      })
    })
  }

  function untilBytes(sim: TwilioMediaSim, bytes: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (sim.stats().mediaBytesReceived < bytes) return
        sim.off('media', check)
        resolve()
      }
      sim.on('media', check)
      check()
    })
  }

  async function open(callId: string): Promise<{ sim: TwilioMediaSim; session: CallSession; conv: FakeConversation }> {
    const sim = new TwilioMediaSim({ url: testApp.mediaUrl, customParameters: { mode: 'elevenlabs', callId } })
    const started = new Promise<CallSession>((resolve) => {
      const on = (s: CallSession) => {
        if (s.id !== callId) return
        app.calls.off('started', on)
        resolve(s)
      }
      app.calls.on('started', on)
    })
    const conv = fake.nextConversation()
    await sim.connect()
    const c = await conv
    await c.waitFor((m) => m.type === 'conversation_initiation_client_data')
    return { sim, session: await started, conv: c }
  }

  it('plays the greeting, answers a caller turn, and publishes both transcripts', async () => {
    const { sim, session, conv } = await open('el-call-1')
    await untilBytes(sim, GREETING_MS * 8)
    expect(conv.initiation?.dynamic_variables).toMatchObject({ call_id: 'el-call-1', call_direction: 'loopback' })
    const callerLine = hubEvent((e) => e.type === 'call.transcript' && e.callId === 'el-call-1' && e.role === 'caller')
    const turn = hubEvent((e) => e.type === 'call.turn' && e.callId === 'el-call-1')
    await sim.play([speechOf(loadSpeechClips()[0]!), { kind: 'silence', durationMs: 600 }])
    expect(await callerLine).toMatchObject({ text: 'caller turn 1', final: true })
    await untilBytes(sim, 2 * GREETING_MS * 8)
    const metrics = (await turn) as Extract<ServerEvent, { type: 'call.turn' }>
    // The bridge's share: engine audio in → first frame out.
    expect(metrics.metrics.bridgeMs).toBeGreaterThanOrEqual(0)
    expect(metrics.metrics.bridgeMs).toBeLessThan(1000)
    expect(session.stats.framesOut).toBe(2 * (GREETING_MS / 20))
    // Pings were answered while audio flowed.
    expect(conv.pongLatenciesMs.length).toBeGreaterThan(0)
    expect(conv.badPongs).toBe(0)
    await sim.hangup()
    await new Promise<void>((resolve) => conv.closed ? resolve() : conv.once('closed', () => resolve()))
    expect(conv.closeCode).toBe(1000)
  })

  it('hangs up after the end_call tool', async () => {
    const { sim, session, conv } = await open('el-call-2')
    await untilBytes(sim, GREETING_MS * 8)
    const result = await conv.toolCall('end_call')
    expect(result.is_error).toBe(false)
    await sim.whenClosed()
    expect(session.summary().endReason).toBe('agent_end_call')
  })

  it('plays the apology and ends only the call whose upstream dropped', async () => {
    const a = await open('el-call-3')
    const b = await open('el-call-4')
    await untilBytes(a.sim, GREETING_MS * 8)
    await untilBytes(b.sim, GREETING_MS * 8)
    const before = a.sim.stats().mediaBytesReceived
    a.conv.drop()
    await a.sim.whenClosed()
    expect(a.session.summary().endReason).toBe('engine_failed:upstream_closed')
    // The shipped apology went out before the hang-up.
    expect(a.sim.stats().mediaBytesReceived).toBeGreaterThan(before)
    expect(b.session.state).toBe('active')
    const callerLine = hubEvent((e) => e.type === 'call.transcript' && e.callId === 'el-call-4' && e.role === 'caller')
    await b.sim.play([speechOf(loadSpeechClips()[1]!), { kind: 'silence', durationMs: 600 }])
    await callerLine
    await b.sim.hangup()
  })

  it('pre-warms the conversation when the webhook is answered and plays its greeting once the stream claims it', async () => {
    const conv = fake.nextConversation()
    await app.calls.prewarm('el-pre-1', 'elevenlabs', { direction: 'inbound', from: '+15550003333', customer: { name: 'Grace' } })
    const c = await conv
    await c.waitFor((m) => m.type === 'conversation_initiation_client_data')
    expect(c.initiation?.dynamic_variables).toMatchObject({ call_id: 'el-pre-1', customer_name: 'Grace', caller_number: '+15550003333' })
    // The greeting streams before any Twilio stream exists.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (c.audioEventIds.length * 100 < GREETING_MS) return
        clearInterval(t)
        resolve()
      }, 5)
    })
    const sim = new TwilioMediaSim({ url: testApp.mediaUrl, customParameters: { callId: 'el-pre-1' } })
    await sim.connect()
    await untilBytes(sim, GREETING_MS * 8)
    expect(fake.conversations.filter((x) => (x.initiation?.dynamic_variables as Record<string, string>).call_id === 'el-pre-1')).toHaveLength(1)
    await sim.hangup()
  })
})
