/** One agent reply spoken through the TTS stream-input socket: text in as it streams, audio out, what was heard. */
import { EventEmitter } from 'node:events'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import type { TtsAlignment, TtsInputStream } from './elevenlabs-tts.js'
import { TextChunker } from './text-chunker.js'

/** μ-law 8 kHz: 8 bytes per ms. */
const BYTES_PER_MS = 8

/** Opens a stream-input TTS socket. */
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
    } catch (err) {
      if (this.#closed) throw err
      stream = await this.#connect()
    }
    if (stream.closed) stream = await this.#connect()
    stream.removeAllListeners()
    // The next socket opens once this one has spoken (or closed): sooner, its handshake would sit in front of
    // this reply's LLM request and first audio on the event loop.
    const rewarm = () => {
      stream.off('audio', rewarm)
      stream.off('close', rewarm)
      setImmediate(() => {
        if (!this.#closed) this.ensure().catch(() => undefined)
      })
    }
    stream.once('audio', rewarm)
    stream.once('close', rewarm)
    return stream
  }

  close(): void {
    this.#closed = true
    const p = this.#warm
    this.#warm = undefined
    p?.then(
      (s) => s.close(),
      () => undefined
    )
  }
}

export interface SpokenReplyEvents {
  /** Audio for the caller (μ-law 8 kHz); `first` on the reply's first chunk. */
  audio: [chunk: Uint8Array, first: boolean]
  /** The service said `isFinal`: all of the reply's audio is out. */
  done: []
  /** The socket failed or closed before the reply was spoken; what was sent still plays. */
  failed: [CallbenchError]
}

/**
 * Text goes in as it streams (`push`, cut into speakable pieces) or whole (`say`); `end` when there is no more.
 * The first piece is flushed so its audio starts at once. `cut` stops it (barge-in). `played` and `heardText`
 * say what the caller heard: by the service's character alignment, else in proportion to the audio played.
 */
export class SpokenReply extends EventEmitter<SpokenReplyEvents> {
  readonly id: string
  /** Text sent to TTS so far. */
  sentText = ''
  emittedMs = 0
  playedMs = 0
  done = false
  isCut = false
  /** Clock readings: the first piece ready to send, written to the socket, the first audio back. */
  firstPieceAtMs: number | undefined
  firstPieceSentAtMs: number | undefined
  firstAudioAtMs: number | undefined
  readonly #clock: () => number
  readonly #chunker = new TextChunker()
  readonly #ready: Promise<TtsInputStream>
  #tts: TtsInputStream | undefined
  /** Sends go out in order once the socket is there. */
  #chain: Promise<void>
  #ended = false
  readonly #alignedChars: string[] = []
  readonly #alignedStartsMs: number[] = []

  constructor(id: string, socket: Promise<TtsInputStream>, clock: () => number) {
    super()
    this.id = id
    this.#clock = clock
    this.#ready = socket.then((tts) => this.#attach(tts))
    // Failures surface through `failed` (or are moot once cut); the chain must not leave a rejection unhandled.
    this.#chain = this.#ready.then(
      () => undefined,
      (err: unknown) => this.#fail(err)
    )
  }

  /** Streamed text; complete pieces are sent as they form. */
  push(delta: string): void {
    if (this.isCut || this.#ended) return
    for (const piece of this.#chunker.push(delta)) this.#send(piece)
  }

  /** Whole text at once (greeting, operator `say`). */
  say(text: string): void {
    if (this.isCut || this.#ended || !text.trim()) return
    this.#send(text.trim())
  }

  /** No more text: what is held back goes out and the service finishes the audio. */
  end(): void {
    if (this.isCut || this.#ended) return
    const rest = this.#chunker.flush()
    if (rest) this.#send(rest)
    this.#ended = true
    this.#chain = this.#chain.then(() => {
      if (this.isCut) return
      if (!this.sentText) this.#finish()
      else this.#tts?.end()
    })
  }

  /** Stops now: nothing more is emitted and the socket is closed. */
  cut(): void {
    if (this.isCut) return
    this.isCut = true
    this.#tts?.close()
    this.#ready.then(
      (tts) => tts.close(),
      () => undefined
    )
  }

  played(ms: number): void {
    this.playedMs = ms
  }

  /** The request id of the TTS socket speaking this reply, once it is attached. */
  get ttsRequestId(): string | undefined {
    return this.#tts?.requestId
  }

  /** Audio is still to come or still queued for the caller. */
  get playing(): boolean {
    return !this.isCut && (!this.done || this.playedMs < this.emittedMs)
  }

  /** What the caller heard, cut back to whole words. */
  heardText(): string {
    const played = Math.min(this.playedMs, this.emittedMs)
    if (played <= 0) return ''
    if (this.#alignedChars.length > 0) {
      const starts = this.#alignedStartsMs
      let n = 0
      while (n < starts.length && starts[n]! < played) n++
      let heard = this.#alignedChars.slice(0, n).join('')
      // A word cut in the middle was not heard as a word.
      if (n < this.#alignedChars.length && this.#alignedChars[n] !== ' ')
        heard = heard.slice(0, Math.max(0, heard.lastIndexOf(' ')))
      return heard.trim()
    }
    if (this.done && played >= this.emittedMs) return this.sentText
    const chars = Math.floor((this.sentText.length * played) / Math.max(this.emittedMs, 1))
    const cut = this.sentText.lastIndexOf(' ', chars)
    return this.sentText.slice(0, Math.max(0, cut)).trim()
  }

  #send(piece: string): void {
    this.firstPieceAtMs ??= this.#clock()
    this.#chain = this.#chain.then(() => {
      const tts = this.#tts
      if (this.isCut || !tts) return
      tts.sendText(piece, this.sentText === '')
      this.firstPieceSentAtMs ??= this.#clock()
      this.sentText += (this.sentText ? ' ' : '') + piece
    })
  }

  #attach(tts: TtsInputStream): TtsInputStream {
    if (this.isCut) {
      tts.close()
      return tts
    }
    this.#tts = tts
    tts.on('alignment', (a: TtsAlignment) => {
      for (let i = 0; i < a.chars.length; i++) {
        this.#alignedChars.push(a.chars[i]!)
        this.#alignedStartsMs.push(this.emittedMs + (a.charStartTimesMs[i] ?? 0))
      }
    })
    tts.on('audio', (chunk) => {
      if (this.isCut) return
      const first = this.firstAudioAtMs === undefined
      if (first) this.firstAudioAtMs = this.#clock()
      this.emittedMs += chunk.length / BYTES_PER_MS
      this.emit('audio', chunk, first)
    })
    tts.on('final', () => this.#finish())
    tts.on('error', (err) => {
      if (!this.isCut && !this.done) this.#fail(err)
    })
    tts.on('close', () => {
      if (!this.isCut && !this.done)
        this.#fail(
          new CallbenchError('upstream_closed', 'ElevenLabs TTS closed before the reply was spoken', {
            retryable: true
          })
        )
    })
    return tts
  }

  #finish(): void {
    if (this.done || this.isCut) return
    this.done = true
    this.#tts?.close()
    this.emit('done')
  }

  #fail(err: unknown): void {
    if (this.isCut || this.done) return
    const e =
      err instanceof CallbenchError
        ? err
        : new CallbenchError('upstream_failed', 'Text to speech failed', { cause: err, retryable: true })
    this.isCut = true
    this.#tts?.close()
    this.emit('failed', e)
  }
}
