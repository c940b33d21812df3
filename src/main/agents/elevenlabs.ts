/** The ElevenLabs Agent engine: one Agents WebSocket per call, μ-law straight through when the agent speaks it. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { CallbenchError } from '../../shared/errors.js'
import type { Settings } from '../../shared/settings.js'
import { TWILIO_FORMAT, type AudioFormat } from '../audio/format.js'
import { decodeUlaw, encodeUlaw } from '../audio/g711.js'
import { Resampler, type ResamplerRateHz } from '../audio/resampler.js'
import type { Logger } from '../log.js'
import { elevenLabsError, elevenLabsFrom, hasElevenLabsKey, type ElevenLabsConnection } from '../speech/elevenlabs-client.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { AgentDeps, EngineDefinition } from './engines.js'
import {
  END_CALL_TOOL,
  ULAW_8000,
  audioFormatOf,
  parseServerMessage,
  type AgentResponseCorrectionEvent,
  type AgentResponseEvent,
  type AudioEvent,
  type ClientMessage,
  type ClientToolCallEvent,
  type ConversationConfigOverride,
  type ConversationInitiationClientData,
  type ConversationInitiationMetadataEvent,
  type ErrorEvent,
  type InterruptionEvent,
  type PingEvent,
  type TentativeUserTranscriptEvent,
  type UserTranscriptEvent
} from './elevenlabs-protocol.js'

export interface ElevenLabsAgentOptions {
  /** Signed URL, socket open and `conversation_initiation_metadata`, all told, ms. Default 10000. */
  connectTimeoutMs?: number
  /** WebSocket-level pings that prove the upstream alive, every this many ms. Default 5000. */
  keepaliveMs?: number
  /** Nothing (no frame, no pong) from upstream for this long fails the call, ms. Default 15000. */
  stallTimeoutMs?: number
  /** Agent audio that stops for this long ends the reply (the bridge flushes its partial frame), ms. Default 400. */
  replyIdleMs?: number
  /** Caller audio kept while the conversation is being set up, ms. Default 2000. */
  maxPendingAudioMs?: number
}

/** Validated voice ids, so a pre-warm does not look the same voice up call after call. */
const VOICE_OK_TTL_MS = 10 * 60_000
const validVoices = new Map<string, number>()
/** Agent ids ElevenLabs said do not exist, so `unavailable()` can say so before the next call. */
const unknownAgents = new Set<string>()

type State = 'idle' | 'connecting' | 'ready' | 'closed' | 'failed'

/** The agent id a call uses: the profile's (settings), else ELEVENLABS_AGENT_ID. */
export function agentIdFor(settings: Settings, config: (name: string) => string | undefined): string | undefined {
  return settings.elevenlabs.agentId || config('ELEVENLABS_AGENT_ID') || undefined
}

export class ElevenLabsAgent extends EventEmitter<AgentEvents> implements Agent {
  // Conversion to and from the agent's own formats happens here: they are only known once the conversation
  // has started, after the session has been built around this agent.
  readonly input: AudioFormat = TWILIO_FORMAT
  readonly output: AudioFormat = TWILIO_FORMAT
  readonly capabilities: AgentCapabilities = { ownsTurnDetection: true, canSay: false, wantsPlayback: false }
  readonly #deps: AgentDeps
  readonly #log: Logger
  readonly #opts: Required<ElevenLabsAgentOptions>
  #state: State = 'idle'
  #starting: Promise<void> | undefined
  #ws: WebSocket | undefined
  #call: CallContext | undefined
  #conversationId = ''
  #abort = new AbortController()
  // Until the session listens (a pre-warmed engine), what would be emitted waits here.
  #attached = false
  #queued: Array<() => void> = []
  #pendingAudio: Uint8Array[] = []
  #pendingAudioBytes = 0
  #pendingControl: ClientMessage[] = []
  // Formats: undefined resampler/encoder = pass-through.
  #inPcm = false
  #outPcm = false
  #up: Resampler | undefined
  #down: Resampler | undefined
  #inScratch = new Int16Array(160)
  #inView = this.#inScratch
  #outScratch = new Int16Array(0)
  #outCarry = -1
  // Replies and barge-in.
  #lastInterruptId = -1
  #replySeq = 0
  #replyId: string | undefined
  #cancelled = false
  #idleTimer: NodeJS.Timeout | undefined
  #turnSeq = 0
  #endOfTurnAtMs: number | undefined
  // Liveness.
  #keepalive: NodeJS.Timeout | undefined
  #lastHeardMs = 0
  readonly stats = { audioIn: 0, audioOut: 0, audioDropped: 0, pings: 0, interruptions: 0 }

