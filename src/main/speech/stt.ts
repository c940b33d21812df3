/** ElevenLabs Scribe speech to text per caller turn: streamed over the realtime WebSocket, batch upload as the fallback. */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { RealtimeConnection } from '@elevenlabs/elevenlabs-js'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import { elevenLabsError, loadElevenLabsSdk, type ElevenLabsConnection } from './elevenlabs-client.js'
import { wrapWav } from './elevenlabs-tts.js'

export const DEFAULT_REALTIME_STT_MODEL = 'scribe_v2_realtime'
export const DEFAULT_BATCH_STT_MODEL = 'scribe_v2'

/** μ-law 8 kHz: 8 bytes per ms. */
const BYTES_PER_MS = 8
/** Longest turn kept for the batch fallback; a caller talking longer is transcribed from the start. */
const MAX_TURN_MS = 120_000
/** Caller audio goes to the realtime session this much at a time (one message, a base64 copy and a TLS record each). */
const STREAM_PIECE_MS = 100

export interface SttOptions {
  /**
   * `realtime`: the turn streams to Scribe as it is spoken and is committed when the VAD ends it, so the
   * transcript is ready moments after. `batch`: the whole turn is uploaded once it ends. Default `realtime`.
   */
  mode?: 'realtime' | 'batch'
  /** Default {@link DEFAULT_REALTIME_STT_MODEL}. */
  realtimeModelId?: string
  /** Default {@link DEFAULT_BATCH_STT_MODEL}. */
  batchModelId?: string
  /** ISO 639 code; empty = detected. */
  languageCode?: string
  /** Commit → transcript, or upload → transcript, before giving up, ms. Default 8000. */
  timeoutMs?: number
  /** Socket open → `session_started`, ms. Default 5000. */
  connectTimeoutMs?: number
  /** The clock of {@link SttTrace} readings, ms. Default `performance.now()`. */
  clock?: () => number
  log?: Logger
}

export interface TurnTranscript {
  text: string
  via: 'realtime' | 'batch'
}

/** Where one turn's transcript came from and when, filled in by `finish` (for the latency breakdown). */
export interface SttTrace {
  /** The realtime commit (or batch upload) went out, clock ms. */
  requestAtMs?: number
  /** The transcript came back, clock ms. */
  transcriptAtMs?: number
  /** The realtime session's id (`session_started.session_id`) and this commit's index in it (0-based). */
  sessionId?: string
  commitIndex?: number
}

export interface TranscriberEvents {
  /** A tentative transcript of the turn so far (realtime only). */
  partial: [text: string]
  /** The realtime session failed; the turn falls back to batch. Informational. */
  fallback: [CallbenchError]
}

interface Session {
  connection: RealtimeConnection
  ready: Promise<void>
  open: boolean
  closed: boolean
  id: string | undefined
  /** Commits sent so far. */
  commitCount: number
  /** Waiters for `committed_transcript`, in commit order. */
  commits: Array<{ resolve: (text: string) => void; reject: (err: CallbenchError) => void }>
}

/**
 * One call's speech to text. `begin` when the caller's speech is confirmed (with the audio before it),
 * `push` each frame, `finish` at end of turn. Audio is μ-law 8 kHz, as Twilio sends it.
 */
export class ScribeTranscriber extends EventEmitter<TranscriberEvents> {
  readonly #connect: () => Promise<ElevenLabsConnection>
  readonly #opts: Required<Omit<SttOptions, 'log' | 'languageCode' | 'clock'>> & Pick<SttOptions, 'languageCode'>
  readonly #log: Logger | undefined
  readonly #clock: () => number
  #session: Session | undefined
  /** The current turn's audio (kept for the batch fallback), and how much of it went to the realtime session. */
  #turn = new Uint8Array(16_000)
  #turnBytes = 0
  #sentBytes = 0
  /** The turn's audio already committed by `checkpoint`, and the transcripts of those commits in order. */
  #checkpointBytes = 0
  #parts: Array<Promise<string>> = []
  #inTurn = false
  #closed = false

