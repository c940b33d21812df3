/** The cascade engine: local VAD → ElevenLabs Scribe → OpenAI chat (streamed) → ElevenLabs TTS over a pre-opened socket. */
import { EventEmitter } from 'node:events'
import { CallbenchError } from '../../shared/errors.js'
import type { TurnMetrics } from '../../shared/calls.js'
import { TWILIO_FORMAT, type AudioFormat } from '../audio/format.js'
import { decodeUlaw } from '../audio/g711.js'
import type { Logger } from '../log.js'
import { elevenLabsFrom, hasElevenLabsKey, type ElevenLabsConnection } from '../speech/elevenlabs-client.js'
import { DEFAULT_TTS_MODEL, DEFAULT_VOICE_ID, TtsInputStream, type TtsAlignment } from '../speech/elevenlabs-tts.js'
import { ChatConversation, openAiFrom } from '../speech/llm.js'
import { ScribeTranscriber } from '../speech/stt.js'
import { TextChunker } from '../speech/text-chunker.js'
import { createVad, type CreateVadOptions, type VadStream } from '../vad/index.js'
import type { SpeechEndEvent, SpeechStartEvent } from '../vad/segmenter.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { AgentDeps, EngineDefinition } from './engines.js'

const BYTES_PER_MS = 8
/** Caller audio kept for the pre-speech pad, ms. */
const RING_MS = 4_000
/** A warm TTS socket idles this long before the service closes it (the service allows up to 180 s). */
const TTS_IDLE_TIMEOUT_S = 180

/** Opens a stream-input TTS socket; tests and the hybrid engine share this shape. */
export type TtsConnector = () => Promise<TtsInputStream>

/** Keeps one TTS socket open ahead of need, so a reply never waits for a handshake. */
export class WarmTts {
  readonly #connect: TtsConnector
  readonly #log: Logger
  #warm: Promise<TtsInputStream> | undefined
  #closed = false

  constructor(connect: TtsConnector, log: Logger) {
    this.#connect = connect
    this.#log = log
  }

