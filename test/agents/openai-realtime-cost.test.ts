// The cost estimate of an OpenAI Realtime call: the service's own usage numbers (fake) priced with the settings' rates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import { CallCostSchema } from '../../src/shared/cost.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { CallDetailSchema } from '../../src/shared/records.js'
import { responseUsage } from '../../src/main/agents/openai-realtime-protocol.js'
import { FakeRealtimeServer } from '../fakes/openai-realtime.js'
import { TwilioMediaSim, loadSpeechClips, speechOf } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

type CostEvent = Extract<ServerEvent, { type: 'call.cost' }>

describe('OpenAI Realtime call cost', () => {
  let fake: FakeRealtimeServer
  let testApp: TestApp
  let app: App

  beforeAll(async () => {
    fake = await FakeRealtimeServer.start({ replyDurationMs: 800, replyText: 'Sure.', callerText: 'Hello.' })
    testApp = await startTestApp({ fakes: { realtime: fake } })
    app = testApp.app
  })

  afterAll(async () => {
    await testApp.stop()
    await fake.close()
  })

  it('prices the usage of every response, publishes it live and keeps the final cost in the call log', async () => {
    const [first, second] = loadSpeechClips()
    const callId = 'rt-cost-1'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'openai-realtime', callId }
    })
    await sim.connect()
    await sim.play([
      speechOf(first!),
      { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 200 },
      speechOf(second!),
      { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 1100 }
    ])
    // A cost went out while the call was live, once the first response's usage was in.
    const live = (await testApp.untilEvent(
      (e) => e.type === 'call.cost' && e.callId === callId && !e.final && e.cost.total > 0
    )) as CostEvent
    expect(live.cost.items.map((i) => i.key)).toContain('openaiAudioOut')
    const session = fake.sessionFor(callId)!
    await sim.hangup()
    await session.untilClosed()
    const final = (await testApp.untilEvent(
      (e) => e.type === 'call.cost' && e.callId === callId && e.final
    )) as CostEvent
    await testApp.untilEvent((e) => e.type === 'call.ended' && e.call.id === callId)

    // The fake reports 60 input and 40 output tokens per response (no details: input counts as audio), and one
    // second of caller transcription per caller turn.
    const responses = session.responses.filter((r) => r.status === 'completed').length
    expect(responses).toBeGreaterThanOrEqual(2)
    const rates = app.settings.get().costs
    const u = final.cost.usage
    expect(u.openaiAudioInTokens).toBe(60 * responses)
    expect(u.openaiAudioOutTokens).toBe(40 * responses)
    expect(u.sttMs).toBeGreaterThanOrEqual(2000)
    // A loopback call: no telephony minutes.
    expect(u.telephonyMs).toBeUndefined()
    const expected =
      (60 * responses * rates.openaiAudioInPer1M + 40 * responses * rates.openaiAudioOutPer1M) / 1e6 +
      (u.sttMs! / 60_000) * rates.sttPerMin
    expect(final.cost.total).toBeGreaterThan(0)
    expect(final.cost.total).toBeCloseTo(expected, 12)
    expect(final.cost.currency).toBe('USD')
    // Live estimates publish at most once a second.
    const liveTimes = testApp.events.filter((e) => e.type === 'call.cost' && e.callId === callId && !e.final).length
    expect(liveTimes).toBeLessThanOrEqual(Math.ceil(sim.stats().framesSent / 50) + 1)

    const res = await fetch(`${testApp.url}/api/calls/${callId}`, {
      headers: { authorization: 'Bearer t' }
    })
    const detail = CallDetailSchema.parse(await res.json())
    const entry = detail.events.filter((e) => e.kind === 'cost').at(-1)
    expect(entry).toBeDefined()
    expect(CallCostSchema.parse(entry!.data)).toEqual(final.cost)
    expect(detail.events.filter((e) => e.kind === 'usage').length).toBeGreaterThanOrEqual(responses)
  })

  it('rates edited in the settings apply', async () => {
    await app.settings.update({ costs: { ...app.settings.get().costs, openaiAudioOutPer1M: 0, currency: 'EUR' } })
    const callId = 'rt-cost-2'
    const [first] = loadSpeechClips()
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'openai-realtime', callId }
    })
    await sim.connect()
    await sim.play([speechOf(first!), { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 200 }])
    await sim.hangup()
    const final = (await testApp.untilEvent(
      (e) => e.type === 'call.cost' && e.callId === callId && e.final
    )) as CostEvent
    expect(final.cost.currency).toBe('EUR')
    const out = final.cost.items.find((i) => i.key === 'openaiAudioOut')!
    expect(out.quantity).toBeGreaterThan(0)
    expect(out.amount).toBe(0)
  })
})

describe('Realtime response usage → cost usage keys', () => {
  it('takes cached tokens out of audio and text input, and splits output by its details', () => {
    expect(
      responseUsage(
        {
          input_tokens: 1000,
          output_tokens: 300,
          input_token_details: {
            audio_tokens: 700,
            text_tokens: 300,
            cached_tokens: 400,
            cached_tokens_details: { audio_tokens: 250, text_tokens: 150 }
          },
          output_token_details: { audio_tokens: 240, text_tokens: 60 }
        },
        ['audio']
      )
    ).toEqual({
      openaiAudioInTokens: 450,
      openaiTextInTokens: 150,
      openaiCachedInTokens: 400,
      openaiAudioOutTokens: 240,
      openaiTextOutTokens: 60
    })
  })

  it('without details: input as audio, output by modality (text for the hybrid)', () => {
    const totals = { input_tokens: 60, output_tokens: 40 }
    expect(responseUsage(totals, ['audio'])).toMatchObject({
      openaiAudioInTokens: 60,
      openaiAudioOutTokens: 40,
      openaiTextOutTokens: 0
    })
    expect(responseUsage(totals, ['text'])).toMatchObject({ openaiAudioOutTokens: 0, openaiTextOutTokens: 40 })
    expect(responseUsage(undefined, ['audio'])).toBeUndefined()
  })
})
