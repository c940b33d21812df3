import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/main/app.js'
import type { CallSession } from '../../src/main/calls/call-session.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { FakeOpenAiChat } from '../fakes/openai-chat.js'
import { loadSpeechClips, speechOf, TwilioMediaSim, type SpeechSegment } from '../fakes/twilio-media-sim.js'

const STT_DELAY_MS = 30
const FIRST_TOKEN_DELAY_MS = 40
const TTS_FIRST_BYTE_DELAY_MS = 50
const LONG_REPLY =
  'Sure, I can help with that. The first thing to know is that our opening hours change with the seasons, ' +
  'so in winter we open later and close earlier than in summer. On weekends the hours are shorter again, ' +
  'and on public holidays we are closed all day. If you tell me which day you have in mind, I can check it for you.'

describe('cascade engine through the bridge (VAD → Scribe → chat → TTS)', () => {
  let app: App
  let dataDir: string
  let chat: FakeOpenAiChat
  let eleven: FakeElevenLabs
  const clips = loadSpeechClips()
  /** The text of the clip holding the committed audio's first sound (40 ms of it, byte for byte). */
  function clipTextOf(audio: Buffer): string {
    const at = audio.findIndex((b) => (~b & 0x7f) >= 13)
    const probe = audio.subarray(at, at + 320)
    return clips.find((c) => Buffer.from(c.audio).indexOf(probe) >= 0)?.text ?? 'something else'
  }
  /** The caller's final transcript lines of a call, as published. */
  function callerLines(): (callId: string) => string[] {
    const lines: Array<{ callId: string; text: string }> = []
    const off = app.hub.subscribe((e) => {
      if (e.type === 'call.transcript' && e.role === 'caller' && e.final) lines.push({ callId: e.callId, text: e.text })
    })
    return (callId) => {
      off()
      return lines.filter((l) => l.callId === callId).map((l) => l.text)
    }
  }
  /** A clip's speech without the silence the clips open and close with. */
  function spoken(i: number, label: string): SpeechSegment {
    const audio = clips[i]!.audio
    const loud = (b: number) => (~b & 0x7f) >= 13
    const from = audio.findIndex(loud)
    const to = audio.length - [...audio].reverse().findIndex(loud)
    return { kind: 'speech', audio: audio.subarray(from, to), label }
  }
  const mediaUrl = () => `ws://127.0.0.1:${app.controlListener.port}/api/media?token=t`

  beforeAll(async () => {
    chat = await FakeOpenAiChat.start({ firstTokenDelayMs: FIRST_TOKEN_DELAY_MS })
    eleven = await FakeElevenLabs.start({
      sttDelayMs: STT_DELAY_MS,
      ttsFirstByteDelayMs: TTS_FIRST_BYTE_DELAY_MS,
      // The clip whose audio the commit starts with (a commit of silence is '' in the fake).
      transcribe: ({ audio }) => clipTextOf(audio)
    })
    dataDir = mkdtempSync(join(tmpdir(), 'callbench-cascade-'))
    app = await startApp({
      dataDir,
      publicPort: 0,
      controlPort: 0,
      tunnel: false,
      token: 't',
      logLevel: 'silent',
      env: {
        OPENAI_API_KEY: chat.apiKey,
        OPENAI_BASE_URL: chat.url,
        ELEVENLABS_API_KEY: eleven.apiKey,
        ELEVENLABS_BASE_URL: eleven.url
      }
    })
    await app.settings.update({
      voice: {
        voiceId: 'voice-rachel',
        settings: { stability: 0.4, similarityBoost: 0.9, style: 0.1, speakerBoost: false, speed: 1.1 }
      },
      openai: {
        ...app.settings.get().openai,
        llmModel: 'gpt-test-mini',
        instructions: 'You are the test agent.',
        temperature: 0.3
      }
    })
  })
  afterAll(async () => {
    await app.stop()
    await chat.stop()
    await eleven.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  function sessionOf(sim: TwilioMediaSim): CallSession {
    const s = app.calls.list().find((c) => c.summary().callSid === sim.callSid)
    if (!s) throw new Error('no live session for the simulated call')
    return s
  }

  it('answers a caller turn: transcript → chat → TTS audio to Twilio, with the latency breakdown (Silero VAD)', async () => {
    const sim = new TwilioMediaSim({
      url: mediaUrl(),
      callSid: 'CA' + '1'.repeat(32),
      // One step after another: the early reply (tested below) would hide the fakes' delays in the silence.
      customParameters: { mode: 'cascade', vad: 'silero', silenceMs: '500', earlyReplyMs: '0' }
    })
    const ttsBefore = eleven.ttsSockets.length
    await sim.connect()
    await sim.play([
      { kind: 'silence', durationMs: 300 },
      { ...speechOf(clips[0]!), label: 'turn' },
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 100 }
    ])
    const live = sessionOf(sim)
    expect(live.mode).toBe('cascade')
    await sim.hangup()

    // Scribe heard the turn on the realtime socket, as μ-law 8 kHz, committed once.
    const stt = eleven.stt.sessions.at(-1)!
    expect(stt.query).toMatchObject({
      model_id: 'scribe_v2_realtime',
      audio_format: 'ulaw_8000',
      commit_strategy: 'manual'
    })
    expect(stt.commits).toBe(1)
    expect(stt.audioBytes).toBeGreaterThan(8 * 1000)
    expect([...stt.sampleRates]).toEqual([8000])

    // The model got the system prompt, the caller's words and the settings.
    const req = chat.requests.at(-1)!
    expect(req.stream).toBe(true)
    expect(req.model).toBe('gpt-test-mini')
    expect(req.temperature).toBe(0.3)
    expect(req.messages[0]).toEqual({ role: 'system', content: 'You are the test agent.' })
    expect(req.messages.at(-1)).toEqual({ role: 'user', content: clips[0]!.text })

    // TTS: a socket opened before it was needed, μ-law 8 kHz, the profile's voice settings, the reply's text.
    const socket = eleven.ttsSockets.slice(ttsBefore).find((s) => s.messages.length > 1)!
    expect(socket.voiceId).toBe('voice-rachel')
    expect(socket.query.output_format).toBe('ulaw_8000')
    expect(socket.messages[0]).toMatchObject({
      text: ' ',
      voice_settings: { stability: 0.4, similarity_boost: 0.9, style: 0.1, use_speaker_boost: false, speed: 1.1 }
    })
    const spoken = socket.messages
      .slice(1)
      .map((m) => m.text as string)
      .join('')
    expect(spoken.replace(/\s+/g, ' ').trim()).toBe(`You said: ${clips[0]!.text}.`)
    expect(socket.finalSent).toBe(true)

    // The reply reached the caller after the turn ended.
    const turn = sim.stats().speech.find((s) => s.label === 'turn')!
    expect(turn.firstAgentMediaAtMs).toBeDefined()
    expect(turn.firstAgentMediaAtMs!).toBeGreaterThan(turn.offsetSentAtMs!)
    expect(sim.stats().mediaBytesReceived).toBeGreaterThan(8 * 500)

    // Latency parts come from real timestamps and include each fake's configured delay.
    expect(live.turns).toHaveLength(1)
    const m = live.turns[0]!
    expect(m.endOfSpeechWaitMs).toBeGreaterThanOrEqual(400)
    expect(m.sttMs).toBeGreaterThanOrEqual(STT_DELAY_MS)
    expect(m.llmFirstTokenMs).toBeGreaterThanOrEqual(FIRST_TOKEN_DELAY_MS)
    expect(m.ttsFirstByteMs).toBeGreaterThanOrEqual(TTS_FIRST_BYTE_DELAY_MS)
    expect(m.bridgeMs).toBeGreaterThanOrEqual(0)
    expect(m.totalMs!).toBeGreaterThanOrEqual(m.endOfSpeechWaitMs! + m.sttMs! + m.llmFirstTokenMs! + m.ttsFirstByteMs!)
    const kinds = live.timeline.map((t) => t.kind)
    expect(kinds).toEqual(
      expect.arrayContaining([
        'vad.speech_start',
        'vad.speech_end',
        'stt.done',
        'llm.first_token',
        'reply.start',
        'reply.end'
      ])
    )
  })

  it('barges in: clear to Twilio, the chat stream aborted, TTS stopped, only the heard part kept in history (energy VAD)', async () => {
    chat.reply = (messages) =>
      messages.filter((m) => m.role === 'user').length === 1 ? LONG_REPLY : 'Okay, stopping there.'
    chat.tokenIntervalMs = 40
    const sim = new TwilioMediaSim({
      url: mediaUrl(),
      callSid: 'CA' + '2'.repeat(32),
      customParameters: { mode: 'cascade', vad: 'energy', silenceMs: '500' }
    })
    const requestsBefore = chat.requests.length
    await sim.connect()
    const firstRequest = chat.nextRequest(requestsBefore)
    const played = sim.play([
      { kind: 'silence', durationMs: 200 },
      { ...speechOf(clips[1]!), label: 'turn' },
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'speaking', afterMs: 600 },
      { ...speechOf(clips[2]!), label: 'barge' },
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 100 }
    ])
    const req = await firstRequest
    // The model was still streaming the long reply when the caller spoke over it: the fake sees the abort.
    const aborted = await chat.whenAborted(req)
    expect(aborted.completed).toBe(false)
    expect(aborted.tokensSent).toBeGreaterThan(0)
    await played
    const live = sessionOf(sim)
    await sim.hangup()

    const stats = sim.stats()
    const barge = stats.speech.find((s) => s.label === 'barge')!
    expect(barge.agentPlayingAtOnset).toBe(true)
    expect(barge.clearAtMs).toBeDefined()
    expect(barge.clearAtMs!).toBeGreaterThan(barge.onsetSentAtMs!)
    expect(stats.generations.reduce((n, g) => n + g.staleFrames, 0)).toBe(0)

    // The TTS socket of the cut reply was closed by us before it finished.
    const cutSocket = eleven.ttsSockets.find((s) =>
      s.messages.some((m) => typeof m.text === 'string' && m.text.startsWith('Sure, I can help'))
    )!
    expect(cutSocket.closedBeforeFinal).toBe(true)
    expect(cutSocket.finalSent).toBe(false)

    // The second turn's request holds the heard part of the first reply, not all of it.
    const second = chat.requests[requestsBefore + 1]!
    expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
    const heard = second.messages[2]!.content
    expect(heard.length).toBeGreaterThan(0)
    expect(LONG_REPLY.startsWith(heard)).toBe(true)
    expect(heard.length).toBeLessThan(LONG_REPLY.length / 2)
    expect(second.messages[3]!.content).toBe(clips[2]!.text)
    const cut = live.timeline.find((t) => t.kind === 'reply.cut')!
    expect(cut.data).toMatchObject({ reason: 'barge_in' })
    expect(live.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['barge_in', 'clear']))
  })

  /** A connected Silero cascade call with the early reply on (its 200 ms default), the model echoing the caller. */
  async function earlyReplyCall(callSid: string, silenceMs: number, tokenIntervalMs: number) {
    chat.reply = (messages) => `You said: ${messages.at(-1)!.content}`
    chat.tokenIntervalMs = tokenIntervalMs
    const sim = new TwilioMediaSim({
      url: mediaUrl(),
      callSid,
      customParameters: { mode: 'cascade', vad: 'silero', silenceMs: String(silenceMs) }
    })
    const requestsBefore = chat.requests.length
    const lines = callerLines()
    await sim.connect()
    return { sim, requestsBefore, lines }
  }

  it('early reply: prepared while the end-of-turn silence runs, played when the turn ends', async () => {
    const { sim, requestsBefore, lines } = await earlyReplyCall('CA' + '4'.repeat(32), 500, 0)
    await sim.play([
      { kind: 'silence', durationMs: 300 },
      spoken(0, 'turn'),
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 100 }
    ])
    const live = sessionOf(sim)
    await sim.hangup()

    // One request, with the caller's words, asked before the turn ended; its audio waited for the end.
    expect(chat.requests.slice(requestsBefore)).toHaveLength(1)
    const req = chat.requests[requestsBefore]!
    expect(req.messages.at(-1)).toEqual({ role: 'user', content: clips[0]!.text })
    const turn = sim.stats().speech.find((s) => s.label === 'turn')!
    const kinds = live.timeline.map((t) => t.kind)
    expect(kinds.indexOf('reply.early')).toBeGreaterThanOrEqual(0)
    expect(kinds.indexOf('llm.first_token')).toBeLessThan(kinds.indexOf('vad.speech_end'))
    expect(turn.firstAgentMediaAtMs! - turn.offsetSentAtMs!).toBeGreaterThanOrEqual(500)
    expect(kinds).not.toContain('reply.early_dropped')

    // The turn's metrics say so; the parts count only what was left after the end of turn.
    expect(live.turns).toHaveLength(1)
    const m = live.turns[0]!
    expect(m.earlyReplyMs).toBeGreaterThan(0)
    expect(m.earlyReplyMs!).toBeLessThan(m.endOfSpeechWaitMs!)
    for (const part of [m.sttMs, m.llmFirstTokenMs, m.ttsFirstByteMs, m.bridgeMs])
      expect(part).toBeGreaterThanOrEqual(0)
    expect(m.totalMs!).toBeGreaterThanOrEqual(m.endOfSpeechWaitMs!)
    expect(lines(live.id)).toEqual([clips[0]!.text])
  })

  it('early reply: dropped unheard when the caller goes on, the whole turn answered at its end', async () => {
    // A 400 ms gap: over the 200 ms early-reply pause, well under the 800 ms end of turn.
    const { sim, requestsBefore, lines } = await earlyReplyCall('CA' + '5'.repeat(32), 800, 30)
    const early = chat.nextRequest(requestsBefore)
    await sim.play([
      { kind: 'silence', durationMs: 300 },
      spoken(0, 'first'),
      { kind: 'silence', durationMs: 400 },
      spoken(1, 'second'),
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 100 }
    ])
    const live = sessionOf(sim)
    await sim.hangup()

    // The early request answered the first half; the caller went on, so it was aborted and nothing of it played.
    const first = await early
    expect(first.messages.at(-1)).toEqual({ role: 'user', content: clips[0]!.text })
    expect((await chat.whenAborted(first)).completed).toBe(false)
    const dropped = live.timeline.find((t) => t.kind === 'reply.early_dropped')!
    expect(dropped.data).toMatchObject({ reason: 'caller_resumed' })
    const stats = sim.stats()
    const second = stats.speech.find((s) => s.label === 'second')!
    expect(stats.generations[0]!.firstMediaAtMs!).toBeGreaterThan(second.offsetSentAtMs!)
    // The answer is to the whole turn, both halves, as one caller line.
    const answered = chat.requests.at(-1)!
    expect(answered).not.toBe(first)
    expect(answered.messages.at(-1)).toEqual({ role: 'user', content: `${clips[0]!.text} ${clips[1]!.text}` })
    expect(live.turns).toHaveLength(1)
    expect(lines(live.id)).toEqual([`${clips[0]!.text} ${clips[1]!.text}`])
  })

  it('ends the call with the apology when the model refuses the key (the failure would repeat every turn)', async () => {
    await app.secrets.set('OPENAI_API_KEY', 'sk-wrong-key')
    try {
      const sim = new TwilioMediaSim({
        url: mediaUrl(),
        callSid: 'CA' + '3'.repeat(32),
        customParameters: { mode: 'cascade', vad: 'energy' }
      })
      const started = new Promise<CallSession>((resolve) => app.calls.once('started', resolve))
      await sim.connect()
      const live = await started
      void sim.play([
        { kind: 'silence', durationMs: 200 },
        { ...speechOf(clips[0]!), label: 'turn' },
        { kind: 'silence', durationMs: 8000 }
      ])
      await sim.whenClosed()
      const failed = live.timeline.find((t) => t.kind === 'engine.failed')!
      expect(failed.data).toMatchObject({ code: 'upstream_failed' })
      expect(live.summary().endReason).toBe('engine_failed:upstream_failed')
      // The shipped apology played before the hang-up.
      expect(sim.stats().mediaBytesReceived).toBeGreaterThan(8 * 500)
    } finally {
      await app.secrets.set('OPENAI_API_KEY', chat.apiKey)
    }
  })
})