  /** Makes sure a socket is opening or open. */
  ensure(): Promise<TtsInputStream> {
    if (this.#closed) return Promise.reject(new CallbenchError('call_ended', 'The call has ended'))
    if (!this.#warm) {
      const p = this.#connect()
      this.#warm = p
      p.then(
        (s) => {
          // The idle socket can close (inactivity timeout, network): forget it so the next turn opens another.
          s.on('error', () => undefined)
          s.once('close', () => {
            if (this.#warm === p) this.#warm = undefined
          })
          if (this.#closed) s.close()
        },
        (err: unknown) => {
          if (this.#warm === p) this.#warm = undefined
          this.#log.warn('tts pre-open failed', { code: (err as CallbenchError).code })
        }
      )
    }
    return this.#warm
  }

  /** Hands over the warm socket (opening one if needed) and starts opening the next. */
  async take(): Promise<TtsInputStream> {
    const p = this.ensure()
    this.#warm = undefined
    let stream: TtsInputStream
    try {
      stream = await p
    } catch {
      stream = await this.#connect()
    }
    if (stream.closed) stream = await this.#connect()
    stream.removeAllListeners()
    if (!this.#closed) void this.ensure().catch(() => undefined)
    return stream
  }

  close(): void {
    this.#closed = true
    const p = this.#warm
    this.#warm = undefined
    void p?.then((s) => s.close(), () => undefined)
  }
}

/** One agent reply being generated and played. */
interface Reply {
  id: string
  abort: AbortController
  tts: TtsInputStream | undefined
  /** Text sent to TTS so far, and all the model said. */
  sentText: string
  llmText: string
  textDone: boolean
  audioDone: boolean
  cut: boolean
  emittedMs: number
  playedMs: number
  /** Alignment of what was synthesised: characters and their start in the reply's audio, ms. */
  alignedChars: string[]
  alignedStartsMs: number[]
  /** Set for caller turns; sent with the first audio. */
  metrics: Partial<TurnMetrics> | undefined
  firstPieceAtMs: number | undefined
  historyDone: boolean
}

export interface CascadeDeps {
  /** Where the chat conversation, the STT and the TTS come from. */
  chat: () => Promise<ChatConversation>
  elevenlabs: () => Promise<ElevenLabsConnection>
  vadOptions?: CreateVadOptions
}

export class CascadeAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly input: AudioFormat = TWILIO_FORMAT
  readonly output: AudioFormat = TWILIO_FORMAT
  readonly capabilities: AgentCapabilities = { ownsTurnDetection: true, canSay: true, wantsPlayback: true }
  readonly #deps: AgentDeps
  readonly #log: Logger
  readonly #vad: VadStream
  readonly #stt: ScribeTranscriber
  readonly #tts: WarmTts
  readonly #getChat: () => Promise<ChatConversation>
  readonly #ring = new Uint8Array(RING_MS * BYTES_PER_MS)
  #pcm = new Int16Array(160)
  #streamBytes = 0
  #call: CallContext | undefined
  #chat: ChatConversation | undefined
  #reply: Reply | undefined
  #replySeq = 0
  #turns = 0
  /** Bumped at each speech start: a turn whose transcript comes back after it is merged into the next. */
  #turnToken = 0
  #closed = false

  constructor(deps: AgentDeps, io: CascadeDeps) {
    super()
    this.#deps = deps
    this.#log = deps.log
    this.#getChat = io.chat
    const voice = deps.settings.voice
    this.#tts = new WarmTts(
      async () =>
        TtsInputStream.connect(await io.elevenlabs(), {
          voiceId: voice.voiceId || DEFAULT_VOICE_ID,
          outputFormat: 'ulaw_8000',
          voiceSettings: voice.settings,
          modelId: DEFAULT_TTS_MODEL,
          inactivityTimeoutS: TTS_IDLE_TIMEOUT_S
        }),
      this.#log
    )
    this.#stt = new ScribeTranscriber(io.elevenlabs, { mode: 'realtime', log: this.#log })
    this.#stt.on('partial', (text) => this.emit('transcript', { role: 'caller', text, final: false }))
    this.#stt.on('fallback', (err) => this.emit('event', 'stt.fallback', { code: err.code }))
    this.#vad = createVad(deps.settings.vad, io.vadOptions)
    this.#vad.on('speechStart', (e) => this.#speechStart(e))
    this.#vad.on('speechEnd', (e) => void this.#speechEnd(e))
    this.#vad.on('misfire', (e) => this.emit('event', 'vad.misfire', { onsetMs: e.onsetMs, speechMs: e.speechMs }))
    this.#vad.on('error', (err) => this.#emitError(err))
  }

  /** Checks the keys and the voice (by opening the first TTS socket), opens STT, then greets if a greeting is set. */
  async start(call: CallContext): Promise<void> {
    this.#call = call
    if (this.#chat) return
    this.#stt.warm()
    const [chat] = await Promise.all([
      this.#getChat(),
      this.#tts.ensure().catch((err: unknown) => {
        // A wrong voice or key will not fix itself; a network blip may, on the next turn.
        if (err instanceof CallbenchError && !err.retryable) throw err
      })
    ])
    this.#chat = chat
    if (this.#closed) return
    const greeting = this.#deps.settings.openai.greeting
    if (greeting) void this.#speakText(greeting, 'greeting')
  }

  pushAudio(chunk: Uint8Array): void {
    if (this.#closed) return
    const startMs = this.#streamBytes / BYTES_PER_MS
    this.#remember(chunk)
    if (this.#stt.inTurn) this.#stt.push(chunk)
    if (this.#pcm.length !== chunk.length) this.#pcm = new Int16Array(chunk.length)
    decodeUlaw(chunk, this.#pcm)
    this.#vad.push(this.#pcm, startMs)
  }

  played(ms: number, replyId?: string): void {
    const r = this.#reply
    if (r && (replyId === undefined || replyId === r.id)) r.playedMs = ms
  }

  async say(text: string): Promise<void> {
    if (!this.#chat) throw new CallbenchError('conflict', 'The cascade is not ready')
    const r = this.#reply
    if (r && !r.cut) this.#cut(r, 'operator', false)
    void this.#speakText(text, 'say')
  }

  cancel(): void {
    const r = this.#reply
    if (r && !r.cut) this.#cut(r, 'cancel', false)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const r = this.#reply
    if (r) {
      r.cut = true
      r.abort.abort()
      r.tts?.close()
    }
    this.#tts.close()
    this.#stt.close()
    this.#vad.close()
  }

  // ---- turn taking ----

  #remember(chunk: Uint8Array): void {
    const size = this.#ring.length
    let pos = this.#streamBytes % size
    let offset = 0
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, size - pos)
      this.#ring.set(chunk.subarray(offset, offset + n), pos)
      offset += n
      pos = (pos + n) % size
    }
    this.#streamBytes += chunk.length
  }

  /** The caller's audio from `fromMs` (stream time) to now. */
  #recall(fromMs: number): Uint8Array {
    const size = this.#ring.length
    const end = this.#streamBytes
    const start = Math.max(Math.round(fromMs * BYTES_PER_MS), end - size, 0)
    const out = new Uint8Array(end - start)
    for (let i = 0; i < out.length; i++) out[i] = this.#ring[(start + i) % size]!
    return out
  }

  #speechStart(e: SpeechStartEvent): void {
    this.emit('event', 'vad.speech_start', { onsetMs: e.onsetMs, confirmedAtMs: e.confirmedAtMs })
    this.#turnToken++
    const r = this.#reply
    // Speech over a reply still playing or still being generated: the caller wins.
    if (r && !r.cut && (!r.audioDone || r.playedMs < r.emittedMs)) this.#cut(r, 'barge_in', true)
    this.#stt.begin(this.#recall(e.paddedStartMs))
    void this.#tts.ensure().catch(() => undefined)
  }

  async #speechEnd(e: SpeechEndEvent): Promise<void> {
    const call = this.#call
    if (!call || this.#closed) return
    const endOfTurnAtMs = call.clock()
    const nowStreamMs = this.#streamBytes / BYTES_PER_MS
    this.emit('event', 'vad.speech_end', { onsetMs: e.onsetMs, lastSpeechMs: e.lastSpeechMs, speechMs: e.speechMs })
    const token = this.#turnToken
    const metrics: Partial<TurnMetrics> = {
      // The caller's stream time mapped onto the call clock at the moment of the decision.
      callerStoppedAtMs: endOfTurnAtMs - (nowStreamMs - e.lastSpeechMs),
      endOfTurnAtMs,
      endOfSpeechWaitMs: e.decidedAtMs - e.lastSpeechMs
    }
    let text: string
    try {
      const t = await this.#stt.finish()
      text = t.text.trim()
      metrics.sttMs = call.clock() - endOfTurnAtMs
      this.emit('event', 'stt.done', { via: t.via, sttMs: Math.round(metrics.sttMs) })
    } catch (err) {
      this.#emitError(err)
      return
    }
    if (this.#closed) return
    if (!text) {
      this.emit('event', 'stt.empty')
      return
    }
    this.emit('transcript', { role: 'caller', text, final: true })
    const chat = this.#chat
    if (!chat) return
    chat.add('user', text)
    // The caller spoke again while this turn was being transcribed: answer both together at the next end.
    if (token !== this.#turnToken) return
    metrics.turn = ++this.#turns
    void this.#respond(chat, metrics)
  }

  // ---- replies ----

  #newReply(kind: string, metrics: Partial<TurnMetrics> | undefined): Reply {
    const reply: Reply = {
      id: `${kind}-${++this.#replySeq}`,
      abort: new AbortController(),
      tts: undefined,
      sentText: '',
      llmText: '',
      textDone: false,
      audioDone: false,
      cut: false,
      emittedMs: 0,
      playedMs: 0,
      alignedChars: [],
      alignedStartsMs: [],
      metrics,
      firstPieceAtMs: undefined,
      historyDone: false
    }
    this.#reply = reply
    return reply
  }

  /** Streams the model's answer into TTS piece by piece. */
  async #respond(chat: ChatConversation, metrics: Partial<TurnMetrics>): Promise<void> {
    const r = this.#newReply('reply', metrics)
    const ttsReady = this.#attachTts(r)
    // Awaited only once there is text to speak; a reply cut or failed before that must not leave it unhandled.
    ttsReady.catch(() => undefined)
    const chunker = new TextChunker()
    const llmStartAtMs = this.#now()
    try {
      for await (const delta of chat.stream(r.abort.signal)) {
        if (r.cut) return
        if (!r.llmText) {
          metrics.llmFirstTokenMs = this.#now() - llmStartAtMs
          this.emit('event', 'llm.first_token', { replyId: r.id, llmFirstTokenMs: Math.round(metrics.llmFirstTokenMs) })
        }
        r.llmText += delta
        for (const piece of chunker.push(delta)) await this.#sendPiece(r, ttsReady, piece)
      }
      if (r.cut) return
      const rest = chunker.flush()
      if (rest) await this.#sendPiece(r, ttsReady, rest)
      r.textDone = true
      this.emit('transcript', { role: 'agent', text: r.llmText, final: false })
      if (!r.sentText) {
        this.#finish(r)
        return
      }
      ;(await ttsReady).end()
    } catch (err) {
      if (r.cut) return
      this.#abandon(r, err)
    }
  }

  /** Speaks fixed text (greeting, operator `say`) as its own reply. */
  async #speakText(text: string, kind: string): Promise<void> {
    const r = this.#newReply(kind, undefined)
    r.llmText = text
    r.textDone = true
    try {
      const ttsReady = this.#attachTts(r)
      ttsReady.catch(() => undefined)
      await this.#sendPiece(r, ttsReady, text)
      ;(await ttsReady).end()
    } catch (err) {
      if (!r.cut) this.#abandon(r, err)
    }
  }

  async #sendPiece(r: Reply, ttsReady: Promise<TtsInputStream>, piece: string): Promise<void> {
    r.firstPieceAtMs ??= this.#now()
    const tts = await ttsReady
    if (r.cut) return
    // The first piece is flushed so its audio starts at once; later ones follow the service's own pacing.
    tts.sendText(piece, r.sentText === '')
    r.sentText += (r.sentText ? ' ' : '') + piece
  }

  /** Takes the warm TTS socket for this reply and routes its audio to the bridge. */
  async #attachTts(r: Reply): Promise<TtsInputStream> {
    const tts = await this.#tts.take()
    if (r.cut || r.audioDone || this.#closed) {
      tts.close()
      throw new CallbenchError('call_ended', 'Reply was cut before speech began')
    }
    r.tts = tts
    tts.on('alignment', (a: TtsAlignment) => {
      for (let i = 0; i < a.chars.length; i++) {
        r.alignedChars.push(a.chars[i]!)
        r.alignedStartsMs.push(r.emittedMs + (a.charStartTimesMs[i] ?? 0))
      }
    })
    tts.on('audio', (chunk) => {
      if (r.cut) return
      if (r.emittedMs === 0 && r.metrics) {
        const m = r.metrics
        if (r.firstPieceAtMs !== undefined) m.ttsFirstByteMs = this.#now() - r.firstPieceAtMs
        this.emit('turn', m)
      }
      r.emittedMs += chunk.length / BYTES_PER_MS
      this.emit('audio', chunk, r.id)
    })
    tts.on('final', () => this.#finish(r))
    tts.on('error', (err) => {
      if (!r.cut) this.#emitError(err)
    })
    tts.on('close', () => {
      if (!r.audioDone && !r.cut) this.#abandon(r, new CallbenchError('upstream_closed', 'ElevenLabs TTS closed before the reply was spoken', { retryable: true }))
    })
    return tts
  }

  /** The reply's audio is all out: the bridge flushes it; the whole reply goes into the history. */
  #finish(r: Reply): void {
    if (r.audioDone || r.cut) return
    r.audioDone = true
    if (r.emittedMs > 0) this.emit('audioEnd', r.id)
    if (r.sentText) this.emit('transcript', { role: 'agent', text: r.sentText, final: true })
    this.#keepInHistory(r, r.sentText)
    r.tts?.close()
  }

