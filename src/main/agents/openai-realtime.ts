/** The OpenAI Realtime engine: speech to speech over the GA Realtime WebSocket, μ-law passed straight through. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { CallbenchError } from '../../shared/errors.js'
import type { TurnMetrics } from '../../shared/calls.js'
import type { AudioFormat } from '../audio/format.js'
import type { Logger } from '../log.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { EngineDefinition } from './engines.js'
import { PlaybackTracker } from './openai-realtime-playback.js'
import {
  DEFAULT_OPENAI_BASE_URL,
  DEFAULT_REALTIME_MODEL,
  DEFAULT_TRANSCRIPTION_MODEL,
  END_CALL_TOOL_NAME,
  appendAudioJson,
  buildCancel,
  buildFunctionOutput,
  buildResponseCreate,
  buildSessionUpdate,
  buildSystemMessage,
  buildTruncate,
  isBenignError,
  parseServerEvent,
  realtimeUrl,
  type RealtimeClientEvent,
  type RealtimeServerEvent,
  type TurnDetectionSettings
} from './openai-realtime-protocol.js'

const ULAW_8K: AudioFormat = { encoding: 'pcmu', sampleRateHz: 8000 }
const CAPABILITIES: AgentCapabilities = { ownsTurnDetection: true, canSay: true, wantsPlayback: true }

const WRAP_UP_TEXT =
  'The call reaches its time limit in under a minute. Wrap up now: conclude briefly, say goodbye, then call end_call.'
const GOODBYE_TEXT = 'Say a short goodbye to the caller.'

type Event<T extends RealtimeServerEvent['type']> = Extract<RealtimeServerEvent, { type: T }>

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
  log?: Logger
  /** Monotonic ms clock for the heard-position estimate. Default `performance.now`. */
  playbackClock?: () => number
}

interface ResponseState {
  id: string
  cut: boolean
  hadAudio: boolean
  endCall: boolean
  goodbye: boolean
  audioItemId: string | undefined
}

/** A pending turn: what we know from end of turn until the reply's first audio. */
interface TurnStart {
  callerStoppedAtMs?: number
  endOfTurnAtMs: number
  endOfSpeechWaitMs?: number
}

type Phase = 'idle' | 'connecting' | 'configuring' | 'ready' | 'failed' | 'closed'

const noopLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => noopLog }