  constructor(deps: AgentDeps, opts: ElevenLabsAgentOptions = {}) {
    super()
    this.#deps = deps
    this.#log = deps.log
    this.#opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      keepaliveMs: opts.keepaliveMs ?? 5_000,
      stallTimeoutMs: opts.stallTimeoutMs ?? 15_000,
      replyIdleMs: opts.replyIdleMs ?? 400,
      maxPendingAudioMs: opts.maxPendingAudioMs ?? 2_000
    }
  }

  /** The ElevenLabs conversation id, once started. */
  get conversationId(): string {
    return this.#conversationId
  }

  /** Opens the conversation. Idempotent: a pre-warm and the session share one start. */
  start(call: CallContext): Promise<void> {
    this.#call = call
    if (!this.#starting) {
      this.#starting = this.#connect(call)
      this.#starting.catch(() => undefined)
    }
    return this.#starting
  }

  pushAudio(chunk: Uint8Array): void {
    if (!this.#attached) this.#attach()
    if (this.#state === 'ready') {
      this.#sendAudio(chunk)
      return
    }
    if (this.#state !== 'idle' && this.#state !== 'connecting') return
    // Setting up: keep the latest audio (bounded), copied since the bridge may reuse its buffer.
    this.#pendingAudio.push(chunk.slice())
    this.#pendingAudioBytes += chunk.length
    while (this.#pendingAudioBytes > this.#opts.maxPendingAudioMs * 8 && this.#pendingAudio.length > 1) {
      this.#pendingAudioBytes -= this.#pendingAudio.shift()!.length
    }
  }

  played(): void {
    // ElevenLabs takes no playback position; its interruption event already names what to drop.
  }

  async say(): Promise<void> {
    throw new CallbenchError('unsupported', 'An ElevenLabs agent cannot speak verbatim text; the bridge speaks it with ElevenLabs TTS')
  }

  cancel(): void {
    // No wire message stops an ElevenLabs reply: drop the rest of this one here (the bridge drops it too).
    if (this.#replyId) this.#cancelled = true
  }

  /** Sends a `contextual_update` (the console's `context` command). */
  sendContext(text: string): void {
    const msg: ClientMessage = { type: 'contextual_update', text }
    if (this.#state === 'ready') this.#send(msg)
    else if (this.#state === 'idle' || this.#state === 'connecting') this.#pendingControl.push(msg)
    else throw new CallbenchError('call_ended', 'The ElevenLabs conversation has ended')
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    const wasLive = this.#state === 'ready' || this.#state === 'connecting'
    this.#state = 'closed'
    this.#abort.abort()
    this.#stopTimers()
    const ws = this.#ws
    if (!ws) return
    if (wasLive && ws.readyState === WebSocket.OPEN) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate()
          resolve()
        }, 1_000)
        t.unref()
        ws.once('close', () => {
          clearTimeout(t)
          resolve()
        })
        ws.close(1000, 'call ended')
      })
    } else {
      ws.terminate()
    }
  }

  // ---- setup ----

  async #connect(call: CallContext): Promise<void> {
    const settings = this.#deps.settings
    const agentId = agentIdFor(settings, this.#deps.config)
    if (!agentId) {
      throw new CallbenchError('not_configured', 'No ElevenLabs agent: set one in the profile or ELEVENLABS_AGENT_ID', { field: 'agentId' })
    }
    this.#state = 'connecting'
    const t0 = performance.now()
    const conn = await elevenLabsFrom(this.#deps)
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      this.#abort.abort()
    }, this.#opts.connectTimeoutMs)
    deadline.unref()
    try {
      const [signedUrl] = await Promise.all([this.#signedUrl(conn, agentId), this.#checkVoice(conn, settings.voice.voiceId)])
      this.#assertLive()
      await this.#open(signedUrl, initiationFor(settings, call), t0)
    } catch (err) {
      if (this.#state === 'connecting') this.#state = 'failed'
      this.#stopTimers()
      this.#ws?.terminate()
      this.#assertLive()
      if (timedOut) {
        throw new CallbenchError('upstream_timeout', `ElevenLabs did not start the conversation within ${this.#opts.connectTimeoutMs} ms`, {
          cause: err,
          retryable: true
        })
      }
      throw err
    } finally {
      clearTimeout(deadline)
    }
  }

  #assertLive(): void {
    if (this.#state === 'closed') throw new CallbenchError('call_ended', 'The call ended before the ElevenLabs agent started')
  }

  async #signedUrl(conn: ElevenLabsConnection, agentId: string): Promise<string> {
    try {
      const res = await conn.client.conversationalAi.conversations.getSignedUrl({ agentId }, { abortSignal: this.#abort.signal })
      unknownAgents.delete(agentId)
      return res.signedUrl
    } catch (err) {
      const e = elevenLabsError(err, `agent '${agentId}'`, 'agentId')
      if (e.code === 'not_found') unknownAgents.add(agentId)
      throw e
    }
  }

  async #checkVoice(conn: ElevenLabsConnection, voiceId: string): Promise<void> {
    if (!voiceId) return
    const okUntil = validVoices.get(voiceId)
    if (okUntil !== undefined && okUntil > Date.now()) return
    try {
      await conn.client.voices.get(voiceId, undefined, { abortSignal: this.#abort.signal })
      validVoices.set(voiceId, Date.now() + VOICE_OK_TTL_MS)
    } catch (err) {
      throw elevenLabsError(err, `voice '${voiceId}'`, 'voiceId')
    }
  }

  /** Opens the socket, sends the initiation data first (§5.2) and waits for the metadata. */
  #open(url: string, initiation: ConversationInitiationClientData, t0: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: this.#opts.connectTimeoutMs, perMessageDeflate: false })
      this.#ws = ws
      let settled = false
      const settle = (err: Error | undefined) => {
        if (settled) return
        settled = true
        this.#abort.signal.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const onAbort = () => settle(new CallbenchError('upstream_closed', 'ElevenLabs connection aborted'))
      this.#abort.signal.addEventListener('abort', onAbort)
      ws.on('open', () => {
        this.#lastHeardMs = performance.now()
        this.#send(initiation)
      })
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0
        settle(
          new CallbenchError('upstream_failed', `ElevenLabs refused the conversation socket (${status})`, { retryable: status >= 500 })
        )
        ws.terminate()
      })
      ws.on('message', (data, isBinary) => {
        this.#lastHeardMs = performance.now()
        if (isBinary) return
        const text = data.toString()
        if (!settled) {
          const msg = parseServerMessage(text)
          if (msg?.type === 'conversation_initiation_metadata') {
            // Ready before the next frame of this same read is handled (audio may follow at once).
            try {
              this.#assertLive()
              this.#ready(msg as ConversationInitiationMetadataEvent, performance.now() - t0)
              settle(undefined)
            } catch (err) {
              settle(err as Error)
            }
          }
          else if (msg?.type === 'error') settle(upstreamError(msg as ErrorEvent))
          else if (msg?.type === 'ping') this.#onMessage(text)
          return
        }
        this.#onMessage(text)
      })
      ws.on('pong', () => {
        this.#lastHeardMs = performance.now()
      })
      ws.on('error', (err) => {
        if (!settled) settle(new CallbenchError('upstream_failed', 'ElevenLabs conversation socket failed', { cause: err, retryable: true }))
        else this.#fail(new CallbenchError('upstream_closed', 'ElevenLabs conversation socket failed', { cause: err, retryable: true }))
      })
      ws.on('close', (code, reason) => {
        if (!settled) {
          settle(new CallbenchError('upstream_closed', `ElevenLabs closed the conversation before it started (${code} ${reason.toString().slice(0, 80)})`))
          return
        }
        if (this.#state !== 'ready') return
        if (code === 1000) {
          // A normal close is the agent ending the conversation (its end_call system tool, a time limit).
          this.#state = 'closed'
          this.#stopTimers()
          this.#endReply()
          this.#queueOrEmit('hangup', 'agent_ended_conversation')
          return
        }
        this.#fail(new CallbenchError('upstream_closed', `ElevenLabs closed the conversation (${code})`, { retryable: true }))
      })
    })
  }

  #ready(meta: ConversationInitiationMetadataEvent, connectMs: number): void {
    const m = meta.conversation_initiation_metadata_event
    const inName = m.user_input_audio_format
    const outName = m.agent_output_audio_format
    const inFormat = audioFormatOf(inName)
    const outFormat = audioFormatOf(outName)
    if (!inFormat || !outFormat || inFormat.encoding === 'pcma' || outFormat.encoding === 'pcma') {
      throw new CallbenchError(
        'unsupported',
        `ElevenLabs agent audio formats ${inName}/${outName} cannot be converted; set both to ${ULAW_8000}`,
        { field: 'agentId' }
      )
    }
    this.#conversationId = m.conversation_id
    this.#setFormats(inFormat, outFormat)
    this.#state = 'ready'
    this.#queueOrEmit('event', 'elevenlabs.connected', {
      conversationId: m.conversation_id,
      connectMs: Math.round(connectMs),
      inputFormat: inName,
      outputFormat: outName
    })
    if (inName !== ULAW_8000 || outName !== ULAW_8000) {
      this.#log.warn('elevenlabs agent formats need conversion', { inputFormat: inName, outputFormat: outName })
      this.#queueOrEmit('event', 'elevenlabs.format_warning', {
        inputFormat: inName,
        outputFormat: outName,
        message: `Agent is not set for ${ULAW_8000} both ways; audio is resampled`
      })
    }
    this.#lastHeardMs = performance.now()
    this.#keepalive = setInterval(() => this.#checkAlive(), this.#opts.keepaliveMs)
    this.#keepalive.unref()
    for (const msg of this.#pendingControl) this.#send(msg)
    this.#pendingControl = []
    const pending = this.#pendingAudio
    this.#pendingAudio = []
    this.#pendingAudioBytes = 0
    for (const chunk of pending) this.#sendAudio(chunk)
  }

  #setFormats(inFormat: AudioFormat, outFormat: AudioFormat): void {
    this.#inPcm = inFormat.encoding === 'pcm16'
    this.#outPcm = outFormat.encoding === 'pcm16'
    if (this.#inPcm && inFormat.sampleRateHz !== 8000) {
      this.#up = new Resampler({ fromHz: 8000, toHz: inFormat.sampleRateHz as ResamplerRateHz })
    }
    if (this.#outPcm && outFormat.sampleRateHz !== 8000) {
      this.#down = new Resampler({ fromHz: outFormat.sampleRateHz as ResamplerRateHz, toHz: 8000 })
    }
  }

  // ---- caller → ElevenLabs ----

  #sendAudio(chunk: Uint8Array): void {
    const ws = this.#ws
    if (!ws || ws.readyState !== WebSocket.OPEN) return
    this.stats.audioIn++
    let bytes: Uint8Array = chunk
    if (this.#inPcm) {
      if (this.#inScratch.length < chunk.length) this.#inScratch = new Int16Array(chunk.length)
      if (this.#inView.length !== chunk.length) this.#inView = this.#inScratch.subarray(0, chunk.length)
      decodeUlaw(chunk, this.#inView)
      // Int16Array bytes are little-endian on every platform Node ships for, as pcm_* expects.
      const pcm = this.#up ? this.#up.process(this.#inView) : this.#inView
      bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)
    }
    ws.send('{"user_audio_chunk":"' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') + '"}')
  }

  // ---- ElevenLabs → caller ----

  #onMessage(text: string): void {
    const msg = parseServerMessage(text)
    if (!msg) {
      this.#queueOrEmit('error', new CallbenchError('invalid_message', 'ElevenLabs sent a frame that is not a JSON event'))
      return
    }
    switch (msg.type) {
      case 'ping':
        this.#onPing((msg as PingEvent).ping_event.event_id)
        break
      case 'audio':
        this.#onAudio(msg as AudioEvent)
        break
      case 'interruption':
        this.#onInterruption((msg as InterruptionEvent).interruption_event.event_id)
        break
      case 'agent_response': {
        const text = (msg as AgentResponseEvent).agent_response_event.agent_response
        this.#queueOrEmit('transcript', { role: 'agent', text, final: true })
        break
      }
      case 'agent_response_correction': {
        const e = (msg as AgentResponseCorrectionEvent).agent_response_correction_event
        this.#queueOrEmit('transcript', { role: 'agent', text: e.corrected_agent_response, final: true, correction: true })
        break
      }
      case 'user_transcript': {
        const text = (msg as UserTranscriptEvent).user_transcription_event.user_transcript
        this.#onUserTurn(text)
        break
      }
      case 'tentative_user_transcript': {
        const text = (msg as TentativeUserTranscriptEvent).tentative_user_transcription_event.user_transcript
        this.#queueOrEmit('transcript', { role: 'caller', text, final: false })
        break
      }
      case 'client_tool_call':
        this.#onToolCall(msg as ClientToolCallEvent)
        break
      case 'error':
        this.#queueOrEmit('error', upstreamError(msg as ErrorEvent))
        break
      default:
        break
    }
  }

  #onPing(eventId: number): void {
    this.stats.pings++
    const ws = this.#ws
    if (ws && ws.readyState === WebSocket.OPEN) ws.send('{"type":"pong","event_id":' + eventId + '}')
  }

  #onAudio(msg: AudioEvent): void {
    const ev = msg.audio_event
    if (ev.event_id <= this.#lastInterruptId || this.#cancelled) {
      this.stats.audioDropped++
      if (this.#cancelled) this.#idleTimer?.refresh()
      return
    }
    const raw = Buffer.from(ev.audio_base_64, 'base64')
    const chunk = this.#outPcm ? this.#pcmToUlaw(raw) : raw
    if (chunk.length === 0) return
    this.stats.audioOut++
    if (!this.#replyId) {
      this.#replyId = `el-${++this.#replySeq}`
      if (this.#endOfTurnAtMs !== undefined && this.#call) {
        // Engine time from end of turn to its first audio, so the bridge's share is what remains (bridgeMs).
        const nowMs = this.#call.clock()
        this.#queueOrEmit('turn', { turn: ++this.#turnSeq, endOfTurnAtMs: this.#endOfTurnAtMs, ttsFirstByteMs: nowMs - this.#endOfTurnAtMs })
        this.#endOfTurnAtMs = undefined
      }
    }
    this.#queueOrEmit('audio', chunk, this.#replyId)
    this.#armIdle()
  }

  #onInterruption(eventId: number): void {
    this.stats.interruptions++
    if (eventId > this.#lastInterruptId) this.#lastInterruptId = eventId
    // First: the bridge clears Twilio's buffer on this.
    this.#queueOrEmit('interrupt')
    this.#dropReply()
    this.#queueOrEmit('event', 'elevenlabs.interruption', { eventId })
  }

  #onUserTurn(text: string): void {
    this.#endReply()
    this.#cancelled = false
    if (this.#call) this.#endOfTurnAtMs = this.#call.clock()
    this.#queueOrEmit('transcript', { role: 'caller', text, final: true })
  }

  #onToolCall(msg: ClientToolCallEvent): void {
    const call = msg.client_tool_call
    this.#queueOrEmit('event', 'elevenlabs.tool_call', { tool: call.tool_name })
    if (call.tool_name === END_CALL_TOOL) {
      this.#send({ type: 'client_tool_result', tool_call_id: call.tool_call_id, result: 'Call ended', is_error: false })
      this.#endReply()
      this.#queueOrEmit('hangup', 'agent_end_call')
      return
    }
    this.#send({ type: 'client_tool_result', tool_call_id: call.tool_call_id, result: `Unknown tool '${call.tool_name}'`, is_error: true })
  }

  #pcmToUlaw(raw: Buffer): Uint8Array {
    let src: Uint8Array = raw
    if (this.#outCarry >= 0) {
      const joined = new Uint8Array(raw.length + 1)
      joined[0] = this.#outCarry
      joined.set(raw, 1)
      src = joined
      this.#outCarry = -1
    }
    const samples = src.length >> 1
    if (src.length & 1) this.#outCarry = src[src.length - 1]!
    if (this.#outScratch.length < samples) this.#outScratch = new Int16Array(samples)
    const pcm = this.#outScratch.subarray(0, samples)
    for (let i = 0, j = 0; i < samples; i++, j += 2) pcm[i] = ((src[j]! | (src[j + 1]! << 8)) << 16) >> 16
    const at8k = this.#down ? this.#down.process(pcm) : pcm
    const out = new Uint8Array(at8k.length)
    encodeUlaw(at8k, out)
    return out
  }

  // ---- replies ----

  #armIdle(): void {
    if (this.#idleTimer) this.#idleTimer.refresh()
    else {
      this.#idleTimer = setTimeout(() => this.#endReply(), this.#opts.replyIdleMs)
      this.#idleTimer.unref()
    }
  }

  /** The reply's audio is complete: push out what the resampler holds and tell the bridge. */
  #endReply(): void {
    clearTimeout(this.#idleTimer)
    this.#cancelled = false
    const id = this.#replyId
    if (!id) return
    this.#replyId = undefined
    if (this.#down) {
      const tail = this.#down.flush()
      if (tail.length > 0) {
        const out = new Uint8Array(tail.length)
        encodeUlaw(tail, out)
        this.#queueOrEmit('audio', out, id)
      }
    }
    this.#outCarry = -1
    this.#queueOrEmit('audioEnd', id)
  }

  /** A barge-in cut the reply: forget it without flushing. */
  #dropReply(): void {
    clearTimeout(this.#idleTimer)
    this.#cancelled = false
    this.#replyId = undefined
    this.#down?.reset()
    this.#outCarry = -1
  }

  // ---- plumbing ----

  #send(msg: ClientMessage): void {
    const ws = this.#ws
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg))
  }

  #checkAlive(): void {
    if (this.#state !== 'ready') return
    const silentMs = performance.now() - this.#lastHeardMs
    if (silentMs > this.#opts.stallTimeoutMs) {
      this.#fail(new CallbenchError('upstream_timeout', `ElevenLabs stopped responding (${Math.round(silentMs)} ms)`, { retryable: true }))
      return
    }
    this.#ws?.ping()
  }

  #fail(err: CallbenchError): void {
    if (this.#state === 'closed' || this.#state === 'failed') return
    this.#state = 'failed'
    this.#stopTimers()
    this.#ws?.terminate()
    this.#log.warn('elevenlabs conversation failed', { code: err.code, conversationId: this.#conversationId })
    this.#queueOrEmit('failed', err)
  }

  #stopTimers(): void {
    clearInterval(this.#keepalive)
    clearTimeout(this.#idleTimer)
  }

  /** The session listens once it feeds caller audio; before that (a pre-warm), events wait. */
  #attach(): void {
    this.#attached = true
    const queued = this.#queued
    this.#queued = []
    for (const fn of queued) fn()
  }

  #queueOrEmit<K extends keyof AgentEvents>(name: K, ...args: AgentEvents[K]): void {
    if (!this.#attached && this.listenerCount('audio') === 0) {
      this.#queued.push(() => (this.emit as (n: K, ...a: AgentEvents[K]) => boolean)(name, ...args))
      return
    }
    if (!this.#attached) this.#attach()
    ;(this.emit as (n: K, ...a: AgentEvents[K]) => boolean)(name, ...args)
  }
}