  /** A failure mid-reply: what was spoken stays, the rest is dropped, the call goes on (or fails on a bad key). */
  #abandon(r: Reply, err: unknown): void {
    const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Reply failed', { cause: err })
    r.cut = true
    r.abort.abort()
    r.tts?.close()
    if (r.emittedMs > 0) this.emit('audioEnd', r.id)
    this.#keepInHistory(r, this.#heardText(r))
    if (this.#reply === r) this.#reply = undefined
    if (e.code === 'call_ended') return
    // A refused key or a missing model or voice will fail every turn: end the call with the reason.
    if (!e.retryable && (e.code === 'upstream_failed' || e.code === 'not_found' || e.code === 'not_configured')) this.emit('failed', e)
    else this.#emitError(e)
  }

  /**
   * Barge-in (or operator stop): `interrupt` first so the bridge clears Twilio at once, then the model's stream
   * is aborted and the TTS socket closed. The history keeps what the caller heard.
   */
  #cut(r: Reply, reason: string, interrupt: boolean): void {
    r.cut = true
    if (interrupt) this.emit('interrupt')
    r.abort.abort()
    r.tts?.close()
    const heard = this.#heardText(r)
    this.#keepInHistory(r, heard)
    if (r.sentText) this.emit('transcript', { role: 'agent', text: heard, final: true, correction: true })
    this.emit('event', 'reply.cut', {
      replyId: r.id,
      reason,
      playedMs: r.playedMs,
      emittedMs: r.emittedMs,
      heardChars: heard.length,
      spokenChars: r.sentText.length
    })
    if (this.#reply === r) this.#reply = undefined
  }