export class OpenAiRealtimeAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly input = ULAW_8K
  readonly output = ULAW_8K
  readonly capabilities = CAPABILITIES
  readonly #opts: Required<Omit<OpenAiRealtimeOptions, 'log' | 'apiKey' | 'playbackClock'>> & Pick<OpenAiRealtimeOptions, 'apiKey'>
  readonly #playback: PlaybackTracker
  #log: Logger
  #call: CallContext | undefined
  #ws: WebSocket | undefined
  #phase: Phase = 'idle'
  #started: Promise<void> | undefined
  #settle: { resolve: () => void; reject: (err: CallbenchError) => void } | undefined
  #closing: Promise<void> | undefined
  #pending: string[] = []
  #pendingHead = 0
  #droppedFrames = 0
  #audioOriginAtMs: number | undefined
  #attached = false
  #greeted = false
  #lastEventAtMs = 0
  #socketError: Error | undefined
  #responseDueSinceMs: number | undefined
  #active: ResponseState | undefined
  readonly #responses = new Map<string, ResponseState>()
  #turnStart: TurnStart | undefined
  #turns = 0
  #agentText = ''
  #agentTextItem: string | undefined
  #callerText = ''
  #callerTextItem: string | undefined
  #goodbyeDue = false
  #wrapUpDue = false
  #hungUp = false
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
      maxPendingAudioMs: opts.maxPendingAudioMs ?? 30_000
    }
    this.#log = opts.log ?? noopLog
    this.#playback = new PlaybackTracker(opts.playbackClock ?? (() => performance.now()))
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
    void this.#open()
    return this.#started
  }

  pushAudio(chunk: Uint8Array): void {
    if (this.#phase === 'failed' || this.#phase === 'closed' || chunk.byteLength === 0) return
    if (!this.#attached) {
      this.#attached = true
      // The service's audio clock (audio_start_ms/audio_end_ms) counts from the first byte appended.
      this.#audioOriginAtMs = this.#call?.clock() ?? 0
      this.#maybeGreet()
    }
    const json = appendAudioJson(chunk)
    if (this.#phase === 'configuring' || this.#phase === 'ready') {
      this.#ws!.send(json)
      return
    }
    this.#pending.push(json)
    const maxFrames = Math.ceil(this.#opts.maxPendingAudioMs / 20)
    if (this.#pending.length - this.#pendingHead > maxFrames) {
      this.#pendingHead++
      this.#droppedFrames++
      if (this.#pendingHead >= 512) {
        this.#pending.splice(0, this.#pendingHead)
        this.#pendingHead = 0
      }
    }
  }

  played(ms: number, replyId?: string): void {
    if (replyId !== undefined) this.#playback.played(replyId, ms)
  }

  async say(text: string): Promise<void> {
    if (this.#phase !== 'ready') throw new CallbenchError('conflict', 'The OpenAI Realtime session is not ready')
    this.#cut(false)
    this.#requestResponse(`Say exactly this to the caller, and nothing else: ${text}`)
  }

  cancel(): void {
    if (this.#phase === 'ready') this.#cut(false)
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing
    const wasFailed = this.#phase === 'failed'
    this.#phase = 'closed'
    this.#stopTimers()
    this.#settle?.reject(new CallbenchError('call_ended', 'The call ended before the OpenAI Realtime session was ready'))
    this.#settle = undefined
    if (this.#droppedFrames > 0) this.#log.warn('caller audio dropped before the session opened', { frames: this.#droppedFrames })
    const ws = this.#ws
    this.#closing =
      !ws || ws.readyState === WebSocket.CLOSED || wasFailed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            ws.once('close', () => resolve())
            if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
            else ws.close(1000)
            setTimeout(() => ws.terminate(), 1_000).unref()
          })
    return this.#closing
  }

  async #open(): Promise<void> {
    this.#phase = 'connecting'
    this.#connectTimer = setTimeout(
      () => this.#fail(new CallbenchError('upstream_timeout', 'OpenAI Realtime did not open the session in time', { retryable: true })),
      this.#opts.connectTimeoutMs
    )
    this.#connectTimer.unref()
    let apiKey: string | undefined
    try {
      apiKey = typeof this.#opts.apiKey === 'string' ? this.#opts.apiKey : await this.#opts.apiKey()
    } catch (err) {
      this.#fail(new CallbenchError('not_configured', 'Could not read OPENAI_API_KEY', { cause: err }))
      return
    }
    if (this.#phase !== 'connecting') return
    if (!apiKey) {
      this.#fail(new CallbenchError('not_configured', 'OPENAI_API_KEY is not set'))
      return
    }
    let url: string
    try {
      url = realtimeUrl(this.#opts.baseUrl, this.#opts.model)
    } catch (err) {
      this.#fail(new CallbenchError('not_configured', 'OPENAI_BASE_URL is not a valid URL', { cause: err }))
      return
    }
    const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}` }
    // Request-tracing metadata the SDK also passes through; it lets support (and our fake) find the call.
    if (this.#call) headers['X-Client-Request-Id'] = this.#call.callId
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: this.#opts.connectTimeoutMs })
    this.#ws = ws
    ws.on('open', this.#onOpen)
    ws.on('message', this.#onMessage)
    ws.on('error', (err) => (this.#socketError = err))
    ws.on('close', this.#onClose)
  }

  readonly #onOpen = (): void => {
    if (this.#phase !== 'connecting') return
    this.#phase = 'configuring'
    this.#lastEventAtMs = performance.now()
    const o = this.#opts
    this.#send(
      buildSessionUpdate({
        model: o.model,
        voice: o.voice,
        instructions: o.instructions,
        turnDetection: o.turnDetection,
        transcriptionModel: o.transcriptionModel
      })
    )
    // The socket is ordered, so audio sent after session.update is read in the format it sets.
    const ws = this.#ws!
    for (let i = this.#pendingHead; i < this.#pending.length; i++) ws.send(this.#pending[i]!)
    this.#pending = []
    this.#pendingHead = 0
    this.#startSessionTimers()
  }

  readonly #onClose = (code: number, reason: Buffer): void => {
    if (this.#phase === 'closed' || this.#phase === 'failed') return
    const opened = this.#phase !== 'connecting'
    const detail = { code, reason: reason.toString('utf8').slice(0, 200) }
    this.#timeline('upstream.closed', detail)
    const err = opened
      ? new CallbenchError('upstream_closed', `OpenAI Realtime closed the session (code ${code})`, { retryable: true, cause: detail })
      : new CallbenchError('upstream_failed', `Could not connect to OpenAI Realtime${this.#socketError ? `: ${this.#socketError.message}` : ''}`, {
          retryable: true,
          cause: this.#socketError ?? detail
        })
    this.#fail(err)
  }

  readonly #onMessage = (data: WebSocket.RawData): void => {
    this.#lastEventAtMs = performance.now()
    const ev = parseServerEvent(data.toString())
    if (!ev) {
      this.#emitError(new CallbenchError('invalid_message', 'OpenAI Realtime sent a message that is not an event'))
      return
    }
    try {
      this.#dispatch(ev)
    } catch (err) {
      this.#log.error('realtime event handler failed', { type: ev.type, err })
      this.#emitError(new CallbenchError('internal', `Handling ${ev.type} failed`, { cause: err }))
    }
  }

  #dispatch(ev: RealtimeServerEvent): void {
    switch (ev.type) {
      case 'session.updated':
        return this.#onSessionUpdated()
      case 'input_audio_buffer.speech_started':
        return this.#onSpeechStarted(ev)
      case 'input_audio_buffer.speech_stopped':
        return this.#onSpeechStopped(ev)
      case 'conversation.item.input_audio_transcription.delta':
        return this.#onCallerTranscript(ev.item_id, ev.delta ?? '', false)
      case 'conversation.item.input_audio_transcription.completed':
        return this.#onCallerTranscript(ev.item_id, ev.transcript, true)
      case 'conversation.item.input_audio_transcription.failed':
        return this.#timeline('transcription.failed', { itemId: ev.item_id, code: ev.error.code })
      case 'response.created':
        return this.#onResponseCreated(ev)
      case 'response.output_audio.delta':
        return this.#onAudioDelta(ev)
      case 'response.output_audio.done':
        return this.#onAudioDone(ev)
      case 'response.output_audio_transcript.delta':
        return this.#onAgentTranscript(ev.response_id, ev.item_id, ev.delta, false)
      case 'response.output_audio_transcript.done':
        return this.#onAgentTranscript(ev.response_id, ev.item_id, ev.transcript, true)
      case 'response.function_call_arguments.done':
        return this.#onFunctionCall(ev)
      case 'response.done':
        return this.#onResponseDone(ev)
      case 'conversation.item.truncated':
        return this.#timeline('truncated', { itemId: ev.item_id, audioEndMs: ev.audio_end_ms })
      case 'error':
        return this.#onServerError(ev)
      default:
        return
    }
  }

  #onSessionUpdated(): void {
    if (this.#phase !== 'configuring') return
    this.#phase = 'ready'
    clearTimeout(this.#connectTimer)
    this.#timeline('session.ready', { model: this.#opts.model })
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
    this.#requestResponse(g ? `Open the call by saying: ${g}` : undefined)
  }

  #onSpeechStarted(ev: Event<'input_audio_buffer.speech_started'>): void {
    this.#timeline('speech_started', { audioStartMs: ev.audio_start_ms })
    this.#cut(true)
  }

  /**
   * Stops what the caller is hearing: `interrupt` first (the bridge clears Twilio at once), then the reply is
   * truncated at the heard position and the response cancelled if it is still generating.
   */
  #cut(bargeIn: boolean): void {
    const playing = this.#playback.playing()
    const heard = playing.map((r) => this.#playback.heardMs(r))
    if (bargeIn && playing.length > 0) this.emit('interrupt')
    const active = this.#active
    if (active && !active.cut) {
      active.cut = true
      this.#send(buildCancel(active.id))
      this.#timeline('cancel', { responseId: active.id, reason: bargeIn ? 'barge_in' : 'operator' })
    }
    for (let i = 0; i < playing.length; i++) {
      const r = playing[i]!
      this.#playback.cut(r)
      const resp = this.#responses.get(r.responseId)
      if (resp) resp.cut = true
      this.#send(buildTruncate(r.id, heard[i]!))
      this.#timeline('truncate', { itemId: r.id, audioEndMs: heard[i]!, emittedMs: r.emittedMs })
    }
  }

  #onSpeechStopped(ev: Event<'input_audio_buffer.speech_stopped'>): void {
    const now = this.#clock()
    const td = this.#opts.turnDetection
    // audio_end_ms includes the server VAD's silence window (SDK docs), so the caller stopped that much earlier.
    const waitMs = td.type === 'server_vad' ? td.silenceMs : undefined
    const stoppedAtMs =
      this.#audioOriginAtMs === undefined ? undefined : this.#audioOriginAtMs + ev.audio_end_ms - (waitMs ?? 0)
    this.#turnStart = {
      endOfTurnAtMs: now,
      ...(stoppedAtMs !== undefined ? { callerStoppedAtMs: stoppedAtMs } : {}),
      ...(waitMs !== undefined ? { endOfSpeechWaitMs: waitMs } : {})
    }
    this.#timeline('speech_stopped', { audioEndMs: ev.audio_end_ms })
    this.#responseDue()
  }

  #onResponseCreated(ev: Event<'response.created'>): void {
    const id = ev.response.id
    if (!id) return
    const state: ResponseState = { id, cut: false, hadAudio: false, endCall: false, goodbye: this.#goodbyeDue, audioItemId: undefined }
    this.#goodbyeDue = false
    this.#responses.set(id, state)
    this.#active = state
    this.#responseDueSinceMs = undefined
    this.#timeline('response.created', { responseId: id })
    this.#watchStall()
  }

  #onAudioDelta(ev: Event<'response.output_audio.delta'>): void {
    const resp = this.#responses.get(ev.response_id)
    // Deltas of a response we cut are still in flight: the caller must not hear them.
    if (!resp || resp.cut || typeof ev.delta !== 'string') return
    const audio = Buffer.from(ev.delta, 'base64')
    if (audio.byteLength === 0) return
    if (!resp.hadAudio) {
      resp.hadAudio = true
      resp.audioItemId = ev.item_id
      this.#emitTurn()
    }
    this.#playback.emitted(ev.item_id, resp.id, audio.byteLength)
    this.emit('audio', audio, ev.item_id)
  }

  #emitTurn(): void {
    const now = this.#clock()
    const start = this.#turnStart
    this.#turnStart = undefined
    const m: Partial<TurnMetrics> = { turn: ++this.#turns }
    if (start) {
      Object.assign(m, start)
      // From end of turn to the engine's first audio: the model's share, so the bridge's is what remains.
      m.llmFirstTokenMs = now - start.endOfTurnAtMs
    }
    this.emit('turn', m)
  }

  #onAudioDone(ev: Event<'response.output_audio.done'>): void {
    const resp = this.#responses.get(ev.response_id)
    if (resp && !resp.cut && resp.hadAudio) this.emit('audioEnd', ev.item_id)
  }

  #onCallerTranscript(itemId: string, text: string, final: boolean): void {
    if (this.#callerTextItem !== itemId) {
      this.#callerTextItem = itemId
      this.#callerText = ''
    }
    this.#callerText = final ? text : this.#callerText + text
    if (this.#callerText || final) this.emit('transcript', { role: 'caller', text: this.#callerText, final })
    if (final) this.#callerTextItem = undefined
  }

  #onAgentTranscript(responseId: string, itemId: string, text: string, final: boolean): void {
    const resp = this.#responses.get(responseId)
    if (resp?.cut && !final) return
    if (this.#agentTextItem !== itemId) {
      this.#agentTextItem = itemId
      this.#agentText = ''
    }
    this.#agentText = final ? text : this.#agentText + text
    this.emit('transcript', { role: 'agent', text: this.#agentText, final })
    if (final) this.#agentTextItem = undefined
  }

  #onFunctionCall(ev: Event<'response.function_call_arguments.done'>): void {
    if (ev.name !== END_CALL_TOOL_NAME) {
      this.#send(buildFunctionOutput(ev.call_id, JSON.stringify({ error: `Unknown tool ${ev.name}` })))
      return
    }
    let reason: string | undefined
    try {
      const args = JSON.parse(ev.arguments || '{}') as { reason?: unknown }
      if (typeof args.reason === 'string') reason = args.reason.slice(0, 200)
    } catch {
      // Arguments are advisory; the call ends either way.
    }
    this.#send(buildFunctionOutput(ev.call_id, JSON.stringify({ ok: true })))
    this.#timeline('end_call', reason ? { reason } : undefined)
    const resp = this.#responses.get(ev.response_id)
    if (resp) resp.endCall = true
  }

  #onResponseDone(ev: Event<'response.done'>): void {
    const r = ev.response
    const id = r.id ?? ''
    const resp = this.#responses.get(id)
    this.#timeline('response.done', {
      responseId: id,
      status: r.status,
      ...(r.status_details?.reason ? { reason: r.status_details.reason } : {})
    })
    if (this.#active?.id === id) this.#active = undefined
    this.#responseDueSinceMs = undefined
    if (r.status === 'failed') {
      const e = r.status_details?.error
      this.#log.warn('realtime response failed', { type: e?.type, code: e?.code })
      this.#emitError(new CallbenchError('upstream_failed', e?.message || 'The OpenAI Realtime response failed'))
    }
    if (this.#agentTextItem !== undefined && this.#agentTextItem === resp?.audioItemId) {
      this.emit('transcript', { role: 'agent', text: this.#agentText, final: true })
      this.#agentTextItem = undefined
    }
    if (resp?.endCall) {
      // The goodbye normally comes in the same response as the call; if it did not, ask for one first.
      if (resp.hadAudio) this.#hangup('agent_end_call')
      else {
        this.#goodbyeDue = true
        this.#requestResponse(GOODBYE_TEXT, 'none')
      }
    } else if (resp?.goodbye) {
      this.#hangup('agent_end_call')
    } else if (this.#wrapUpDue) {
      this.#wrapUpDue = false
      this.#requestResponse()
    }
    this.#pruneResponses()
  }

  #onServerError(ev: Event<'error'>): void {
    const e = ev.error
    if (isBenignError(e)) {
      this.#timeline('cancel.ignored', { code: e.code ?? undefined })
      return
    }
    this.#timeline('upstream.error', { type: e.type, code: e.code ?? undefined, message: e.message })
    this.#log.warn('realtime error event', { type: e.type, code: e.code })
    this.#emitError(new CallbenchError('upstream_failed', `OpenAI Realtime: ${e.message}`, { cause: e }))
  }

  #requestResponse(instructions?: string, toolChoice?: 'none'): void {
    this.#turnStart ??= { endOfTurnAtMs: this.#clock() }
    this.#send(buildResponseCreate({ ...(instructions !== undefined ? { instructions } : {}), ...(toolChoice ? { toolChoice } : {}) }))
    this.#responseDue()
  }

  #responseDue(): void {
    this.#responseDueSinceMs ??= performance.now()
    this.#watchStall()
  }

  /** One timer while a reply is due, re-armed from the last event; no per-event timer work. */
  #watchStall(): void {
    if (this.#stallTimer || (this.#responseDueSinceMs === undefined && !this.#active)) return
    const check = (): void => {
      this.#stallTimer = undefined
      if (this.#phase !== 'ready' || (this.#responseDueSinceMs === undefined && !this.#active)) return
      const idleMs = performance.now() - Math.max(this.#lastEventAtMs, this.#responseDueSinceMs ?? 0)
      if (idleMs >= this.#opts.stallTimeoutMs) {
        this.#fail(new CallbenchError('upstream_timeout', 'OpenAI Realtime stopped responding', { retryable: true }))
        return
      }
      this.#stallTimer = setTimeout(check, this.#opts.stallTimeoutMs - idleMs)
      this.#stallTimer.unref()
    }
    this.#stallTimer = setTimeout(check, this.#opts.stallTimeoutMs)
    this.#stallTimer.unref()
  }

  #startSessionTimers(): void {
    const { maxSessionMs, wrapUpLeadMs } = this.#opts
    this.#wrapUpTimer = setTimeout(() => this.#wrapUp(), Math.max(0, maxSessionMs - wrapUpLeadMs))
    this.#limitTimer = setTimeout(() => {
      this.#timeline('session.time_limit', { maxSessionMs })
      this.#hangup('session_time_limit')
    }, maxSessionMs)
    this.#wrapUpTimer.unref()
    this.#limitTimer.unref()
  }

  #wrapUp(): void {
    if (this.#phase !== 'ready' || this.#hungUp) return
    this.#timeline('session.wrap_up')
    this.#send(buildSystemMessage(WRAP_UP_TEXT))
    // One response at a time: if the model is speaking, ask again when it is done.
    if (this.#active) this.#wrapUpDue = true
    else this.#requestResponse()
  }

  #hangup(reason: string): void {
    if (this.#hungUp) return
    this.#hungUp = true
    this.emit('hangup', reason)
  }

  #fail(err: CallbenchError): void {
    if (this.#phase === 'failed' || this.#phase === 'closed') return
    const settle = this.#settle
    this.#settle = undefined
    this.#phase = 'failed'
    this.#stopTimers()
    this.#ws?.terminate()
    this.#log.warn('realtime session failed', { code: err.code })
    // Before the session was ready the failure belongs to whoever awaits start().
    if (settle) settle.reject(err)
    else this.emit('failed', err)
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

  #send(ev: RealtimeClientEvent): void {
    const ws = this.#ws
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(ev))
  }

  #pruneResponses(): void {
    if (this.#responses.size <= 8) return
    for (const id of this.#responses.keys()) {
      if (this.#responses.size <= 4) break
      if (this.#active?.id !== id) this.#responses.delete(id)
    }
  }

  #clock(): number {
    return this.#call?.clock() ?? 0
  }

  #timeline(name: string, data?: Record<string, unknown>): void {
    this.emit('event', name, data)
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
      log: deps.log.child({ callId: call.callId, engine: 'openai-realtime' })
    })
  }
}
