/** The OpenAI Realtime engine: speech to speech over the GA Realtime WebSocket, μ-law passed straight through. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { CallbenchError } from '../../shared/errors.js'
import type { AudioFormat } from '../audio/format.js'
import type { Logger } from '../log.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { EngineDefinition } from './engines.js'
import { RealtimeConnection } from './openai-realtime-connection.js'
import { RealtimeConversation, type TextSpeaker } from './openai-realtime-conversation.js'
import {
  DEFAULT_OPENAI_BASE_URL,
  DEFAULT_REALTIME_MODEL,
  DEFAULT_TRANSCRIPTION_MODEL,
  buildSessionUpdate,
  buildSystemMessage,
  type RealtimeServerEvent,
  type TurnDetectionSettings
} from './openai-realtime-protocol.js'

const ULAW_8K: AudioFormat = { encoding: 'pcmu', sampleRateHz: 8000 }

/**
 * How long after the caller's last sound the service may still end the turn, ms, with a margin: until then caller
 * audio goes in the normal small pieces, after it in bigger ones (RealtimeConnection's `quietAfterMs`). Server VAD
 * ends the turn `silenceMs` after the speech it heard; our "sound" threshold (about -50 dBFS) is more sensitive
 * than its speech detection, so the 200 ms margin is on top of a last sound that is never earlier than its speech
 * end. Semantic VAD waits at most about 8 s (eagerness low), 4 s (medium, auto) or 2 s (high) for the caller to go on.
 */
export function turnDecisionWindowMs(td: TurnDetectionSettings): number {
  if (td.type === 'server_vad') return td.silenceMs + 200
  return { low: 8000, medium: 4000, auto: 4000, high: 2000 }[td.eagerness] + 500
}
const CAPABILITIES: AgentCapabilities = { ownsTurnDetection: true, canSay: true, wantsPlayback: true }

/** Options of the Realtime agent; everything but the key has a default. */
export interface OpenAiRealtimeOptions {
  /** The API key, or a function that reads it when the session opens. */
  apiKey: string | (() => Promise<string | undefined>)
  /** REST base URL, `https://api.openai.com/v1` by default; `http://` maps to `ws://` (local fakes). */
  baseUrl?: string
  /** Default `gpt-realtime`. */
  model?: string
  /** Default `marin`. */
  voice?: string
  instructions?: string
  /** What the agent says first on outbound calls; empty = the model's own opening. */
  greeting?: string
  /** Default server VAD, threshold 0.5, prefix 300 ms, silence 500 ms. */
  turnDetection?: TurnDetectionSettings
  /** Caller transcription model. Default `gpt-4o-mini-transcribe`. */
  transcriptionModel?: string
  /** Longest session before we hang up ourselves; the service allows about 60 min. Default 58 min. */
  maxSessionMs?: number
  /** How long before `maxSessionMs` the model is told to wrap up. Default 45 s. */
  wrapUpLeadMs?: number
  /** Silence from the service while a reply is due before the call fails. Default 8 s. */
  stallTimeoutMs?: number
  /** Socket open + `session.updated`. Default 10 s. */
  connectTimeoutMs?: number
  /** Caller audio kept while the session opens; older frames are dropped past this. Default 30 s. */
  maxPendingAudioMs?: number
  /** Caller audio per `input_audio_buffer.append`, ms. Default 40 (two Twilio frames); 20 sends every frame. */
  inputChunkMs?: number
  log?: Logger
  /** Monotonic ms clock for the heard-position estimate. Default `performance.now`. */
  playbackClock?: () => number
  /** Text output (the hybrid engine): the session asks for text only and this speaks it. */
  speaker?: TextSpeaker
}

type Phase = 'idle' | 'connecting' | 'configuring' | 'ready' | 'failed' | 'closed'
type ResolvedOptions = Required<Omit<OpenAiRealtimeOptions, 'log' | 'apiKey' | 'playbackClock' | 'speaker'>> &
  Pick<OpenAiRealtimeOptions, 'apiKey' | 'speaker'>

const noopLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => noopLog }

