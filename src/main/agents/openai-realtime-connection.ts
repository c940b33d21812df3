/** One OpenAI Realtime WebSocket: connects, sends `session.update` before any audio, buffers audio until then. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { CallbenchError } from '../../shared/errors.js'
import {
  appendAudioJson,
  parseServerEvent,
  realtimeUrl,
  type RealtimeClientEvent,
  type RealtimeServerEvent,
  type SessionUpdateEvent
} from './openai-realtime-protocol.js'
import { ChunkGatherer } from '../audio/chunk-gatherer.js'
import { deliverTextFrames, fastTextFrames } from '../server/ws-fast-receive.js'

export interface ConnectionOptions {
  apiKey: string | (() => Promise<string | undefined>)
  baseUrl: string
  model: string
  /** Sent as `X-Client-Request-Id` (request-tracing metadata the SDK passes through too). */
  requestId?: string
  /** Handshake limit, ms. */
  handshakeTimeoutMs: number
  /** Caller audio kept while the socket opens; the oldest is dropped past this, ms. */
  maxPendingAudioMs: number
  /**
   * Caller audio per `input_audio_buffer.append`, ms (μ-law, so 8 bytes a ms). Twilio's 20 ms frames are sent two
   * at a time by default: each message is a system call and a TLS record, and at 20 ms they were a third of the
   * bridge's CPU; 40 ms adds at most 20 ms (10 on average) before the service hears the audio. 20 sends every frame.
   */
  inputChunkMs?: number
  /**
   * Once the caller has been silent this long (longer than the service waits to end a turn), caller audio goes in
   * `quietChunkMs` pieces; the first sound after that is sent at once (see ChunkGatherer). Unset: fixed pieces.
   */
  quietAfterMs?: number
  /**
   * Piece size during such a quiet spell, ms. Default 2000: the first sound after it goes at once anyway, so the size
   * only sets how many messages the caller's silence costs while the agent talks (most of a call's caller audio).
   */
  quietChunkMs?: number
  /**
   * Piece size of caller speech while the owner allows holding it (`holdSpeech`), ms. Default 500: then no barge-in
   * can happen and the first frame without sound sends what is held, so the size delays nothing the service acts on
   * (its end of turn comes after such a frame); only its `speech_started` and its view of a turn still going on come
   * up to a piece later. Each append is a write that costs the bridge tens of µs, and speech was a third of them.
   */
  speechChunkMs?: number
}

const BYTES_PER_MS = 8
/**
 * Speech is held only on a line that had a frame without sound this recently, ms: on a line whose noise is over the
 * sound threshold no such frame ends the hold, and the service's end of turn would wait for each piece.
 */
