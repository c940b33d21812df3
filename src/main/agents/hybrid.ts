/** The hybrid engine: OpenAI Realtime listens and writes (text output), ElevenLabs speaks its text as it streams. */
import { EventEmitter } from 'node:events'
import { CallbenchError } from '../../shared/errors.js'
import { TWILIO_FORMAT, type AudioFormat } from '../audio/format.js'
import type { Logger } from '../log.js'
import { elevenLabsFrom, hasElevenLabsKey } from '../speech/elevenlabs-client.js'
import { DEFAULT_TTS_MODEL, DEFAULT_VOICE_ID, TtsInputStream } from '../speech/elevenlabs-tts.js'
import { SpokenReply, WarmTts, type TtsConnector } from '../speech/spoken-reply.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { AgentDeps, EngineDefinition } from './engines.js'
import { OpenAiRealtimeAgent, type OpenAiRealtimeOptions } from './openai-realtime.js'
import type { TextSpeaker } from './openai-realtime-conversation.js'
import { DEFAULT_OPENAI_BASE_URL } from './openai-realtime-protocol.js'

/** Replies remembered for late `played()` reports. */
const KEEP_REPLIES = 4

export interface HybridOptions {
  /** The Realtime session (its speaker is this engine). */
  realtime: Omit<OpenAiRealtimeOptions, 'speaker'>
  tts: TtsConnector
  log: Logger
}

/**
 * The Realtime agent runs the conversation (server VAD, transcription, replies, end_call, timeouts) with text
 * output; this engine is its speaker. Barge-in follows the OpenAI engine: `speech_started` while a reply plays
 * → `interrupt`, the TTS socket closed, `response.cancel`; the model is then told what the caller heard.
 */