export class OpenAiRealtimeAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly input = ULAW_8K
  readonly output = ULAW_8K
  readonly capabilities = CAPABILITIES
  readonly #opts: ResolvedOptions
  readonly #log: Logger
  readonly #conv: RealtimeConversation
  #call: CallContext | undefined
  #conn: RealtimeConnection | undefined
  #phase: Phase = 'idle'
  #started: Promise<void> | undefined
  #settle: { resolve: () => void; reject: (err: CallbenchError) => void } | undefined
  #closing: Promise<void> | undefined
  /** Caller audio pushed before start(); handed to the connection when it exists. */
  #early: Uint8Array[] = []
  #audioOriginAtMs: number | undefined
  #attached = false
  #greeted = false
  /** A failure no one was listening for (pre-warmed, not yet claimed): delivered when the bridge attaches. */
  #undelivered: CallbenchError | undefined
  #stallTimer: NodeJS.Timeout | undefined
  #connectTimer: NodeJS.Timeout | undefined
  #wrapUpTimer: NodeJS.Timeout | undefined
  #limitTimer: NodeJS.Timeout | undefined

  constructor(opts: OpenAiRealtimeOptions) {
    super()
    this.#opts = {
      apiKey: opts.apiKey,
      baseUrl: opts.baseUrl || DEFAULT_OPENAI_BASE_URL,
      model: opts.model || DEFAULT_REALTIME_MODEL,
      voice: opts.voice || 'marin',
      instructions: opts.instructions ?? '',
      greeting: opts.greeting ?? '',
      turnDetection: opts.turnDetection ?? { type: 'server_vad', threshold: 0.5, prefixPaddingMs: 300, silenceMs: 500 },
      transcriptionModel: opts.transcriptionModel || DEFAULT_TRANSCRIPTION_MODEL,
      maxSessionMs: opts.maxSessionMs ?? 58 * 60_000,
      wrapUpLeadMs: opts.wrapUpLeadMs ?? 45_000,
      stallTimeoutMs: opts.stallTimeoutMs ?? 8_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      maxPendingAudioMs: opts.maxPendingAudioMs ?? 30_000,
      inputChunkMs: opts.inputChunkMs ?? 40,
      ...(opts.speaker ? { speaker: opts.speaker } : {})
    }
    const log = (this.#log = opts.log ?? noopLog)
    this.#conv = new RealtimeConversation(
      {
        emit: this.emit.bind(this),
        emitError: (err) => this.#emitError(err),
        send: (ev) => this.#conn?.send(ev),
        clock: () => this.#call?.clock() ?? 0,
        audioOriginAtMs: () => this.#audioOriginAtMs,
        replyDue: () => {
          // A barge-in may come now: held caller speech goes at once, and no more is held.
          this.#conn?.holdSpeech(false)
          this.#watchStall()
        },
        log,
        ...(opts.speaker ? { speaker: opts.speaker } : {})
      },
      this.#opts.turnDetection,
      opts.playbackClock ?? (() => performance.now())
    )
  }

  /**
   * Opens and configures the session; resolves on `session.updated`. Idempotent: a second call (the stream
   * claiming a pre-warmed session) gets the same promise and only updates the call context.
   */
  start(call: CallContext): Promise<void> {
    this.#call = call
    if (this.#started) return this.#started
    this.#started = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }))
    // The caller of start() sees the rejection; this keeps an unclaimed pre-warm from crashing the process.
    this.#started.catch(() => {})
    this.#open()
    return this.#started
  }

  pushAudio(chunk: Uint8Array): void {
    if (this.#phase === 'failed' || this.#phase === 'closed') {
      this.#deliverFailure()
      return
    }
    if (chunk.byteLength === 0) return
    if (!this.#attached) {
      this.#attached = true
      // The service's audio clock (audio_start_ms/audio_end_ms) counts from the first byte appended.
      this.#audioOriginAtMs = this.#call?.clock() ?? 0
      this.#maybeGreet()
    }
    if (this.#conn) {
      // Speech goes in bigger pieces only while no barge-in can happen; its end still goes at once (ChunkGatherer).
      this.#conn.holdSpeech(!this.#conv.agentAudioInPlay)
      this.#conn.appendAudio(chunk)
    } else this.#early.push(chunk.slice())
  }

  played(ms: number, replyId?: string): void {
    if (replyId !== undefined) this.#conv.played(replyId, ms)
  }

  cleared(roundTripMs: number): void {
    this.#conv.cleared(roundTripMs)
  }

  async say(text: string): Promise<void> {
    if (this.#phase !== 'ready') throw new CallbenchError('conflict', 'The OpenAI Realtime session is not ready')
    this.#conv.cut(false)
    this.#conv.requestResponse(`Say exactly this to the caller, and nothing else: ${text}`)
  }

  cancel(): void {
    if (this.#phase === 'ready') this.#conv.cut(false)
  }

  /** Background for the model from the console: a system message, no reply of its own. */
  sendContext(text: string): void {
    this.#conn?.send(buildSystemMessage(text))
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing
    const wasFailed = this.#phase === 'failed'
    this.#phase = 'closed'
    this.#stopTimers()
    this.#settle?.reject(
      new CallbenchError('call_ended', 'The call ended before the OpenAI Realtime session was ready')
    )
    this.#settle = undefined
    const dropped = this.#conn?.droppedAudioMs ?? 0
    if (dropped > 0) this.#log.warn('caller audio dropped before the session opened', { ms: dropped })
    this.#closing = !this.#conn || wasFailed ? Promise.resolve() : this.#conn.close()
    return this.#closing
  }

  #open(): void {
    this.#phase = 'connecting'
    const o = this.#opts
    this.#connectTimer = setTimeout(
      () =>
        this.#fail(
          new CallbenchError('upstream_timeout', 'OpenAI Realtime did not open the session in time', {
            retryable: true
          })
        ),
      o.connectTimeoutMs
    )
    this.#connectTimer.unref()
    const conn = new RealtimeConnection(
      {
        apiKey: o.apiKey,
        baseUrl: o.baseUrl,
        model: o.model,
        ...(this.#call ? { requestId: this.#call.callId } : {}),
        handshakeTimeoutMs: o.connectTimeoutMs,
        maxPendingAudioMs: o.maxPendingAudioMs,
        inputChunkMs: o.inputChunkMs,
        quietAfterMs: turnDecisionWindowMs(o.turnDetection)
      },
      buildSessionUpdate({
        model: o.model,
        voice: o.voice,
        instructions: o.instructions,
        turnDetection: o.turnDetection,
        transcriptionModel: o.transcriptionModel,
        ...(o.speaker ? { outputModalities: 'text' as const } : {})
      })
    )
    this.#conn = conn
    for (const chunk of this.#early) conn.appendAudio(chunk)
    this.#early = []
    conn.on('open', () => {
      if (this.#phase !== 'connecting') return
      this.#phase = 'configuring'
      this.#startSessionTimers()
    })
    conn.on('event', (ev) => this.#onEvent(ev))
    conn.on('invalid', () =>
      this.#emitError(new CallbenchError('invalid_message', 'OpenAI Realtime sent a message that is not an event'))
    )
    conn.on('down', (err) => {
      if (err.code === 'upstream_closed') this.emit('event', 'upstream.closed', err.cause as Record<string, unknown>)
      this.#fail(err)
    })
    void conn.connect()
  }

  #onEvent(ev: RealtimeServerEvent): void {
    try {
      if (ev.type === 'session.updated') this.#onSessionUpdated()
      else this.#conv.handle(ev)
    } catch (err) {
      this.#log.error('realtime event handler failed', { type: ev.type, err })
      this.#emitError(new CallbenchError('internal', `Handling ${ev.type} failed`, { cause: err }))
    }
  }

  #onSessionUpdated(): void {
    if (this.#phase !== 'configuring') return
    this.#phase = 'ready'
    clearTimeout(this.#connectTimer)
    this.emit('event', 'session.ready', { model: this.#opts.model })
    this.#log.info('realtime session ready', { model: this.#opts.model })
    this.#settle?.resolve()
    this.#settle = undefined
    this.#maybeGreet()
  }

  /** Outbound calls: the agent speaks first, once the session is ready and the stream is there to hear it. */
  #maybeGreet(): void {
    if (this.#greeted || this.#phase !== 'ready' || !this.#attached || this.#call?.direction !== 'outbound') return
    this.#greeted = true
    const g = this.#opts.greeting
    this.#conv.requestResponse(g ? `Open the call by saying: ${g}` : undefined)
  }

  /** One timer while a reply is owed, re-armed from the last event received: no timer work per event. */
  #watchStall(): void {
    if (this.#stallTimer || !this.#conv.awaitingReply) return
    const timeoutMs = this.#opts.stallTimeoutMs
    const check = (): void => {
      this.#stallTimer = undefined
      if (this.#phase !== 'ready' || !this.#conv.awaitingReply) return
      const idleMs = performance.now() - Math.max(this.#conn?.lastEventAtMs ?? 0, this.#conv.dueSinceMs ?? 0)
      if (idleMs >= timeoutMs) {
        this.#fail(new CallbenchError('upstream_timeout', 'OpenAI Realtime stopped responding', { retryable: true }))
        return
      }
      this.#stallTimer = setTimeout(check, timeoutMs - idleMs).unref()
    }
    this.#stallTimer = setTimeout(check, timeoutMs).unref()
  }

  #startSessionTimers(): void {
    const { maxSessionMs, wrapUpLeadMs } = this.#opts
    this.#wrapUpTimer = setTimeout(
      () => {
        if (this.#phase === 'ready') this.#conv.wrapUp()
      },
      Math.max(0, maxSessionMs - wrapUpLeadMs)
    ).unref()
    this.#limitTimer = setTimeout(() => {
      this.emit('event', 'session.time_limit', { maxSessionMs })
      this.#conv.hangup('session_time_limit')
    }, maxSessionMs).unref()
  }

  #fail(err: CallbenchError): void {
    if (this.#phase === 'failed' || this.#phase === 'closed') return
    const settle = this.#settle
    this.#settle = undefined
    this.#phase = 'failed'
    this.#stopTimers()
    this.#conn?.terminate()
    this.#log.warn('realtime session failed', { code: err.code })
    // Before the session was ready the failure belongs to whoever awaits start().
    if (settle) settle.reject(err)
    else if (this.listenerCount('failed') > 0) this.emit('failed', err)
    else this.#undelivered = err
  }

  #deliverFailure(): void {
    const err = this.#undelivered
    if (!err || this.listenerCount('failed') === 0) return
    this.#undelivered = undefined
    this.emit('failed', err)
  }

  #stopTimers(): void {
    clearTimeout(this.#connectTimer)
    clearTimeout(this.#stallTimer)
    clearTimeout(this.#wrapUpTimer)
    clearTimeout(this.#limitTimer)
    this.#stallTimer = undefined
  }

  /** `error` with no listener would throw (EventEmitter rule), e.g. on a pre-warmed session not yet claimed. */
  #emitError(err: CallbenchError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else this.#log.warn('realtime error before the call attached', { code: err.code })
  }
}

/** The engine entry for `registerEngine`: settings (profile applied) → one agent per call. */
export const openAiRealtimeEngine: EngineDefinition = {
  mode: 'openai-realtime',
  async unavailable({ secrets }) {
    return (await secrets.get('OPENAI_API_KEY')) ? undefined : 'OPENAI_API_KEY is not set'
  },
  create(deps, call) {
    const s = deps.settings.openai
    return new OpenAiRealtimeAgent({
      apiKey: () => deps.secrets.get('OPENAI_API_KEY'),
      baseUrl: deps.config('OPENAI_BASE_URL') || DEFAULT_OPENAI_BASE_URL,
      model: s.realtimeModel,
      voice: s.voice,
      instructions: s.instructions,
      greeting: s.greeting,
      turnDetection: s.turnDetection,
      maxSessionMs: s.maxSessionMinutes * 60_000,
      stallTimeoutMs: s.stallTimeoutMs,
      log: deps.log.child({ callId: call.callId, engine: 'openai-realtime' })
    })
  }
}
