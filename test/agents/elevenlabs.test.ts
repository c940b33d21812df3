import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ElevenLabsAgent, elevenLabsEngine } from '../../src/main/agents/elevenlabs.js'
import { CallbenchError } from '../../src/shared/errors.js'
import { decodeUlaw } from '../../src/main/audio/g711.js'
import { FakeElevenLabs, tone } from '../fakes/elevenlabs.js'
import { callContext, capture, depsFor, once, ulawFrames, until } from './elevenlabs-harness.js'

let fake: FakeElevenLabs
const agents: ElevenLabsAgent[] = []

function track(agent: ElevenLabsAgent): ElevenLabsAgent {
  agents.push(agent)
  return agent
}

function rms(ulaw: Uint8Array): number {
  const pcm = new Int16Array(ulaw.length)
  decodeUlaw(ulaw, pcm)
  let sum = 0
  for (const s of pcm) sum += s * s
  return Math.sqrt(sum / pcm.length)
}

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()))
  await fake.stop()
})

describe('ElevenLabs agent: setup', () => {
  beforeEach(async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0 })
  })

  it('sends conversation_initiation_client_data first, with overrides and the call as dynamic variables', async () => {
    fake.addAgent({ agentId: 'agent_a' })
    const settings = {
      elevenlabs: { agentId: 'agent_a', prompt: 'Be brief.', firstMessage: 'Hello caller', language: 'en' },
      voice: { voiceId: 'voice-adam', settings: { stability: 0.3, similarityBoost: 0.9, style: 0, speakerBoost: true, speed: 1.1 } }
    }
    const agent = track(new ElevenLabsAgent(depsFor(fake, settings as never)))
    const convP = fake.nextConversation()
    await agent.start(callContext({ customer: { name: 'Ada Lovelace', tier: 'gold' }, customParameters: { campaign: 'spring' } }))
    const conv = await convP
    expect(conv.received[0]?.type).toBe('conversation_initiation_client_data')
    expect(conv.framesBeforeInitiation).toBe(0)
    const init = conv.initiation as {
      conversation_config_override: Record<string, Record<string, unknown>>
      dynamic_variables: Record<string, string>
    }
    expect(init.conversation_config_override.agent).toEqual({ prompt: { prompt: 'Be brief.' }, first_message: 'Hello caller', language: 'en' })
    expect(init.conversation_config_override.tts).toEqual({ voice_id: 'voice-adam', stability: 0.3, similarity_boost: 0.9, speed: 1.1 })
    expect(init.dynamic_variables).toMatchObject({
      call_id: 'call-1',
      call_direction: 'inbound',
      caller_number: '+15550001111',
      called_number: '+15550002222',
      customer_name: 'Ada Lovelace',
      customer_tier: 'gold',
      param_campaign: 'spring'
    })
    expect(init.dynamic_variables.customer_context).toContain('name: Ada Lovelace')
    expect(agent.conversationId).toBe(conv.id)
    // Audio only after the metadata: the first user chunk (two frames) follows the initiation.
    for (const f of ulawFrames('silence', 2)) agent.pushAudio(f)
    await conv.waitFor((m) => typeof m.user_audio_chunk === 'number')
    expect(conv.received.findIndex((m) => typeof m.user_audio_chunk === 'number')).toBeGreaterThan(0)
  })

  it('sends no override the settings leave empty', async () => {
    fake.addAgent({ agentId: 'agent_plain' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_plain' } } as never)))
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    expect(conv.initiation?.conversation_config_override).toBeUndefined()
    // The signed URL came from the SDK against the fake, with the key in xi-api-key.
    const signed = fake.requests.find((r) => r.path === '/v1/convai/conversation/get-signed-url')
    expect(signed?.query.agent_id).toBe('agent_plain')
    expect(signed?.apiKey).toBe(fake.apiKey)
  })

  it('uses ELEVENLABS_AGENT_ID when the profile names no agent', async () => {
    fake.addAgent({ agentId: 'agent_env' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, {}, { ELEVENLABS_AGENT_ID: 'agent_env' })))
    const convP = fake.nextConversation()
    await agent.start(callContext())
    expect((await convP).agentId).toBe('agent_env')
  })

  it('rejects start with an error naming an unknown agent, and unavailable() says so afterwards', async () => {
    const deps = depsFor(fake, { elevenlabs: { agentId: 'agent_missing' } } as never)
    const agent = track(new ElevenLabsAgent(deps))
    const err = await agent.start(callContext()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CallbenchError)
    expect((err as CallbenchError).code).toBe('not_found')
    expect((err as CallbenchError).message).toContain("agent 'agent_missing'")
    expect(await elevenLabsEngine.unavailable(deps)).toContain('agent_missing')
    expect(fake.conversations).toHaveLength(0)
  })

  it('rejects start with an error naming an unknown voice before any conversation opens', async () => {
    fake.addAgent({ agentId: 'agent_v' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_v' }, voice: { voiceId: 'no-such-voice' } } as never)))
    const err = (await agent.start(callContext()).catch((e: unknown) => e)) as CallbenchError
    expect(err.code).toBe('not_found')
    expect(err.message).toContain("voice 'no-such-voice'")
    expect(err.field).toBe('voiceId')
    expect(fake.conversations).toHaveLength(0)
  })

  it('is unavailable without a key or an agent id', async () => {
    const deps = depsFor(fake)
    expect(await elevenLabsEngine.unavailable(deps)).toMatch(/No ElevenLabs agent/)
    expect(await elevenLabsEngine.unavailable({ ...deps, secrets: { ...deps.secrets, get: async () => undefined } })).toMatch(/API key/)
  })
})

describe('ElevenLabs agent: audio', () => {
  beforeEach(async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0, replyAudioMs: 400 })
  })

  it('passes μ-law 8 kHz straight through both ways', async () => {
    fake.addAgent({ agentId: 'agent_u', input: 'ulaw_8000', output: 'ulaw_8000', firstMessage: 'Hi there' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_u' } } as never)))
    const seen = capture(agent)
    const ended = once(agent, 'audioEnd')
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    // Two 20 ms frames make one user_audio_chunk (inputChunkMs 40).
    for (const f of ulawFrames('tone', 2)) agent.pushAudio(f)
    await conv.waitFor((m) => typeof m.user_audio_chunk === 'number')
    expect(conv.userAudioChunks).toBe(1)
    expect(conv.userAudioBytes).toBe(320)
    await ended
    const audio = seen.filter((e) => e.name === 'audio').map((e) => e.args[0] as Uint8Array)
    // The fake's first chunk: 100 ms of its tone, byte for byte.
    expect(Buffer.from(audio[0]!).equals(tone('ulaw_8000', 100).bytes)).toBe(true)
    expect(audio.reduce((n, a) => n + a.length, 0)).toBe(400 * 8)
    expect(seen.some((e) => e.name === 'event' && e.args[0] === 'elevenlabs.format_warning')).toBe(false)
    expect(seen.find((e) => e.name === 'transcript')?.args[0]).toEqual({ role: 'agent', text: 'Hi there', final: true })
  })

  it('resamples an agent set for pcm_16000, and flags it', async () => {
    fake.addAgent({ agentId: 'agent_p', input: 'pcm_16000', output: 'pcm_16000', firstMessage: 'Hi there' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_p' } } as never)))
    const seen = capture(agent)
    const ended = once(agent, 'audioEnd')
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    // Silence, so the fake's VAD does not barge in on the greeting.
    for (const f of ulawFrames('silence', 6)) agent.pushAudio(f)
    await until(() => conv.userAudioChunks === 3)
    // 20 ms at 16 kHz, 16 bit: 640 bytes per frame, two frames a chunk.
    expect(conv.userAudioBytes).toBe(6 * 640)
    const [endId] = await ended
    const audio = Buffer.concat(seen.filter((e) => e.name === 'audio' && e.args[1] === endId).map((e) => e.args[0] as Uint8Array))
    // 400 ms at 8 kHz μ-law (the resampler's tail flushed at the reply's end).
    expect(Math.abs(audio.length - 3200)).toBeLessThanOrEqual(80)
    // The 440 Hz tone keeps its level through 16 kHz → 8 kHz (amplitude 8000 → RMS ≈ 5657).
    expect(rms(audio.subarray(800, 2400))).toBeGreaterThan(5000)
    expect(rms(audio.subarray(800, 2400))).toBeLessThan(6300)
    const warning = seen.find((e) => e.name === 'event' && e.args[0] === 'elevenlabs.format_warning')
    expect(warning?.args[1]).toMatchObject({ inputFormat: 'pcm_16000', outputFormat: 'pcm_16000' })
  })

  it('refuses an agent whose format the bridge cannot convert', async () => {
    fake.addAgent({ agentId: 'agent_441', input: 'pcm_44100', output: 'pcm_44100' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_441' } } as never)))
    const err = (await agent.start(callContext()).catch((e: unknown) => e)) as CallbenchError
    expect(err.code).toBe('unsupported')
    expect(err.message).toContain('pcm_44100')
  })

  it('keeps caller audio pushed while connecting and sends it after the metadata', async () => {
    fake.addAgent({ agentId: 'agent_early' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_early' } } as never)))
    const convP = fake.nextConversation()
    const started = agent.start(callContext())
    for (const f of ulawFrames('silence', 4)) agent.pushAudio(f)
    await started
    const conv = await convP
    await until(() => conv.userAudioChunks === 2)
    expect(conv.userAudioBytes).toBe(4 * 160)
    expect(conv.framesBeforeInitiation).toBe(0)
  })

  it('holds events of a pre-warmed conversation until the session listens', async () => {
    fake.addAgent({ agentId: 'agent_pre', firstMessage: 'Welcome' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_pre' } } as never)))
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    await until(() => agent.stats.audioOut === 4)
    expect(conv.audioEventIds).toHaveLength(4)
    const seen = capture(agent)
    expect(seen).toHaveLength(0)
    agent.pushAudio(ulawFrames('silence', 1)[0]!)
    const audio = seen.filter((e) => e.name === 'audio')
    expect(audio.length).toBe(4)
    expect(seen.find((e) => e.name === 'transcript')?.args[0]).toMatchObject({ text: 'Welcome' })
  })
})

describe('ElevenLabs agent: conversation events', () => {
  beforeEach(async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0, replyAudioMs: 400 })
  })

  async function started(opts: { firstMessage?: string } = {}) {
    fake.addAgent({ agentId: 'agent_c', ...opts })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_c' } } as never)))
    const seen = capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    return { agent, seen, conv: await convP }
  }

  it('turns a caller turn into a caller transcript, an agent transcript, turn metrics and a reply', async () => {
    const { agent, seen } = await started()
    for (const f of [...ulawFrames('tone', 10), ...ulawFrames('silence', 20)]) agent.pushAudio(f)
    const [replyId] = await once(agent, 'audioEnd')
    const transcripts = seen.filter((e) => e.name === 'transcript').map((e) => e.args[0])
    expect(transcripts).toEqual([
      { role: 'caller', text: 'caller turn 1', final: true },
      { role: 'agent', text: 'You said something (turn 1).', final: true }
    ])
    const turn = seen.find((e) => e.name === 'turn')
    expect(turn?.args[0]).toMatchObject({ turn: 1 })
    expect(typeof (turn?.args[0] as { endOfTurnAtMs?: number }).endOfTurnAtMs).toBe('number')
    // The turn comes just before its first audio, so the bridge can time its own share.
    const turnIdx = seen.indexOf(turn!)
    expect(seen[turnIdx + 1]).toMatchObject({ name: 'audio', args: [expect.any(Uint8Array), replyId] })
  })

  it('reports a correction as a corrected agent transcript', async () => {
    const { conv, agent } = await started()
    const t = once(agent, 'transcript', (e) => e.correction === true)
    conv.sendRaw({
      type: 'agent_response_correction',
      agent_response_correction_event: { original_agent_response: 'Hello there friend', corrected_agent_response: 'Hello there', event_id: 9 }
    })
    expect((await t)[0]).toEqual({ role: 'agent', text: 'Hello there', final: true, correction: true })
  })

  it('answers a tentative transcript as a non-final caller line', async () => {
    const { conv, agent } = await started()
    const t = once(agent, 'transcript')
    conv.sendRaw({ type: 'tentative_user_transcript', tentative_user_transcription_event: { user_transcript: 'hel', event_id: 3 } })
    expect((await t)[0]).toEqual({ role: 'caller', text: 'hel', final: false })
  })

  it('answers the end_call tool, then asks the bridge to hang up', async () => {
    const { conv, agent } = await started()
    const hangup = once(agent, 'hangup')
    const result = await conv.toolCall('end_call', { reason: 'done' })
    expect(result).toMatchObject({ type: 'client_tool_result', is_error: false })
    expect(typeof result.tool_call_id).toBe('string')
    expect((await hangup)[0]).toBe('agent_end_call')
  })

  it('answers an unknown client tool with an error result and no hang-up', async () => {
    const { conv, seen } = await started()
    const result = await conv.toolCall('transfer_call')
    expect(result).toMatchObject({ is_error: true })
    expect(seen.some((e) => e.name === 'hangup')).toBe(false)
  })

  it('sends the console context as a contextual_update', async () => {
    const { conv, agent } = await started()
    agent.sendContext('Caller is a VIP')
    await conv.waitFor((m) => m.type === 'contextual_update')
    expect(conv.contextualUpdates).toEqual(['Caller is a VIP'])
  })

  it('reports an upstream error event without ending the call', async () => {
    const { conv, agent, seen } = await started()
    const err = once(agent, 'error')
    conv.sendRaw({ type: 'error', error_event: { code: 1011, message: 'LLM hiccup' } })
    expect((await err)[0].message).toContain('LLM hiccup')
    expect(seen.some((e) => e.name === 'failed')).toBe(false)
  })
})

describe('ElevenLabs agent: barge-in', () => {
  beforeEach(async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0, replyAudioMs: 3000, chunkIntervalMs: 20, lateAudioAfterInterruption: true })
  })

  it('emits interrupt at once and drops audio with an event id at or below the interruption', async () => {
    fake.addAgent({ agentId: 'agent_i', firstMessage: 'A long greeting' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_i' } } as never)))
    const seen = capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    await once(agent, 'audio')
    const interrupted = once(agent, 'interrupt')
    // The caller talks over the greeting: the fake's VAD interrupts, then sends one in-flight chunk.
    for (const f of ulawFrames('tone', 10)) agent.pushAudio(f)
    await interrupted
    expect(conv.interruptions).toHaveLength(1)
    for (const f of ulawFrames('silence', 20)) agent.pushAudio(f)
    await once(agent, 'transcript', (t) => t.role === 'caller')
    const iInterrupt = seen.findIndex((e) => e.name === 'interrupt')
    const iCaller = seen.findIndex((e) => e.name === 'transcript' && (e.args[0] as { role: string }).role === 'caller')
    expect(seen.slice(iInterrupt, iCaller).filter((e) => e.name === 'audio')).toHaveLength(0)
    expect(agent.stats.audioDropped).toBeGreaterThanOrEqual(1)
    // The cut reply is not flushed as complete; the next reply has a new id.
    const cutId = seen.slice(0, iInterrupt).filter((e) => e.name === 'audio').at(-1)!.args[1]
    expect(seen.some((e) => e.name === 'audioEnd' && e.args[0] === cutId)).toBe(false)
    const [, nextId] = await once(agent, 'audio')
    expect(nextId).not.toBe(cutId)
  })

  it('drops the rest of the current reply on cancel()', async () => {
    fake.addAgent({ agentId: 'agent_x' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_x' } } as never)))
    const seen = capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    conv.reply({ text: 'Let me tell you a long story', audioMs: 2000 })
    await once(agent, 'audio')
    agent.cancel()
    const before = seen.filter((e) => e.name === 'audio').length
    await until(() => conv.audioEventIds.length >= 6)
    expect(seen.filter((e) => e.name === 'audio').length).toBe(before)
    expect(agent.stats.audioDropped).toBeGreaterThan(0)
  })
})

describe('ElevenLabs agent: liveness', () => {
  it('answers every ping with a pong carrying its event id', async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 20 })
    fake.addAgent({ agentId: 'agent_ping' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_ping' } } as never)))
    capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    await until(() => conv.pongLatenciesMs.length >= 5)
    expect(conv.badPongs).toBe(0)
    const pongs = conv.received.filter((m) => m.type === 'pong')
    expect(pongs.every((p) => Number.isInteger(p.event_id))).toBe(true)
    expect(new Set(pongs.map((p) => p.event_id)).size).toBe(pongs.length)
  })

  it('fails the call when the upstream drops', async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0 })
    fake.addAgent({ agentId: 'agent_drop' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_drop' } } as never)))
    capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const failed = once(agent, 'failed')
    ;(await convP).drop()
    const [err] = await failed
    expect(err.code).toBe('upstream_closed')
  })

  it('hangs up after the playout when the agent closes the conversation normally', async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0 })
    fake.addAgent({ agentId: 'agent_bye' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_bye' } } as never)))
    const seen = capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const hangup = once(agent, 'hangup')
    ;(await convP).close(1000)
    expect((await hangup)[0]).toBe('agent_ended_conversation')
    expect(seen.some((e) => e.name === 'failed')).toBe(false)
  })

  it('fails the call when the upstream stalls', async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0 })
    fake.addAgent({ agentId: 'agent_stall' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_stall' } } as never), { keepaliveMs: 20, stallTimeoutMs: 150 }))
    capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    const failed = once(agent, 'failed')
    conv.stall()
    const [err] = await failed
    expect(err.code).toBe('upstream_timeout')
  })

  it('stays up while the upstream answers keep-alives', async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0 })
    fake.addAgent({ agentId: 'agent_alive' })
    const agent = track(new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_alive' } } as never), { keepaliveMs: 20, stallTimeoutMs: 150 }))
    const seen = capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    // Ten keep-alives answered span well over the stall timeout.
    await until(() => conv.wsPings >= 10)
    expect(seen.some((e) => e.name === 'failed')).toBe(false)
    expect(conv.closed).toBe(false)
  })

  it('closes the socket with a normal close on close()', async () => {
    fake = await FakeElevenLabs.start({ pingIntervalMs: 0 })
    fake.addAgent({ agentId: 'agent_close' })
    const agent = new ElevenLabsAgent(depsFor(fake, { elevenlabs: { agentId: 'agent_close' } } as never))
    const seen = capture(agent)
    const convP = fake.nextConversation()
    await agent.start(callContext())
    const conv = await convP
    await agent.close()
    await until(() => conv.closed)
    expect(conv.closeCode).toBe(1000)
    expect(seen.some((e) => e.name === 'failed')).toBe(false)
  })
})
