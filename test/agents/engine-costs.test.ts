// Cost usage of the cascade (LLM tokens, TTS characters, STT minutes) and of an ElevenLabs agent (minutes), from the fakes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { FakeOpenAiChat, tokenize } from '../fakes/openai-chat.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

type CostEvent = Extract<ServerEvent, { type: 'call.cost' }>

describe('engine usage priced per call', () => {
  let chat: FakeOpenAiChat
  let eleven: FakeElevenLabs
  let testApp: TestApp
  let app: App
  let agentId: string
  const clips = loadSpeechClips()

  beforeAll(async () => {
    chat = await FakeOpenAiChat.start()
    eleven = await FakeElevenLabs.start({ transcribe: () => clips[0]!.text, replyAudioMs: 400 })
    agentId = eleven.addAgent({ input: 'ulaw_8000', output: 'ulaw_8000', firstMessage: 'Hello.' }).agentId
    testApp = await startTestApp({
      fakes: { openaiChat: chat, elevenlabs: eleven },
      env: { ELEVENLABS_AGENT_ID: agentId }
    })
    app = testApp.app
  })
  afterAll(async () => {
    await testApp.stop()
    await chat.stop()
    await eleven.stop()
  })

  function finalCost(callId: string): Promise<CostEvent> {
    return new Promise((resolve) => {
      const off = app.hub.subscribe((e) => {
        if (e.type !== 'call.cost' || e.callId !== callId || !e.final) return
        off()
        resolve(e)
      })
    })
  }

  it('cascade: the chat usage the service reports, the characters sent to TTS and the seconds sent to STT', async () => {
    const callId = 'cost-cascade'
    const cost = finalCost(callId)
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'cascade', vad: 'energy', silenceMs: '500', callId }
    })
    await sim.connect()
    await sim.play([
      { kind: 'silence', durationMs: 300 },
      speechOf(clips[0]!),
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 100 }
    ])
    await sim.hangup()
    const { cost: c } = await cost
    const u = c.usage
    // The fake's usage chunk: 10 prompt tokens, and its tokens of "You said: <text>."
    expect(u.llmInTokens).toBe(10)
    expect(u.llmOutTokens).toBe(tokenize(`You said: ${clips[0]!.text}.`).length)
    expect(u.ttsChars).toBeGreaterThanOrEqual(`You said: ${clips[0]!.text}.`.length - 2)
    // The turn's audio from the padded onset to the end of turn: at least the clip's speech.
    expect(u.sttMs).toBeGreaterThanOrEqual(clips[0]!.offsetMs - clips[0]!.onsetMs)
    expect(u.sttMs).toBeLessThan(clips[0]!.durationMs + 1500)
    expect(c.items.map((i) => i.key)).toEqual(['tts', 'stt', 'llmIn', 'llmOut'])
    expect(c.total).toBeGreaterThan(0)
  })

  it('ElevenLabs agent: minutes of conversation by the call clock', async () => {
    const callId = 'cost-elevenlabs'
    const cost = finalCost(callId)
    const sim = new TwilioMediaSim({ url: testApp.mediaUrl, customParameters: { mode: 'elevenlabs', callId } })
    await sim.connect()
    await sim.play([{ kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 500 }])
    const live = app.calls.get(callId)!
    const callMs = live.clock()
    await sim.hangup()
    const { cost: c } = await cost
    const agentMs = c.usage.elevenlabsAgentMs!
    expect(agentMs).toBeGreaterThan(500)
    expect(agentMs).toBeLessThanOrEqual(live.clock())
    expect(agentMs).toBeGreaterThan(callMs - 3000)
    const item = c.items.find((i) => i.key === 'elevenlabsAgent')!
    expect(item.amount).toBeCloseTo((agentMs / 60_000) * app.settings.get().costs.elevenlabsPerMin, 12)
  })
})
