/** The ElevenLabs Agent engine: one Agents WebSocket per call, μ-law straight through when the agent speaks it. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { CallbenchError } from '../../shared/errors.js'
import { TWILIO_FORMAT, type AudioFormat } from '../audio/format.js'
import type { Logger } from '../log.js'
import { elevenLabsFrom, hasElevenLabsKey } from '../speech/elevenlabs-client.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { AgentDeps, EngineDefinition } from './engines.js'
import { AgentAudio, negotiateFormats } from './elevenlabs-audio.js'
import {
  ConversationSocket,
  agentIdFor,
  checkVoice,
  initiationFor,
  isUnknownAgent,
  signedUrlFor
} from './elevenlabs-connection.js'
import { handleServerMessage, newReplyState, type ConversationContext } from './elevenlabs-handlers.js'
import { ChunkGatherer } from '../audio/chunk-gatherer.js'
import { ULAW_8000, type ClientMessage, type ConversationInitiationMetadataEvent } from './elevenlabs-protocol.js'

export { agentIdFor, initiationFor } from './elevenlabs-connection.js'

/** Caller audio goes in pieces this big once the caller has been quiet for QUIET_AFTER_MS (see ChunkGatherer). */
const QUIET_CHUNK_MS = 200
const QUIET_AFTER_MS = 3000

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
  /**
   * Caller audio per `user_audio_chunk`, ms. Default 40: two Twilio frames a message halves the bridge's writes
   * (each a system call and a TLS record) for at most 20 ms (10 on average) before the agent hears it. 20 sends
   * every frame.
   */
  inputChunkMs?: number
}

type State = 'idle' | 'connecting' | 'ready' | 'closed' | 'failed'

export class ElevenLabsAgent extends EventEmitter<AgentEvents> implements Agent {
  // Conversion to and from the agent's own formats happens here: they are only known once the conversation
  // has started, after the session has been built around this agent.
  readonly input: AudioFormat = TWILIO_FORMAT
  readonly output: AudioFormat = TWILIO_FORMAT
  readonly capabilities: AgentCapabilities = { ownsTurnDetection: true, canSay: false, wantsPlayback: false }
  #input: ChunkGatherer | undefined
  readonly stats = { audioIn: 0, audioOut: 0, audioDropped: 0, pings: 0, interruptions: 0 }
  readonly #deps: AgentDeps
  readonly #log: Logger
  readonly #opts: Required<ElevenLabsAgentOptions>
  #state: State = 'idle'
  #starting: Promise<void> | undefined
  #socket: ConversationSocket | undefined
  #call: CallContext | undefined
  #conversationId = ''
  #abort = new AbortController()
  // Until the session listens (a pre-warmed engine), what would be emitted waits here.
  #attached = false
  #queued: Array<() => void> = []
  #pendingAudio: Uint8Array[] = []
  #pendingAudioBytes = 0
  #pendingControl: ClientMessage[] = []
  readonly #audio = new AgentAudio()
  readonly #reply = newReplyState()
  #idleTimer: NodeJS.Timeout | undefined
  #keepalive: NodeJS.Timeout | undefined
  readonly #events: ConversationContext