  #keepInHistory(r: Reply, text: string): void {
    if (r.historyDone) return
    r.historyDone = true
    if (text && this.#chat) this.#chat.add('assistant', text)
  }

  /** What the caller heard of a reply: by the TTS alignment when it came, else in proportion to the audio played. */
  #heardText(r: Reply): string {
    const played = Math.min(r.playedMs, r.emittedMs)
    if (played <= 0) return ''
    if (r.alignedChars.length > 0) {
      let n = 0
      while (n < r.alignedStartsMs.length && r.alignedStartsMs[n]! < played) n++
      let heard = r.alignedChars.slice(0, n).join('')
      // A word cut in the middle was not heard as a word.
      if (n < r.alignedChars.length && r.alignedChars[n] !== ' ') heard = heard.slice(0, Math.max(0, heard.lastIndexOf(' ')))
      return heard.trim()
    }
    if (r.audioDone && played >= r.emittedMs) return r.sentText
    const chars = Math.floor((r.sentText.length * played) / Math.max(r.emittedMs, 1))
    const cut = r.sentText.lastIndexOf(' ', chars)
    return r.sentText.slice(0, cut > 0 ? cut : 0).trim()
  }

  #now(): number {
    return this.#call?.clock() ?? 0
  }

  /** `error` with no listener would throw (EventEmitter rule), e.g. before the session attached. */
  #emitError(err: unknown): void {
    const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Cascade error', { cause: err })
    if (this.listenerCount('error') > 0) this.emit('error', e)
    else this.#log.warn('cascade error', { code: e.code })
  }
}

/** Which keys a cascade needs and lacks, as the console shows it. */
async function missingKeys(deps: Pick<AgentDeps, 'secrets'>): Promise<string | undefined> {
  const missing: string[] = []
  if (!(await deps.secrets.get('OPENAI_API_KEY'))) missing.push('OPENAI_API_KEY (the LLM)')
  if (!(await hasElevenLabsKey(deps))) missing.push('ELEVENLABS_API_KEY (speech to text and text to speech)')
  return missing.length ? `Needs ${missing.join(' and ')}` : undefined
}

export const cascadeEngine: EngineDefinition = {
  mode: 'cascade',
  unavailable: (deps) => missingKeys(deps),
  create(deps) {
    const s = deps.settings.openai
    return new CascadeAgent(deps, {
      chat: async () =>
        new ChatConversation(await openAiFrom(deps), { model: s.llmModel, instructions: s.instructions, temperature: s.temperature }),
      elevenlabs: () => elevenLabsFrom(deps)
    })
  }
}

export { missingKeys as cascadeMissingKeys }