export class HybridAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly input: AudioFormat = TWILIO_FORMAT
  readonly output: AudioFormat = TWILIO_FORMAT
  readonly capabilities: AgentCapabilities = { ownsTurnDetection: true, canSay: true, wantsPlayback: true }
  readonly #realtime: OpenAiRealtimeAgent
  readonly #tts: WarmTts
  readonly #log: Logger
  readonly #replies = new Map<string, SpokenReply>()
  readonly #ttsReported = new WeakSet<SpokenReply>()
  #current: SpokenReply | undefined
  #call: CallContext | undefined
  #hangupReason: string | undefined
  #closed = false

  constructor(opts: HybridOptions) {
    super()
    this.#log = opts.log
    this.#tts = new WarmTts(opts.tts, opts.log)
    const speaker: TextSpeaker = {
      text: (responseId, delta) => this.#reply(responseId).push(delta),
      textDone: (responseId) => this.#replies.get(responseId)?.end(),
      cut: (bargeIn) => this.#cut(bargeIn),
      speaking: () => this.#current?.playing === true
    }
    const rt = (this.#realtime = new OpenAiRealtimeAgent({ ...opts.realtime, speaker }))
    rt.on('transcript', (t) => this.emit('transcript', t))
    rt.on('event', (name, data) => this.emit('event', name, data))
    rt.on('turn', (m) => this.emit('turn', m))
    rt.on('error', (err) => this.#emitError(err))
    rt.on('failed', (err) => this.emit('failed', err))
    rt.on('hangup', (reason) => this.#hangup(reason))
  }

  /** Opens the Realtime session and the first TTS socket together; a wrong voice or key fails the start. */
  async start(call: CallContext): Promise<void> {
    this.#call = call
    await Promise.all([
      this.#realtime.start(call),
      this.#tts.ensure().catch((err: unknown) => {
        if (err instanceof CallbenchError && !err.retryable) throw err
      })
    ])
  }

  pushAudio(chunk: Uint8Array): void {
    this.#realtime.pushAudio(chunk)
  }

  played(ms: number, replyId?: string): void {
    if (replyId !== undefined) this.#replies.get(replyId)?.played(ms)
  }

  say(text: string): Promise<void> {
    return this.#realtime.say(text)
  }

  cancel(): void {
    this.#realtime.cancel()
  }

  sendContext(text: string): void {
    this.#realtime.sendContext(text)
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const r of this.#replies.values()) {
      r.cut()
      this.#reportTts(r)
    }
    this.#tts.close()
    await this.#realtime.close()
  }

  /** The speech of response `responseId`, made on its first text. */
  #reply(responseId: string): SpokenReply {
    let r = this.#replies.get(responseId)
    if (r) return r
    r = new SpokenReply(responseId, this.#tts.take(), () => this.#call?.clock() ?? 0)
    const reply = r
    reply.on('audio', (chunk, first) => {
      // The Realtime side sent the turn at its first text; the TTS share completes it.
      if (first && reply.firstPieceAtMs !== undefined)
        this.emit('turn', { ttsFirstByteMs: reply.firstAudioAtMs! - reply.firstPieceAtMs })
      this.emit('audio', chunk, reply.id)
    })
    reply.on('done', () => {
      this.#reportTts(reply)
      if (reply.emittedMs > 0) this.emit('audioEnd', reply.id)
      this.#afterReply()
    })
    reply.on('failed', (err) => {
      this.#reportTts(reply)
      if (reply.emittedMs > 0) this.emit('audioEnd', reply.id)
      if (!this.#closed) this.#emitError(err)
      this.#afterReply()
    })
    this.#current = r
    this.#replies.set(responseId, r)
    if (this.#replies.size > KEEP_REPLIES) this.#replies.delete(this.#replies.keys().next().value!)
    return r
  }

  /** The characters sent to TTS are billed whether or not they were heard: once per reply, when it is over. */
  #reportTts(r: SpokenReply): void {
    if (this.#ttsReported.has(r)) return
    this.#ttsReported.add(r)
    if (r.sentText.length > 0) this.emit('event', 'usage', { replyId: r.id, ttsChars: r.sentText.length })
  }

  #cut(bargeIn: boolean): void {
    const r = this.#current
    if (!r || !r.playing) return
    if (bargeIn) this.emit('interrupt')
    r.cut()
    this.#reportTts(r)
    const heard = r.heardText()
    this.emit('event', 'reply.cut', {
      replyId: r.id,
      reason: bargeIn ? 'barge_in' : 'operator',
      playedMs: r.playedMs,
      emittedMs: r.emittedMs,
      heardChars: heard.length
    })
    // The model's text item holds the whole reply; tell it what was actually said.
    if (r.sentText) {
      this.emit('transcript', { role: 'agent', text: heard, final: true, correction: true })
      this.#realtime.sendContext(
        heard
          ? `The caller interrupted your last reply; they heard only: "${heard}"`
          : 'The caller interrupted your last reply before hearing any of it.'
      )
    }
    this.#afterReply()
  }

  /** end_call: the Realtime side is done, but the goodbye may still be in TTS; hang up once it is spoken. */
  #hangup(reason: string): void {
    this.#hangupReason = reason
    this.#afterReply()
  }

  #afterReply(): void {
    const r = this.#current
    if (this.#hangupReason === undefined) return
    if (r && !r.done && !r.isCut) return
    const reason = this.#hangupReason
    this.#hangupReason = undefined
    this.emit('hangup', reason)
  }

  #emitError(err: CallbenchError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else this.#log.warn('hybrid error', { code: err.code })
  }
}

export const hybridEngine: EngineDefinition = {
  mode: 'hybrid',
  async unavailable({ secrets }) {
    const missing: string[] = []
    if (!(await secrets.get('OPENAI_API_KEY'))) missing.push('OPENAI_API_KEY (the Realtime model)')
    if (!(await hasElevenLabsKey({ secrets }))) missing.push('ELEVENLABS_API_KEY (text to speech)')
    return missing.length ? `Needs ${missing.join(' and ')}` : undefined
  },
  create(deps: AgentDeps, call: CallContext) {
    const s = deps.settings.openai
    const voice = deps.settings.voice
    const log = deps.log.child({ callId: call.callId, engine: 'hybrid' })
    return new HybridAgent({
      realtime: {
        apiKey: () => deps.secrets.get('OPENAI_API_KEY'),
        baseUrl: deps.config('OPENAI_BASE_URL') || DEFAULT_OPENAI_BASE_URL,
        model: s.realtimeModel,
        instructions: s.instructions,
        greeting: s.greeting,
        turnDetection: s.turnDetection,
        log
      },
      tts: async () =>
        TtsInputStream.connect(await elevenLabsFrom(deps), {
          voiceId: voice.voiceId || DEFAULT_VOICE_ID,
          outputFormat: 'ulaw_8000',
          voiceSettings: voice.settings,
          modelId: DEFAULT_TTS_MODEL,
          inactivityTimeoutS: 180,
          requestId: call.callId
        }),
      log
    })
  }
}