  constructor(deps: AgentDeps, opts: ElevenLabsAgentOptions = {}) {
    super()
    this.#deps = deps
    this.#log = deps.log
    this.#opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      keepaliveMs: opts.keepaliveMs ?? 5_000,
      stallTimeoutMs: opts.stallTimeoutMs ?? 15_000,
      replyIdleMs: opts.replyIdleMs ?? 400,
      maxPendingAudioMs: opts.maxPendingAudioMs ?? 2_000,
      inputChunkMs: Math.max(1, opts.inputChunkMs ?? 40)
    }
    this.#events = {
      stats: this.stats,
      reply: this.#reply,
      audio: this.#audio,
      clock: () => this.#call?.clock(),
      emit: (name, ...args) => this.#queueOrEmit(name, ...args),
      send: (msg) => this.#send(msg),
      sendText: (text) => this.#socket?.sendText(text),
      armIdle: () => this.#armIdle(),
      refreshIdle: () => this.#idleTimer?.refresh(),
      endReply: () => this.#endReply(),
      dropReply: () => this.#dropReply()
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
    throw new CallbenchError(
      'unsupported',
      'An ElevenLabs agent cannot speak verbatim text; the bridge speaks it with ElevenLabs TTS'
    )
  }

  cancel(): void {
    // No wire message stops an ElevenLabs reply: drop the rest of this one here (the bridge drops it too).
    if (this.#reply.id) this.#reply.cancelled = true
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
    // The caller's last words reach the agent before the socket closes.
    if (this.#state === 'ready') this.#flushInput()
    this.#state = 'closed'
    this.#abort.abort()
    this.#stopTimers()
    await this.#socket?.close(wasLive)
  }

  // ---- setup ----

  async #connect(call: CallContext): Promise<void> {
    const settings = this.#deps.settings
    const agentId = agentIdFor(settings, this.#deps.config)
    if (!agentId) {
      throw new CallbenchError('not_configured', 'No ElevenLabs agent: set one in the profile or ELEVENLABS_AGENT_ID', {
        field: 'agentId'
      })
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
    const signal = this.#abort.signal
    try {
      const [signedUrl] = await Promise.all([
        signedUrlFor(conn, agentId, signal),
        checkVoice(conn, settings.voice.voiceId, signal)
      ])
      this.#assertLive()
      this.#socket = new ConversationSocket(signedUrl, this.#opts.connectTimeoutMs)
      await this.#socket.start(initiationFor(settings, call), signal, {
        ready: (meta) => {
          this.#assertLive()
          this.#ready(meta, performance.now() - t0)
        },
        message: (text) => handleServerMessage(this.#events, text),
        failed: (err) => this.#fail(err),
        closed: (code) => this.#onClose(code)
      })
    } catch (err) {
      if (this.#state === 'connecting') this.#state = 'failed'
      this.#stopTimers()
      this.#socket?.terminate()
      this.#assertLive()
      if (timedOut) {
        throw new CallbenchError(
          'upstream_timeout',
          `ElevenLabs did not start the conversation within ${this.#opts.connectTimeoutMs} ms`,
          {
            cause: err,
            retryable: true
          }
        )
      }
      throw err
    } finally {
      clearTimeout(deadline)
    }
  }

  #assertLive(): void {
    if (this.#state === 'closed')
      throw new CallbenchError('call_ended', 'The call ended before the ElevenLabs agent started')
  }

  #ready(meta: ConversationInitiationMetadataEvent, connectMs: number): void {
    const m = meta.conversation_initiation_metadata_event
    const inName = m.user_input_audio_format
    const outName = m.agent_output_audio_format
    const formats = negotiateFormats(inName, outName)
    this.#conversationId = m.conversation_id
    this.#audio.setFormats(formats.input, formats.output)
    this.#state = 'ready'
    this.#queueOrEmit('event', 'elevenlabs.connected', {
      conversationId: m.conversation_id,
      connectMs: Math.round(connectMs),
      inputFormat: inName,
      outputFormat: outName
    })
    // Agents are billed per minute of conversation: the bridge meters it by the call clock from here to the end.
    this.#queueOrEmit('event', 'usage', { clocked: 'elevenlabsAgentMs' })
    if (inName !== ULAW_8000 || outName !== ULAW_8000) {
      this.#log.warn('elevenlabs agent formats need conversion', { inputFormat: inName, outputFormat: outName })
      this.#queueOrEmit('event', 'elevenlabs.format_warning', {
        inputFormat: inName,
        outputFormat: outName,
        message: `Agent is not set for ${ULAW_8000} both ways; audio is resampled`
      })
    }
    this.#socket!.lastHeardMs = performance.now()
    this.#keepalive = setInterval(() => this.#checkAlive(), this.#opts.keepaliveMs)
    this.#keepalive.unref()
    for (const msg of this.#pendingControl) this.#send(msg)
    this.#pendingControl = []
    const pending = this.#pendingAudio
    this.#pendingAudio = []
    this.#pendingAudioBytes = 0
    for (const chunk of pending) this.#sendAudio(chunk)
  }

  /** The socket closed after the start. */
  #onClose(code: number): void {
    if (this.#state !== 'ready') return
    if (code === 1000) {
      // A normal close is the agent ending the conversation (its end_call system tool, a time limit).
      this.#state = 'closed'
      this.#stopTimers()
      this.#endReply()
      this.#queueOrEmit('hangup', 'agent_ended_conversation')
      return
    }
    this.#fail(
      new CallbenchError('upstream_closed', `ElevenLabs closed the conversation (${code})`, { retryable: true })
    )
  }

  // ---- caller → ElevenLabs ----

  /** Holds caller audio until `inputChunkMs` of it is there, then sends it as one chunk. */
  #sendAudio(chunk: Uint8Array): void {
    if (!this.#socket?.isOpen) return
    // Copied into the gatherer: the bridge may reuse its buffer before the piece is full.
    // The agent's turn-taking is the service's own (not configurable here); 3 s of quiet is well past it.
    this.#input ??= new ChunkGatherer(this.#opts.inputChunkMs * 8, {
      bytes: QUIET_CHUNK_MS * 8,
      afterBytes: QUIET_AFTER_MS * 8
    })
    if (this.#input.push(chunk)) this.#flushInput()
  }

  #flushInput(): void {
    const socket = this.#socket
    if (!this.#input?.length || !socket?.isOpen) return
    // A view of the gatherer's buffer: converted and encoded here, before the next push.
    const held = this.#input.take()
    this.stats.audioIn++
    const bytes = this.#audio.toAgent(held)
    socket.sendText(
      '{"user_audio_chunk":"' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') + '"}'
    )
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
    this.#reply.cancelled = false
    const id = this.#reply.id
    if (!id) return
    this.#reply.id = undefined
    const tail = this.#audio.endReply()
    if (tail) this.#queueOrEmit('audio', tail, id)
    this.#queueOrEmit('audioEnd', id)
  }

  /** A barge-in cut the reply: forget it without flushing. */
  #dropReply(): void {
    clearTimeout(this.#idleTimer)
    this.#reply.cancelled = false
    this.#reply.id = undefined
    this.#audio.dropReply()
  }

  // ---- plumbing ----

  #send(msg: ClientMessage): void {
    // Audio held for the next chunk goes first, so the agent reads the caller's words and our messages in order.
    this.#flushInput()
    this.#socket?.send(msg)
  }

  #checkAlive(): void {
    if (this.#state !== 'ready') return
    const silentMs = performance.now() - (this.#socket?.lastHeardMs ?? 0)
    if (silentMs > this.#opts.stallTimeoutMs) {
      this.#fail(
        new CallbenchError('upstream_timeout', `ElevenLabs stopped responding (${Math.round(silentMs)} ms)`, {
          retryable: true
        })
      )
      return
    }
    this.#socket?.ping()
  }

  #fail(err: CallbenchError): void {
    if (this.#state === 'closed' || this.#state === 'failed') return
    this.#state = 'failed'
    this.#stopTimers()
    this.#socket?.terminate()
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

export const elevenLabsEngine: EngineDefinition = {
  mode: 'elevenlabs',
  async unavailable(deps) {
    if (!(await hasElevenLabsKey(deps))) return 'ElevenLabs API key is not set'
    const agentId = agentIdFor(deps.settings, deps.config)
    if (!agentId) return 'No ElevenLabs agent: set one in the profile or ELEVENLABS_AGENT_ID'
    if (isUnknownAgent(agentId)) return `ElevenLabs agent '${agentId}' not found`
    return undefined
  },
  create: (deps) => new ElevenLabsAgent(deps)
}
