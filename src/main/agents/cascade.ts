/** The cascade engine: local VAD → ElevenLabs Scribe → OpenAI chat (streamed) → ElevenLabs TTS over a pre-opened socket. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { setImmediate as yieldToIo } from 'node:timers/promises'
import { CallbenchError } from '../../shared/errors.js'
import type { TurnMetrics } from '../../shared/calls.js'
import { TWILIO_FORMAT, type AudioFormat } from '../audio/format.js'
import { decodeUlaw } from '../audio/g711.js'
import type { Logger } from '../log.js'
import { elevenLabsFrom, hasElevenLabsKey, type ElevenLabsConnection } from '../speech/elevenlabs-client.js'
import { DEFAULT_TTS_MODEL, DEFAULT_VOICE_ID, TtsInputStream } from '../speech/elevenlabs-tts.js'
import { ChatConversation, openAiFrom, type ChatUsage } from '../speech/llm.js'
import { SpokenReply, WarmTts } from '../speech/spoken-reply.js'
import { ScribeTranscriber, type SttTrace } from '../speech/stt.js'
import { createVad, type CreateVadOptions, type VadStream } from '../vad/index.js'
import type { PauseEvent, SpeechEndEvent, SpeechStartEvent } from '../vad/segmenter.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { AgentDeps, EngineDefinition } from './engines.js'

const BYTES_PER_MS = 8
/** Caller audio kept for the pre-speech pad, ms. */
const RING_MS = 4_000
/** Caller chunks whose arrival is remembered (about 1.3 s of 20 ms frames), to time the VAD's decisions. */
const ARRIVALS = 64
/** A warm TTS socket idles this long before the service closes it (the service allows up to 180 s). */
const TTS_IDLE_TIMEOUT_S = 180

/**
 * Where one turn's time went, as offsets from the end-of-turn decision (call clock, ms): the timeline's
 * `turn.stages`, with the ids that tie each step to the service's own record of it. The first frame to Twilio
 * is the turn metrics' `firstAudioOutAtMs`.
 */
export interface TurnStages {
  turn: number
  replyId: string
  /** Wall-clock time of the end-of-turn decision (performance.timeOrigin based, ms), to line up other processes' records. */
  decidedAtEpochMs: number
  /**
   * The deciding window ended this long (stream ms) before the chunk that carried its end did: Twilio's 20 ms
   * packets, not a wait of ours.
   */
  vadFrameTailMs?: number
  /** That chunk arrived → the decision reached us (inference and its queue), call clock ms. */
  vadDecisionMs: number
  sttVia: 'realtime' | 'batch'
  sttSessionId?: string
  sttCommitIndex?: number
  sttRequestMs?: number
  sttTranscriptMs?: number
  llmRequestId: string
  llmRequestMs?: number
  llmFirstTokenMs?: number
  /** The first speakable piece formed, then written to the TTS socket. */
  firstPieceMs?: number
  firstPieceSentMs?: number
  ttsRequestId?: string
  ttsFirstAudioMs?: number
  /** An early reply: started this long before the end of turn (its steps then have negative offsets). */
  earlyReplyMs?: number
}

/** One agent reply: the model's stream and the speech made of it. */
interface Reply {
  spoken: SpokenReply
  abort: AbortController
  llmText: string
  historyDone: boolean
  ttsReported: boolean
  /** Call clock: the model was asked, and its first token came. */
  llmStartAtMs?: number
  llmFirstTokenAtMs?: number
  /** An early reply's audio, held until its turn ends; undefined for a live reply and once released. */
  held: Uint8Array[] | undefined
  /** TTS finished while the audio was held: the reply is finished on release. */
  doneWhileHeld: boolean
  /** The turn the reply answers, completed by its first audio out (none for a greeting or `say`). */
  turn: TurnOut | undefined
  /** Audio has gone to the bridge. */
  out: boolean
}

interface TurnOut {
  metrics: Partial<TurnMetrics>
  stages: (replyId: string) => TurnStages
  early?: EarlyReply
}

/** A reply started at a pause in the caller's turn (VAD `pause`), before the turn ended. */
interface EarlyReply {
  /** The turn it answers (`#turnToken`). */
  token: number
  /** Call clock: the pause, and the transcript of the turn up to it. */
  pausedAtMs: number
  transcriptAtMs?: number
  trace: SttTrace
  text: string | undefined
  reply: Reply | undefined
}