const SPEECH_HOLD_QUIET_WITHIN_MS = 5000
const COMPACT_AFTER = 512
/** Appends are Buffers (one write each, see appendAudioJson); the service takes text frames only. */
const TEXT_FRAME = { binary: false } as const
export class RealtimeConnection extends EventEmitter<{
  /** The socket is open and `session.update` has gone out. */
  open: []
  event: [RealtimeServerEvent]
  /** A message that is not an event. */
  invalid: []
  /** The connection is gone (or never came up), not by our close(). */
  down: [CallbenchError]
}> {
  /** performance.now() of the last message received. */
  lastEventAtMs = 0
  /** Caller audio dropped because the socket took longer than `maxPendingAudioMs` to open, ms. */
  droppedAudioMs = 0
  readonly #opts: ConnectionOptions
  readonly #sessionUpdate: SessionUpdateEvent
  #ws: WebSocket | undefined
  #open = false
  #closed = false
  #pending: { json: Buffer; ms: number }[] = []
  #pendingHead = 0
  #socketError: Error | undefined
  /** Caller audio not yet appended, sent together once a piece is whole (`inputChunkMs`, see ChunkGatherer). */
  readonly #input: ChunkGatherer
  #pendingMs = 0

  constructor(opts: ConnectionOptions, sessionUpdate: SessionUpdateEvent) {
    super()
    this.#opts = opts
    this.#sessionUpdate = sessionUpdate
    const chunkMs = Math.max(1, opts.inputChunkMs ?? 40)
    this.#input = new ChunkGatherer(
      chunkMs * BYTES_PER_MS,
      opts.quietAfterMs === undefined
        ? undefined
        : { bytes: (opts.quietChunkMs ?? 2000) * BYTES_PER_MS, afterBytes: opts.quietAfterMs * BYTES_PER_MS },
      {
        bytes: (opts.speechChunkMs ?? 500) * BYTES_PER_MS,
        quietWithinBytes: SPEECH_HOLD_QUIET_WITHIN_MS * BYTES_PER_MS
      }
    )
  }

  get isOpen(): boolean {
    return this.#open
  }

  async connect(): Promise<void> {
    let apiKey: string | undefined
    try {
      apiKey = typeof this.#opts.apiKey === 'string' ? this.#opts.apiKey : await this.#opts.apiKey()
    } catch (err) {
      return this.#down(new CallbenchError('not_configured', 'Could not read OPENAI_API_KEY', { cause: err }))
    }
    if (this.#closed) return
    if (!apiKey) return this.#down(new CallbenchError('not_configured', 'OPENAI_API_KEY is not set'))
    let url: string
    try {
      url = realtimeUrl(this.#opts.baseUrl, this.#opts.model)
    } catch (err) {
      return this.#down(new CallbenchError('not_configured', 'OPENAI_BASE_URL is not a valid URL', { cause: err }))
    }
    const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}` }
    if (this.#opts.requestId) headers['X-Client-Request-Id'] = this.#opts.requestId
    const ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: this.#opts.handshakeTimeoutMs
    })
    this.#ws = ws
    ws.on('open', this.#onOpen)
    ws.on('message', this.#onMessage)
    ws.on('error', (err) => (this.#socketError = err))
    ws.on('close', this.#onClose)
  }

  /**
   * Caller audio (μ-law): appended in `inputChunkMs` pieces when open, else kept in order until `session.update` has
   * gone out. A client event sent meanwhile (a commit, say) first flushes what is held, so the order stays the caller's.
   */
  appendAudio(chunk: Uint8Array): void {
    if (this.#closed) return
    // Copied into the gatherer: the bridge may reuse its buffer before the piece is full.
    if (this.#input.push(chunk)) this.#flushInput()
  }

  /**
   * Whether caller speech may go in `speechChunkMs` pieces: only while nothing of the agent's is playing or due, as
   * then no barge-in can happen. Stopping it sends what is held at once.
   */
  holdSpeech(allowed: boolean): void {
    if (this.#input.holdSpeech(allowed)) this.#flushInput()
  }

  #flushInput(): void {
    if (this.#input.length === 0) return
    // A view of the gatherer's buffer: encoded (and measured) here, before the next push.
    const audio = this.#input.take()
    const json = appendAudioJson(audio)
    if (this.#open) {
      this.#ws!.send(json, TEXT_FRAME)
      return
    }
    if (this.#closed) return
    const ms = audio.byteLength / BYTES_PER_MS
    this.#pending.push({ json, ms })
    this.#pendingMs += ms
    while (this.#pendingMs > this.#opts.maxPendingAudioMs && this.#pending.length - this.#pendingHead > 1) {
      const dropped = this.#pending[this.#pendingHead++]!.ms
      this.#pendingMs -= dropped
      this.droppedAudioMs += dropped
    }
    if (this.#pendingHead >= COMPACT_AFTER) {
      this.#pending.splice(0, this.#pendingHead)
      this.#pendingHead = 0
    }
  }

  send(ev: RealtimeClientEvent): void {
    if (!this.#open || this.#ws!.readyState !== WebSocket.OPEN) return
    this.#flushInput()
    this.#ws!.send(JSON.stringify(ev))
  }

  /** Closes cleanly (1000), waiting for the close handshake a bounded time. */
  close(): Promise<void> {
    // The caller's last words reach the service (its transcript and usage count them) before the socket closes.
    if (this.#open && this.#ws!.readyState === WebSocket.OPEN) this.#flushInput()
    this.#closed = true
    this.#open = false
    this.#pending = []
    this.#pendingMs = 0
    const ws = this.#ws
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise<void>((resolve) => {
      ws.once('close', () => resolve())
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
      else ws.close(1000)
      setTimeout(() => ws.terminate(), 1_000).unref()
    })
  }

  /** Drops the socket at once (after a failure). */
  terminate(): void {
    this.#closed = true
    this.#open = false
    this.#pending = []
    this.#pendingMs = 0
    this.#ws?.terminate()
  }

  readonly #onOpen = (): void => {
    if (this.#closed) return
    const ws = this.#ws!
    fastTextFrames(ws)
    // In a buffer the next read reuses (on a plain TCP socket): #onMessage decodes it to a string at once.
    deliverTextFrames(ws, this.#onMessage)
    this.lastEventAtMs = performance.now()
    // The socket is ordered: audio sent after session.update is read in the format it sets.
    ws.send(JSON.stringify(this.#sessionUpdate))
    for (let i = this.#pendingHead; i < this.#pending.length; i++) ws.send(this.#pending[i]!.json, TEXT_FRAME)
    this.#pending = []
    this.#pendingMs = 0
    this.#pendingHead = 0
    this.#open = true
    this.emit('open')
  }

  readonly #onMessage = (data: WebSocket.RawData): void => {
    this.lastEventAtMs = performance.now()
    const ev = parseServerEvent(data.toString())
    if (ev) this.emit('event', ev)
    else this.emit('invalid')
  }

  readonly #onClose = (code: number, reason: Buffer): void => {
    if (this.#closed) return
    const opened = this.#open
    this.#open = false
    this.#closed = true
    const detail = { code, reason: reason.toString('utf8').slice(0, 200) }
    if (opened) {
      this.#down(
        new CallbenchError('upstream_closed', `OpenAI Realtime closed the session (code ${code})`, {
          retryable: true,
          cause: detail
        })
      )
    } else {
      const why = this.#socketError?.message
      this.#down(
        new CallbenchError('upstream_failed', `Could not connect to OpenAI Realtime${why ? `: ${why}` : ''}`, {
          retryable: true,
          cause: this.#socketError ?? detail
        })
      )
    }
  }

  #down(err: CallbenchError): void {
    this.#closed = true
    this.emit('down', err)
  }
}