/** `conversation_initiation_client_data` for a call: overrides from settings, call facts as dynamic variables. */
export function initiationFor(settings: Settings, call: CallContext): ConversationInitiationClientData {
  const el = settings.elevenlabs
  const override: ConversationConfigOverride = {}
  const agent: NonNullable<ConversationConfigOverride['agent']> = {}
  if (el.prompt) agent.prompt = { prompt: el.prompt }
  if (el.firstMessage) agent.first_message = el.firstMessage
  if (el.language) agent.language = el.language
  if (Object.keys(agent).length > 0) override.agent = agent
  const voice = settings.voice
  if (voice.voiceId) {
    override.tts = {
      voice_id: voice.voiceId,
      stability: voice.settings.stability,
      similarity_boost: voice.settings.similarityBoost,
      speed: voice.settings.speed
    }
  }
  const vars: Record<string, string> = { call_id: call.callId, call_direction: call.direction, call_mode: call.mode }
  if (call.callSid) vars.call_sid = call.callSid
  if (call.from) vars.caller_number = call.from
  if (call.to) vars.called_number = call.to
  for (const [k, v] of Object.entries(call.customParameters)) {
    if (k !== 'token' && k !== 'callId') vars[`param_${safeName(k)}`] = v
  }
  if (call.customer) {
    const lines: string[] = []
    for (const [k, v] of Object.entries(call.customer)) {
      vars[`customer_${safeName(k)}`] = v
      lines.push(`${k}: ${v}`)
    }
    vars.customer_context = lines.join('\n')
  }
  const msg: ConversationInitiationClientData = { type: 'conversation_initiation_client_data', dynamic_variables: vars }
  if (Object.keys(override).length > 0) msg.conversation_config_override = override
  return msg
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase()
}

function upstreamError(msg: ErrorEvent): CallbenchError {
  const e = msg.error_event ?? {}
  const detail = [e.error_type, e.message ?? e.reason].filter(Boolean).join(': ')
  return new CallbenchError('upstream_failed', `ElevenLabs error${e.code ? ` ${e.code}` : ''}${detail ? `: ${detail.slice(0, 200)}` : ''}`)
}

export const elevenLabsEngine: EngineDefinition = {
  mode: 'elevenlabs',
  async unavailable(deps) {
    if (!(await hasElevenLabsKey(deps))) return 'ElevenLabs API key is not set'
    const agentId = agentIdFor(deps.settings, deps.config)
    if (!agentId) return 'No ElevenLabs agent: set one in the profile or ELEVENLABS_AGENT_ID'
    if (unknownAgents.has(agentId)) return `ElevenLabs agent '${agentId}' not found`
    return undefined
  },
  create: (deps) => new ElevenLabsAgent(deps)
}