export interface CascadeDeps {
  /** Where the chat conversation, the STT and the TTS come from. */
  chat: () => Promise<ChatConversation>
  elevenlabs: () => Promise<ElevenLabsConnection>
  vadOptions?: CreateVadOptions
  /** Traces the TTS sockets to the call: the call id (each socket's id is `<callId>:tts-<n>`). */
  requestId?: string
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
  /** Per caller chunk: its end (stream ms) and when it arrived (call clock), in a ring. */
  readonly #arrivalEndMs = new Float64Array(ARRIVALS)
  readonly #arrivalAtMs = new Float64Array(ARRIVALS)
  #arrivals = 0
  #call: CallContext | undefined
  #chat: ChatConversation | undefined
  #reply: Reply | undefined
  /** The reply being prepared at a pause in the caller's turn, if any. */
  #early: EarlyReply | undefined
  #replySeq = 0
  #turns = 0
  /** Bumped at each speech start: a turn whose transcript comes back after it is merged into the next. */
  #turnToken = 0
  /** Stream time the current turn's STT audio starts at (the padded onset), ms. */
  #sttFromMs = 0
  #closed = false

  constructor(deps: AgentDeps, io: CascadeDeps) {
    super()
    this.#deps = deps
    this.#log = deps.log
    this.#getChat = io.chat
    const voice = deps.settings.voice
    let ttsSeq = 0
    this.#tts = new WarmTts(
      async () =>
        TtsInputStream.connect(await io.elevenlabs(), {
          voiceId: voice.voiceId || DEFAULT_VOICE_ID,
          outputFormat: 'ulaw_8000',
          voiceSettings: voice.settings,
          modelId: DEFAULT_TTS_MODEL,
          inactivityTimeoutS: TTS_IDLE_TIMEOUT_S,
          // One id per socket: each speaks one reply, so the id traces a reply to the service's record of it.
          ...(io.requestId ? { requestId: `${io.requestId}:tts-${++ttsSeq}` } : {})
        }),
      this.#log
    )
    this.#stt = new ScribeTranscriber(io.elevenlabs, { mode: 'realtime', log: this.#log, clock: () => this.#now() })
    this.#stt.on('partial', (text) => this.emit('transcript', { role: 'caller', text, final: false }))
    this.#stt.on('fallback', (err) => this.emit('event', 'stt.fallback', { code: err.code }))
    const vad = deps.settings.vad
    this.#vad = createVad({ ...vad, ...(vad.earlyReplyMs > 0 ? { pauseMs: vad.earlyReplyMs } : {}) }, io.vadOptions)
    this.#vad.on('speechStart', (e) => this.#speechStart(e))
    this.#vad.on('speechEnd', (e) => void this.#speechEnd(e))
    this.#vad.on('pause', (e) => this.#pause(e))
    this.#vad.on('resume', () => this.#resume())
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
    if (greeting) this.#speakText(greeting, 'greeting')
  }

  pushAudio(chunk: Uint8Array): void {
    if (this.#closed) return
    const startMs = this.#streamBytes / BYTES_PER_MS
    this.#remember(chunk)
    const slot = this.#arrivals++ % ARRIVALS
    this.#arrivalEndMs[slot] = this.#streamBytes / BYTES_PER_MS
    this.#arrivalAtMs[slot] = this.#now()
    if (this.#stt.inTurn) this.#stt.push(chunk)
    if (this.#pcm.length !== chunk.length) this.#pcm = new Int16Array(chunk.length)
    decodeUlaw(chunk, this.#pcm)
    this.#vad.push(this.#pcm, startMs)
  }

  played(ms: number, replyId?: string): void {
    const r = this.#reply
    if (r && (replyId === undefined || replyId === r.spoken.id)) r.spoken.played(ms)
  }

  async say(text: string): Promise<void> {
    if (!this.#chat) throw new CallbenchError('conflict', 'The cascade is not ready')
    // The operator speaks now: a reply prepared for the caller's turn would talk over it.
    this.#dropEarly('operator')
    const r = this.#reply
    if (r) this.#cut(r, 'operator', false)
    this.#speakText(text, 'say')
  }

  cancel(): void {
    this.#dropEarly('operator')
    const r = this.#reply
    if (r) this.#cut(r, 'cancel', false)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#dropEarly('call_ended')
    const r = this.#reply
    if (r) {
      r.abort.abort()
      r.spoken.cut()
      this.#reportTts(r)
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

  /** The remembered chunk that carried stream time `streamMs`. */
  #arrivalOf(streamMs: number): { endMs: number; atMs: number } | undefined {
    let found: number | undefined
    for (let k = 1; k <= Math.min(this.#arrivals, ARRIVALS); k++) {
      const slot = (this.#arrivals - k) % ARRIVALS
      if (this.#arrivalEndMs[slot]! < streamMs) break
      found = slot
    }
    return found === undefined ? undefined : { endMs: this.#arrivalEndMs[found]!, atMs: this.#arrivalAtMs[found]! }
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
    const decidedAtMs = this.#now()
    const arrival = this.#arrivalOf(e.confirmedAtMs)
    // With when it was decided and how long after the audio that decided it came in (for the barge-in breakdown).
    this.emit('event', 'vad.speech_start', {
      onsetMs: e.onsetMs,
      confirmedAtMs: e.confirmedAtMs,
      decidedAtMs,
      clockEpochMs: performance.timeOrigin + performance.now() - decidedAtMs,
      ...(arrival ? { frameTailMs: arrival.endMs - e.confirmedAtMs, decisionMs: decidedAtMs - arrival.atMs } : {})
    })
    this.#turnToken++
    // An early reply left over from a turn that ended without it (its transcript was late) is moot now.
    this.#dropEarly('new_turn')
    const r = this.#reply
    // Speech over a reply still playing or still being generated: the caller wins.
    if (r && r.spoken.playing) this.#cut(r, 'barge_in', true)
    this.#sttFromMs = Math.max(e.paddedStartMs, this.#streamBytes / BYTES_PER_MS - RING_MS, 0)
    this.#stt.begin(this.#recall(e.paddedStartMs))
    void this.#tts.ensure().catch(() => undefined)
  }

  /**
   * The caller has paused long enough that the turn is probably over: what was said is transcribed and the reply
   * started now, its audio held, so that when the end-of-turn silence has run out the reply is ready to play.
   */
  #pause(e: PauseEvent): void {
    const chat = this.#chat
    if (!chat || this.#closed || this.#early || !this.#stt.inTurn) return
    const trace: SttTrace = {}
    const atMs = this.#now()
    const transcript = this.#stt.checkpoint(trace)
    if (!transcript) return
    const early: EarlyReply = { token: this.#turnToken, pausedAtMs: atMs, trace, text: undefined, reply: undefined }
    this.#early = early
    this.emit('event', 'reply.early', { lastSpeechMs: e.lastSpeechMs, atMs: e.atMs })
    transcript.then(
      (text) => {
        early.text = text.trim()
        early.transcriptAtMs = this.#now()
        if (this.#early !== early || this.#closed || !early.text) return
        early.reply = this.#startReply(chat, 'reply', { pendingUser: early.text, held: true })
      },
      () => {
        // Nothing to answer early; the end of the turn transcribes it again (see ScribeTranscriber.finish).
        if (this.#early === early) this.#early = undefined
      }
    )
  }

  /** The caller went on after a pause: the early reply answered half a turn. Nothing of it was heard. */
  #resume(): void {
    this.#dropEarly('caller_resumed')
  }

  #dropEarly(reason: string): void {
    const early = this.#early
    if (!early) return
    this.#early = undefined
    const r = early.reply
    if (r) {
      r.abort.abort()
      r.spoken.cut()
      this.#reportTts(r)
      r.historyDone = true
    }
    this.emit('event', 'reply.early_dropped', { reason, ...(r ? { replyId: r.spoken.id } : {}) })
  }

  async #speechEnd(e: SpeechEndEvent): Promise<void> {
    const call = this.#call
    if (!call || this.#closed) return
    const endOfTurnAtMs = call.clock()
    const nowStreamMs = this.#streamBytes / BYTES_PER_MS
    const arrival = this.#arrivalOf(e.decidedAtMs)
    const sttInTurn = this.#stt.inTurn
    const early = this.#early
    // The commit goes out first (synchronously, inside finish): the timeline and the usage can wait for it.
    const trace: SttTrace = {}
    const transcript = this.#stt.finish(undefined, trace)
    this.emit('event', 'vad.speech_end', {
      onsetMs: e.onsetMs,
      lastSpeechMs: e.lastSpeechMs,
      decidedAtMs: e.decidedAtMs,
      speechMs: e.speechMs
    })
    const token = this.#turnToken
    if (sttInTurn) this.emit('event', 'usage', { sttMs: Math.max(0, nowStreamMs - this.#sttFromMs) })
    const metrics: Partial<TurnMetrics> = {
      // The caller's stream time mapped onto the call clock at the moment of the decision.
      callerStoppedAtMs: endOfTurnAtMs - (nowStreamMs - e.lastSpeechMs),
      endOfTurnAtMs,
      endOfSpeechWaitMs: e.decidedAtMs - e.lastSpeechMs
    }
    const since = (atMs: number | undefined) => (atMs === undefined ? undefined : atMs - endOfTurnAtMs)
    const stagesOf = (via: TurnStages['sttVia'], t: SttTrace, turn: number, replyId: string): TurnStages => ({
      turn,
      replyId,
      decidedAtEpochMs: performance.timeOrigin + performance.now() - (call.clock() - endOfTurnAtMs),
      ...(arrival ? { vadFrameTailMs: arrival.endMs - e.decidedAtMs } : {}),
      vadDecisionMs: arrival ? endOfTurnAtMs - arrival.atMs : nowStreamMs - e.decidedAtMs,
      sttVia: via,
      ...(t.sessionId !== undefined ? { sttSessionId: t.sessionId, sttCommitIndex: t.commitIndex } : {}),
      sttRequestMs: since(t.requestAtMs),
      sttTranscriptMs: since(t.transcriptAtMs),
      llmRequestId: `${call.callId}:${replyId}`
    })

    // The reply started at the pause answers this turn as it stands: it plays now, and the transcript of the
    // silence since (almost always nothing) only joins the caller's line.
    const ready = early && early.token === token && early.reply && !early.reply.spoken.isCut ? early : undefined
    if (ready && this.#chat) {
      this.#early = undefined
      const r = ready.reply!
      const text = ready.text!
      this.emit('transcript', { role: 'caller', text, final: true })
      this.#chat.add('user', text)
      const turn = (metrics.turn = ++this.#turns)
      metrics.earlyReplyMs = endOfTurnAtMs - ready.pausedAtMs
      r.turn = { metrics, stages: (replyId) => stagesOf('realtime', ready.trace, turn, replyId), early: ready }
      this.#reply = r
      this.#release(r)
      void transcript.then(
        (t) => {
          const rest = t.text.trim().slice(text.length).trim()
          if (!rest || this.#closed) return
          this.emit('transcript', { role: 'caller', text: rest, final: true })
          this.#chat?.add('user', rest)
        },
        () => undefined
      )
      return
    }
    // Its transcript is not back yet (or it failed): the turn is answered the usual way.
    this.#dropEarly('turn_ended_first')

    let text: string
    let via: TurnStages['sttVia']
    try {
      const t = await transcript
      text = t.text.trim()
      via = t.via
      metrics.sttMs = call.clock() - endOfTurnAtMs
      this.emit('event', 'stt.done', { via: t.via, sttMs: Math.round(metrics.sttMs) })
    } catch (err) {
      this.#failure(err)
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
    const turn = (metrics.turn = ++this.#turns)
    const r = this.#startReply(chat, 'reply', {})
    r.turn = { metrics, stages: (replyId) => stagesOf(via, trace, turn, replyId) }
  }

  // ---- replies ----

  /** A reply: the model's stream into TTS piece by piece. `held`: an early reply, whose audio waits for its turn. */
  #startReply(chat: ChatConversation, kind: string, opts: { pendingUser?: string; held?: boolean }): Reply {
    const reply = this.#newReply(kind, opts.held ?? false)
    void this.#stream(chat, reply, opts.pendingUser)
    return reply
  }

  #newReply(kind: string, held: boolean): Reply {
    const spoken = new SpokenReply(`${kind}-${++this.#replySeq}`, this.#tts.take(), () => this.#now())
    const reply: Reply = {
      spoken,
      abort: new AbortController(),
      llmText: '',
      historyDone: false,
      ttsReported: false,
      held: held ? [] : undefined,
      doneWhileHeld: false,
      turn: undefined,
      out: false
    }
    spoken.on('audio', (chunk) => {
      if (reply.held) reply.held.push(chunk)
      else this.#forward(reply, chunk)
    })
    spoken.on('done', () => {
      if (reply.held) reply.doneWhileHeld = true
      else this.#finish(reply)
    })
    spoken.on('failed', (err) => this.#abandon(reply, err))
    if (!held) this.#reply = reply
    return reply
  }

  /** Audio of a reply to the bridge; the first completes the turn's metrics (just before it) and breakdown (after). */
  #forward(r: Reply, chunk: Uint8Array): void {
    const first = !r.out
    r.out = true
    if (first) this.#turnOut(r)
    this.emit('audio', chunk, r.spoken.id)
    if (first) this.#stagesOut(r)
  }

  /** The turn has ended: what an early reply has made so far goes out, the rest follows as it comes. */
  #release(r: Reply): void {
    const held = r.held ?? []
    r.held = undefined
    for (const chunk of held) this.#forward(r, chunk)
    if (r.doneWhileHeld) this.#finish(r)
  }

  /**
   * Sent just before the first audio, so the bridge closes the turn on the frame that follows. An early reply's
   * parts count only what each step still took after the end of turn: the rest was spent inside the silence.
   */
  #turnOut(r: Reply): void {
    const t = r.turn
    if (!t) return
    const m = t.metrics
    const spoken = r.spoken
    const end = m.endOfTurnAtMs ?? 0
    if (t.early) {
      const sttAt = t.early.transcriptAtMs ?? end
      const llmAt = r.llmFirstTokenAtMs ?? end
      const audioAt = spoken.firstAudioAtMs ?? end
      m.sttMs = Math.max(0, sttAt - end)
      m.llmFirstTokenMs = Math.max(0, llmAt - Math.max(end, sttAt))
      m.ttsFirstByteMs = Math.max(0, audioAt - Math.max(end, sttAt, llmAt))
    } else {
      if (r.llmFirstTokenAtMs !== undefined && r.llmStartAtMs !== undefined)
        m.llmFirstTokenMs = r.llmFirstTokenAtMs - r.llmStartAtMs
      if (spoken.firstPieceAtMs !== undefined && spoken.firstAudioAtMs !== undefined)
        m.ttsFirstByteMs = spoken.firstAudioAtMs - spoken.firstPieceAtMs
    }
    this.emit('turn', m)
  }

  /** After the audio has gone to the bridge: the breakdown is bookkeeping, not on the caller's path. */
  #stagesOut(r: Reply): void {
    const t = r.turn
    if (!t) return
    const spoken = r.spoken
    const end = t.metrics.endOfTurnAtMs ?? 0
    const since = (atMs: number | undefined) => (atMs === undefined ? undefined : atMs - end)
    const stages = t.stages(spoken.id)
    stages.llmRequestMs = since(r.llmStartAtMs)
    stages.llmFirstTokenMs = since(r.llmFirstTokenAtMs)
    stages.firstPieceMs = since(spoken.firstPieceAtMs)
    stages.firstPieceSentMs = since(spoken.firstPieceSentAtMs)
    const ttsRequestId = spoken.ttsRequestId
    if (ttsRequestId !== undefined) stages.ttsRequestId = ttsRequestId
    stages.ttsFirstAudioMs = since(spoken.firstAudioAtMs)
    if (t.early) stages.earlyReplyMs = end - t.early.pausedAtMs
    this.emit('event', 'turn.stages', { ...stages })
  }

  /** Streams the model's answer into TTS piece by piece, as it comes. */
  async #stream(chat: ChatConversation, r: Reply, pendingUser: string | undefined): Promise<void> {
    const spoken = r.spoken
    r.llmStartAtMs = this.#now()
    try {
      const onUsage = (u: ChatUsage) =>
        this.emit('event', 'usage', {
          replyId: spoken.id,
          llmInTokens: u.promptTokens,
          llmOutTokens: u.completionTokens,
          ...(u.estimated ? { estimated: true } : {})
        })
      const requestId = `${this.#call?.callId ?? 'call'}:${spoken.id}`
      for await (const delta of chat.stream(r.abort.signal, { onUsage, requestId, pendingUser })) {
        if (spoken.isCut) return
        const first = !r.llmText
        if (first) r.llmFirstTokenAtMs = this.#now()
        r.llmText += delta
        // Text to TTS first: the timeline entry can follow it.
        spoken.push(delta)
        if (first)
          this.emit('event', 'llm.first_token', {
            replyId: spoken.id,
            llmFirstTokenMs: Math.round(r.llmFirstTokenAtMs! - r.llmStartAtMs)
          })
        // Text the model has already sent is read without a pause (a promise chain), and a fast model's whole
        // reply arrives at once: until the first audio is back, let the event loop take I/O between tokens, so
        // the TTS socket's first audio is not queued behind the rest of the reply.
        if (spoken.firstPieceAtMs !== undefined && spoken.firstAudioAtMs === undefined) await yieldToIo()
      }
      if (spoken.isCut) return
      spoken.end()
    } catch (err) {
      if (!spoken.isCut) this.#abandon(r, err)
    }
  }

  /** Speaks fixed text (greeting, operator `say`) as its own reply. */
  #speakText(text: string, kind: string): void {
    const r = this.#newReply(kind, false)
    r.llmText = text
    r.spoken.say(text)
    r.spoken.end()
  }

  /** All of the reply's audio is out: the bridge flushes it, and the whole reply goes into the history. */
  #finish(r: Reply): void {
    const spoken = r.spoken
    if (spoken.emittedMs > 0) this.emit('audioEnd', spoken.id)
    if (spoken.sentText) this.emit('transcript', { role: 'agent', text: spoken.sentText, final: true })
    this.#keepInHistory(r, spoken.sentText)
  }

  /** A failure mid-reply: what was spoken stays, the rest is dropped, the call goes on (or fails on a bad key). */
  #abandon(r: Reply, err: unknown): void {
    const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Reply failed', { cause: err })
    r.abort.abort()
    r.spoken.cut()
    if (r.held) {
      // An early reply nobody heard: the end of the turn answers the usual way (and meets the failure, if it lasts).
      this.#log.warn('early reply failed', { code: e.code })
      if (this.#early?.reply === r) this.#dropEarly('failed')
      return
    }
    if (r.spoken.emittedMs > 0) this.emit('audioEnd', r.spoken.id)
    this.#keepInHistory(r, r.spoken.heardText())
    if (this.#reply === r) this.#reply = undefined
    if (e.code !== 'call_ended') this.#failure(e)
  }

  /** A refused key or a missing model or voice will fail every turn: end the call with the reason. Else go on. */
  #failure(err: unknown): void {
    const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Cascade error', { cause: err })
    if (this.#closed) return
    if (!e.retryable && (e.code === 'upstream_failed' || e.code === 'not_found' || e.code === 'not_configured'))
      this.emit('failed', e)
    else this.#emitError(e)
  }

  /**
   * Barge-in (or operator stop): `interrupt` first so the bridge clears Twilio at once, then the model's stream
   * is aborted and the TTS socket closed. The history keeps what the caller heard.
   */
  #cut(r: Reply, reason: string, interrupt: boolean): void {
    if (interrupt) this.emit('interrupt')
    r.abort.abort()
    r.spoken.cut()
    const heard = r.spoken.heardText()
    this.#keepInHistory(r, heard)
    if (r.spoken.sentText) this.emit('transcript', { role: 'agent', text: heard, final: true, correction: true })
    this.emit('event', 'reply.cut', {
      replyId: r.spoken.id,
      reason,
      playedMs: r.spoken.playedMs,
      emittedMs: r.spoken.emittedMs,
      heardChars: heard.length,
      spokenChars: r.spoken.sentText.length
    })
    if (this.#reply === r) this.#reply = undefined
  }

  /** The characters sent to TTS are billed whether or not they were heard: once per reply, when it is over. */
  #reportTts(r: Reply): void {
    if (r.ttsReported) return
    r.ttsReported = true
    const chars = r.spoken.sentText.length
    if (chars > 0) this.emit('event', 'usage', { replyId: r.spoken.id, ttsChars: chars })
  }

  #keepInHistory(r: Reply, text: string): void {
    this.#reportTts(r)
    if (r.historyDone) return
    r.historyDone = true
    if (text && this.#chat) this.#chat.add('assistant', text)
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
  create(deps, call) {
    const s = deps.settings.openai
    return new CascadeAgent(deps, {
      requestId: call.callId,
      chat: async () =>
        new ChatConversation(await openAiFrom(deps), {
          model: s.llmModel,
          instructions: s.instructions,
          temperature: s.temperature
        }),
      elevenlabs: () => elevenLabsFrom(deps)
    })
  }
}

export { missingKeys as cascadeMissingKeys }