  constructor(connect: () => Promise<ElevenLabsConnection>, opts: SttOptions = {}) {
    super()
    this.#connect = connect
    this.#log = opts.log
    this.#clock = opts.clock ?? (() => performance.now())
    this.#opts = {
      mode: opts.mode ?? 'realtime',
      realtimeModelId: opts.realtimeModelId || DEFAULT_REALTIME_STT_MODEL,
      batchModelId: opts.batchModelId || DEFAULT_BATCH_STT_MODEL,
      timeoutMs: opts.timeoutMs ?? 8_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
      ...(opts.languageCode ? { languageCode: opts.languageCode } : {})
    }
  }

  /** Opens the realtime session ahead of the first turn (no-op in batch mode or when one is open). */
  warm(): void {
    if (this.#opts.mode !== 'realtime' || this.#closed) return
    if (this.#session && !this.#session.closed) return
    this.#session = this.#open()
  }

  /** A turn starts: `preroll` is the audio since just before the onset. */
  begin(preroll: Uint8Array): void {
    if (this.#closed) return
    this.#inTurn = true
    this.#turnBytes = 0
    this.#sentBytes = 0
    this.#checkpointBytes = 0
    this.#parts = []
    this.warm()
    this.#append(preroll)
  }

  /** One frame of the turn. */
  push(chunk: Uint8Array): void {
    if (!this.#inTurn) return
    this.#append(chunk)
  }

  get inTurn(): boolean {
    return this.#inTurn
  }

  /**
   * Ends the turn and resolves with its transcript (possibly empty); rejects only if batch failed too. `trace`,
   * if given, is filled in with when the request went out and the transcript came back.
   */
  async finish(signal?: AbortSignal, trace?: SttTrace): Promise<TurnTranscript> {
    if (!this.#inTurn) return { text: '', via: this.#opts.mode }
    this.#inTurn = false
    // A copy: the next turn may begin (and reuse the buffer) while this one is still being transcribed.
    const audio = this.#turn.slice(0, this.#turnBytes)
    // What checkpoints transcribed already (undefined if one failed: the whole turn is transcribed again).
    const checkpointBytes = this.#checkpointBytes
    const head = this.#parts.length > 0 ? joined(this.#parts).catch(() => undefined) : Promise.resolve('')
    this.#parts = []
    this.#checkpointBytes = 0
    const session = this.#session
    // Still opening: waiting a little beats uploading the whole turn; the audio kept is sent once it opens.
    if (session && !session.open && !session.closed) await this.#opened(session)
    if (session && session.open && !session.closed) this.#flushTo(session)
    if (session && session.open && !session.closed && this.#sentBytes === this.#turnBytes) {
      try {
        // Nothing said since the last checkpoint: its transcript is the turn's, with no commit to wait for.
        const tail = checkpointBytes < audio.length ? await this.#commit(session, trace) : ''
        const before = await head
        if (before !== undefined) return { text: joinText(before, tail), via: 'realtime' }
        this.#log?.warn('realtime stt checkpoint failed, using batch')
        this.emit(
          'fallback',
          new CallbenchError('upstream_failed', 'A realtime transcription checkpoint failed', { retryable: true })
        )
      } catch (err) {
        const e =
          err instanceof CallbenchError
            ? err
            : new CallbenchError('upstream_failed', 'Realtime transcription failed', { cause: err })
        this.#log?.warn('realtime stt failed, using batch', { code: e.code })
        this.emit('fallback', e)
        this.#drop(session)
      }
    } else if (this.#opts.mode === 'realtime') {
      // The session was not there for the whole turn (still opening, or it closed): what it heard is partial.
      this.emit(
        'fallback',
        new CallbenchError('upstream_closed', 'Realtime transcription session was not open for the turn', {
          retryable: true
        })
      )
      if (session) this.#drop(session)
    }
    if (trace) {
      trace.requestAtMs = this.#clock()
      delete trace.sessionId
      delete trace.commitIndex
    }
    // Checkpoints that came back stand; the batch upload covers the rest (or everything, if one failed).
    const before = await head
    const rest = before !== undefined ? audio.subarray(checkpointBytes) : audio
    const text = joinText(before ?? '', await this.#batch(rest, signal))
    if (trace) trace.transcriptAtMs = this.#clock()
    return { text, via: 'batch' }
  }

  /**
   * Commits the turn so far while the turn goes on (realtime only), so work on a turn that is probably over can
   * start before it ends (the cascade's early reply). Resolves with the transcript of the whole turn up to now;
   * `finish` later returns the whole turn's text either way, committing only what came after. Undefined when the
   * realtime session has not had the whole turn (it is still opening, or it closed): `finish` copes as usual.
   */
  checkpoint(trace?: SttTrace): Promise<string> | undefined {
    if (!this.#inTurn || this.#closed) return undefined
    const s = this.#session
    if (!s || !s.open || s.closed) return undefined
    this.#flushTo(s)
    if (s.closed || this.#sentBytes !== this.#turnBytes) return undefined
    if (this.#checkpointBytes < this.#turnBytes) {
      const part = this.#commit(s, trace)
      // A failure shows in `finish` (which transcribes the turn again) and in this checkpoint's own result.
      part.catch(() => undefined)
      this.#parts.push(part)
      this.#checkpointBytes = this.#turnBytes
    }
    return joined(this.#parts)
  }

  close(): void {
    this.#closed = true
    this.#inTurn = false
    if (this.#session) this.#drop(this.#session)
    this.removeAllListeners()
  }

  #append(chunk: Uint8Array): void {
    const room = MAX_TURN_MS * BYTES_PER_MS - this.#turnBytes
    if (room <= 0) return
    const data = chunk.length > room ? chunk.subarray(0, room) : chunk
    if (this.#turnBytes + data.length > this.#turn.length) {
      const grown = new Uint8Array(Math.max(this.#turn.length * 2, this.#turnBytes + data.length))
      grown.set(this.#turn.subarray(0, this.#turnBytes))
      this.#turn = grown
    }
    this.#turn.set(data, this.#turnBytes)
    this.#turnBytes += data.length
    const s = this.#session
    // Streamed in pieces of STREAM_PIECE_MS: finish() sends what is left before it commits, so the end of the
    // turn waits for nothing; only the partial transcripts come a little less often than one per frame.
    if (s && s.open && !s.closed && this.#turnBytes - this.#sentBytes >= STREAM_PIECE_MS * BYTES_PER_MS)
      this.#flushTo(s)
  }

  /** Sends the turn's audio the session has not had yet. */
  #flushTo(s: Session): void {
    if (this.#sentBytes >= this.#turnBytes) return
    const pending = this.#turn.subarray(this.#sentBytes, this.#turnBytes)
    try {
      s.connection.send({
        audioBase64: Buffer.from(pending.buffer, pending.byteOffset, pending.byteLength).toString('base64'),
        sampleRate: 8000
      })
      this.#sentBytes = this.#turnBytes
    } catch (err) {
      this.#log?.warn('realtime stt send failed', { err: err as Error })
      this.#drop(s)
    }
  }

  #open(): Session {
    const session = {} as Session
    session.open = false
    session.closed = false
    session.id = undefined
    session.commitCount = 0
    session.commits = []
    session.ready = (async () => {
      const conn = await this.#connect()
      const { AudioFormat: ScribeAudioFormat, CommitStrategy, RealtimeEvents } = await loadElevenLabsSdk()
      const connection = await conn.client.speechToText.realtime.connect({
        modelId: this.#opts.realtimeModelId,
        audioFormat: ScribeAudioFormat.ULAW_8000,
        sampleRate: 8000,
        commitStrategy: CommitStrategy.MANUAL,
        ...(this.#opts.languageCode ? { languageCode: this.#opts.languageCode } : {})
      })
      session.connection = connection
      if (session.closed || this.#closed) {
        connection.close()
        return
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new CallbenchError('upstream_timeout', 'Scribe realtime session did not start in time', {
                retryable: true
              })
            ),
          this.#opts.connectTimeoutMs
        )
        connection.on(RealtimeEvents.SESSION_STARTED, (m) => {
          session.id = m.session_id
          clearTimeout(timer)
          resolve()
        })
        connection.on(RealtimeEvents.ERROR, (e) => {
          const message = 'message_type' in e ? `${e.message_type}: ${e.error}` : e.message
          const err = new CallbenchError('upstream_failed', `Scribe realtime: ${message.slice(0, 200)}`, {
            cause: e,
            retryable: true
          })
          if (!session.open) {
            clearTimeout(timer)
            reject(err)
          }
          for (const c of session.commits.splice(0)) c.reject(err)
        })
        connection.on(RealtimeEvents.CLOSE, () => {
          session.closed = true
          clearTimeout(timer)
          reject(new CallbenchError('upstream_closed', 'Scribe realtime session closed', { retryable: true }))
          for (const c of session.commits.splice(0))
            c.reject(new CallbenchError('upstream_closed', 'Scribe realtime session closed', { retryable: true }))
        })
        connection.on(RealtimeEvents.PARTIAL_TRANSCRIPT, (m) => {
          if (this.#inTurn && m.text) this.emit('partial', m.text)
        })
        connection.on(RealtimeEvents.COMMITTED_TRANSCRIPT, (m) => session.commits.shift()?.resolve(m.text ?? ''))
      })
      if (session.closed || this.#closed) {
        connection.close()
        return
      }
      session.open = true
      if (this.#inTurn && this.#session === session) this.#flushTo(session)
    })()
    session.ready.catch((err: unknown) => {
      session.closed = true
      this.#log?.warn('realtime stt session failed', { code: (err as CallbenchError).code })
    })
    return session
  }

  async #opened(s: Session): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      s.ready.catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#opts.connectTimeoutMs)
      })
    ])
    clearTimeout(timer)
  }

  #commit(s: Session, trace: SttTrace | undefined): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = s.commits.indexOf(waiter)
        if (i >= 0) s.commits.splice(i, 1)
        reject(
          new CallbenchError('upstream_timeout', 'Scribe realtime did not return the transcript in time', {
            retryable: true
          })
        )
      }, this.#opts.timeoutMs)
      const waiter = {
        resolve: (text: string) => {
          clearTimeout(timer)
          if (trace) trace.transcriptAtMs = this.#clock()
          resolve(text)
        },
        reject: (err: CallbenchError) => {
          clearTimeout(timer)
          reject(err)
        }
      }
      s.commits.push(waiter)
      const sentAtMs = this.#clock()
      try {
        s.connection.commit()
        if (trace) {
          trace.requestAtMs = sentAtMs
          if (s.id !== undefined) trace.sessionId = s.id
          trace.commitIndex = s.commitCount
        }
        s.commitCount++
      } catch (err) {
        s.commits.pop()
        clearTimeout(timer)
        reject(
          new CallbenchError('upstream_closed', 'Scribe realtime session is not open', { cause: err, retryable: true })
        )
      }
    })
  }

  #drop(s: Session): void {
    s.closed = true
    if (this.#session === s) this.#session = undefined
    try {
      s.connection?.close()
    } catch {
      // Closing a socket that never opened.
    }
  }

  async #batch(ulaw: Uint8Array, signal?: AbortSignal): Promise<string> {
    if (ulaw.length === 0) return ''
    const conn = await this.#connect()
    try {
      const result = await conn.client.speechToText.convert(
        {
          modelId: this.#opts.batchModelId,
          file: {
            data: wrapWav(ulaw, { encoding: 'pcmu', sampleRateHz: 8000 }),
            filename: 'turn.wav',
            contentType: 'audio/wav'
          },
          fileFormat: 'other',
          tagAudioEvents: false,
          ...(this.#opts.languageCode ? { languageCode: this.#opts.languageCode } : {})
        },
        { timeoutInSeconds: this.#opts.timeoutMs / 1000, maxRetries: 0, ...(signal ? { abortSignal: signal } : {}) }
      )
      return 'text' in result && typeof result.text === 'string' ? result.text : ''
    } catch (err) {
      throw elevenLabsError(err, 'speech to text')
    }
  }
}

/** Transcripts of consecutive pieces of one turn, as one text. */
function joinText(a: string, b: string): string {
  const x = a.trim()
  const y = b.trim()
  return x && y ? `${x} ${y}` : x || y
}

async function joined(parts: ReadonlyArray<Promise<string>>): Promise<string> {
  return (await Promise.all(parts)).reduce(joinText, '')
}
