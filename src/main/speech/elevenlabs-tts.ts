/** ElevenLabs text to speech: the REST stream endpoint (say, previews, cascade) and the stream-input WebSocket. */
import { EventEmitter } from 'node:events'
import WebSocket from 'ws'
import type { ElevenLabs } from '@elevenlabs/elevenlabs-js'
import { CallbenchError } from '../../shared/errors.js'
import type { VoiceSettings } from '../../shared/settings.js'
import { elevenLabsError, wsBaseOf, type ElevenLabsConnection } from './elevenlabs-client.js'

/** Output formats we ask for (PROTOCOLS.md §5.1). */
export type TtsOutputFormat = 'ulaw_8000' | 'pcm_16000' | 'pcm_8000' | 'mp3_44100_128' | 'mp3_22050_32'

/** Lowest-latency model that speaks many languages (§5.4). */
export const DEFAULT_TTS_MODEL = 'eleven_flash_v2_5'

/** Voice used when settings name none: the premade "Rachel". */
export const DEFAULT_VOICE_ID = '21m00Tcm4TlvDq8ikWAM'

export interface TtsRequest {
  voiceId: string
  text: string
  outputFormat: TtsOutputFormat
  voiceSettings?: VoiceSettings
  /** Default {@link DEFAULT_TTS_MODEL}. */
  modelId?: string
  /** 0–4; default 3 (§5.1). */
  optimizeStreamingLatency?: number
  languageCode?: string
  /** Aborts the request and the body. */
  signal?: AbortSignal
}

/** Our voice settings in the SDK's shape. */
export function toSdkVoiceSettings(v: VoiceSettings): ElevenLabs.VoiceSettings {
  return {
    stability: v.stability,
    similarityBoost: v.similarityBoost,
    style: v.style,
    useSpeakerBoost: v.speakerBoost,
    speed: v.speed
  }
}

/** Our voice settings with wire names, for the WebSocket messages. */
export function toWireVoiceSettings(v: VoiceSettings): TtsWireVoiceSettings {
  return {
    stability: v.stability,
    similarity_boost: v.similarityBoost,
    style: v.style,
    use_speaker_boost: v.speakerBoost,
    speed: v.speed
  }
}

/**
 * Starts a streamed synthesis (`POST /v1/text-to-speech/{voice}/stream`). Resolves once the response headers
 * are in, so a bad voice or key rejects here with a CallbenchError naming it; the audio then arrives as the
 * returned iterable yields it. Aborting `signal` ends the iteration.
 */
export async function streamSpeech(conn: ElevenLabsConnection, req: TtsRequest): Promise<AsyncIterable<Uint8Array>> {
  if (!req.text.trim()) throw new CallbenchError('bad_request', 'Text to speak is empty', { field: 'text' })
  let body: ReadableStream<Uint8Array>
  try {
    body = await conn.client.textToSpeech.stream(
      req.voiceId,
      {
        text: req.text,
        modelId: req.modelId ?? DEFAULT_TTS_MODEL,
        outputFormat: req.outputFormat,
        optimizeStreamingLatency: req.optimizeStreamingLatency ?? 3,
        ...(req.voiceSettings ? { voiceSettings: toSdkVoiceSettings(req.voiceSettings) } : {}),
        ...(req.languageCode ? { languageCode: req.languageCode } : {})
      },
      req.signal ? { abortSignal: req.signal } : undefined
    )
  } catch (err) {
    throw elevenLabsError(err, `voice '${req.voiceId}'`, 'voiceId')
  }
  return readAll(body, req.voiceId)
}

async function* readAll(body: ReadableStream<Uint8Array>, voiceId: string): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>
      try {
        next = await reader.read()
      } catch (err) {
        throw elevenLabsError(err, `speech from voice '${voiceId}'`)
      }
      if (next.done) return
      if (next.value.byteLength > 0) yield next.value
    }
  } finally {
    reader.releaseLock()
    void body.cancel().catch(() => undefined)
  }
}

/** Synthesizes `req.text` whole (previews, /api/synthesize). */
export async function synthesize(conn: ElevenLabsConnection, req: TtsRequest): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of await streamSpeech(conn, req)) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Wraps raw PCM16 (little-endian) or μ-law samples in a RIFF/WAVE header. */
export function wrapWav(data: Uint8Array, format: { encoding: 'pcm16' | 'pcmu'; sampleRateHz: number }): Buffer {
  const ulaw = format.encoding === 'pcmu'
  const bytesPerSample = ulaw ? 1 : 2
  // Non-PCM formats (μ-law, tag 7) carry a cbSize field and a fact chunk (RIFF spec, WAVE_FORMAT_MULAW).
  const fmtSize = ulaw ? 18 : 16
  const factSize = ulaw ? 12 : 0
  const headerBytes = 12 + 8 + fmtSize + factSize + 8
  const out = Buffer.alloc(headerBytes + data.byteLength)
  let o = 0
  o += out.write('RIFF', o, 'ascii')
  o = out.writeUInt32LE(headerBytes - 8 + data.byteLength, o)
  o += out.write('WAVE', o, 'ascii')
  o += out.write('fmt ', o, 'ascii')
  o = out.writeUInt32LE(fmtSize, o)
  o = out.writeUInt16LE(ulaw ? 7 : 1, o)
  o = out.writeUInt16LE(1, o)
  o = out.writeUInt32LE(format.sampleRateHz, o)
  o = out.writeUInt32LE(format.sampleRateHz * bytesPerSample, o)
  o = out.writeUInt16LE(bytesPerSample, o)
  o = out.writeUInt16LE(bytesPerSample * 8, o)
  if (ulaw) {
    o = out.writeUInt16LE(0, o)
    o += out.write('fact', o, 'ascii')
    o = out.writeUInt32LE(4, o)
    o = out.writeUInt32LE(data.byteLength, o)
  }
  o += out.write('data', o, 'ascii')
  o = out.writeUInt32LE(data.byteLength, o)
  out.set(data, o)
  return out
}

// ---- stream-input WebSocket (§5.5) ----

export interface TtsWireVoiceSettings {
  stability: number
  similarity_boost: number
  style: number
  use_speaker_boost: boolean
  speed: number
}

/** First message; `text` is exactly one space. */
interface InitMessage {
  text: ' '
  voice_settings?: TtsWireVoiceSettings
  generation_config?: { chunk_length_schedule: number[] }
}

interface TextMessage {
  text: string
  try_trigger_generation?: boolean
  flush?: boolean
}

/** Server replies keep camelCase keys (§5.5). */
interface AudioOutputMessage {
  audio?: string | null
  isFinal?: boolean | null
  normalizedAlignment?: unknown
  alignment?: unknown
  error?: string
}

export interface TtsInputStreamOptions {
  voiceId: string
  outputFormat: TtsOutputFormat
  voiceSettings?: VoiceSettings
  modelId?: string
  languageCode?: string
  /** Skip the chunk schedule and generate per sentence. Default true. */
  autoMode?: boolean
  /** Seconds the server waits for text before closing. Default 20. */
  inactivityTimeoutS?: number
  /** How long to wait for the socket to open, ms. Default 10000. */
  connectTimeoutMs?: number
  /** Sent as `X-Client-Request-Id` (our call id), so a socket can be traced to its call. */
  requestId?: string
}

/** Character timing of one audio message, ms from the start of that message's audio. */
export interface TtsAlignment {
  chars: string[]
  charStartTimesMs: number[]
  charDurationsMs: number[]
}

export interface TtsInputStreamEvents {
  /** Emitted just before the `audio` it describes. */
  alignment: [TtsAlignment]
  audio: [chunk: Uint8Array]
  /** The server sent `isFinal`: everything sent so far has been spoken. */
  final: []
  error: [CallbenchError]
  close: []
}

/** One stream-input session: text in as it comes (an LLM's tokens), audio out as it is generated. */
export class TtsInputStream extends EventEmitter<TtsInputStreamEvents> {
  /** The `X-Client-Request-Id` the socket was opened with. */
  readonly requestId: string | undefined
  readonly #ws: WebSocket
  #closed = false

  private constructor(ws: WebSocket, requestId: string | undefined) {
    super()
    this.requestId = requestId
    this.#ws = ws
    ws.on('message', (data, isBinary) => {
      if (isBinary) return
      this.#onMessage(data.toString())
    })
    ws.on('close', () => {
      this.#closed = true
      this.emit('close')
    })
    ws.on('error', (err) => {
      this.emit('error', new CallbenchError('upstream_closed', 'ElevenLabs TTS socket failed', { cause: err, retryable: true }))
    })
  }

  /** Opens the socket and sends the init message. */
  static async connect(conn: ElevenLabsConnection, opts: TtsInputStreamOptions): Promise<TtsInputStream> {
    const query = new URLSearchParams({
      model_id: opts.modelId ?? DEFAULT_TTS_MODEL,
      output_format: opts.outputFormat,
      auto_mode: String(opts.autoMode ?? true),
      inactivity_timeout: String(opts.inactivityTimeoutS ?? 20)
    })
    if (opts.languageCode) query.set('language_code', opts.languageCode)
    const url = `${wsBaseOf(conn.baseUrl)}/v1/text-to-speech/${encodeURIComponent(opts.voiceId)}/stream-input?${query}`
    // The key goes in the upgrade header: the first-message field's spelling is uncertain (§5.5).
    const headers: Record<string, string> = { 'xi-api-key': conn.apiKey }
    if (opts.requestId) headers['X-Client-Request-Id'] = opts.requestId
    // No permessage-deflate: base64 audio hardly compresses, and ws inflates on the libuv thread pool, which
    // queues every audio message behind other calls' zlib work.
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
      perMessageDeflate: false
    })
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        ws.off('open', onOpen)
        reject(handshakeError(err, opts.voiceId))
      }
      const onUnexpected = (_req: unknown, res: { statusCode?: number }) => {
        ws.off('open', onOpen)
        ws.off('error', onError)
        ws.on('error', () => undefined)
        const status = res.statusCode ?? 0
        reject(
          status === 404
            ? new CallbenchError('not_found', `ElevenLabs voice '${opts.voiceId}' not found`, { field: 'voiceId' })
            : new CallbenchError('upstream_failed', `ElevenLabs TTS socket refused (${status})`, { retryable: status >= 500 })
        )
        ws.terminate()
      }
      const onOpen = () => {
        ws.off('error', onError)
        ws.off('unexpected-response', onUnexpected)
        resolve()
      }
      ws.once('open', onOpen)
      ws.once('error', onError)
      ws.once('unexpected-response', onUnexpected)
    })
    const stream = new TtsInputStream(ws, opts.requestId)
    const init: InitMessage = { text: ' ' }
    if (opts.voiceSettings) init.voice_settings = toWireVoiceSettings(opts.voiceSettings)
    stream.#send(init)
    return stream
  }

  /** Sends text; a trailing space is added so word boundaries survive (§5.5). */
  sendText(text: string, flush = false): void {
    if (!text) return
    const msg: TextMessage = { text: text.endsWith(' ') ? text : `${text} ` }
    if (flush) msg.flush = true
    this.#send(msg)
  }

  /** Generates what is buffered and keeps the socket open. */
  flush(): void {
    this.#send({ text: ' ', flush: true })
  }

  /** No more text: the server speaks the rest, sends `isFinal` and closes. */
  end(): void {
    this.#send({ text: '' })
  }

  /** Drops the session at once (barge-in). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#ws.terminate()
  }

  get closed(): boolean {
    return this.#closed
  }

  #send(msg: InitMessage | TextMessage): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return
    this.#ws.send(JSON.stringify(msg))
  }

  #onMessage(text: string): void {
    let msg: AudioOutputMessage
    try {
      msg = JSON.parse(text) as AudioOutputMessage
    } catch {
      this.emit('error', new CallbenchError('invalid_message', 'ElevenLabs TTS sent a frame that is not JSON'))
      return
    }
    if (typeof msg.audio === 'string' && msg.audio.length > 0) {
      if (msg.alignment && this.listenerCount('alignment') > 0) {
        const a = parseAlignment(msg.alignment)
        if (a) this.emit('alignment', a)
      }
      this.emit('audio', Buffer.from(msg.audio, 'base64'))
    }
    if (msg.isFinal === true) this.emit('final')
    else if (typeof msg.error === 'string') {
      this.emit('error', new CallbenchError('upstream_failed', `ElevenLabs TTS error: ${msg.error}`))
    }
  }
}

/** Alignment keys are camelCase in the SDK's schema and snake_case in older docs (§5.5): read both. */
function parseAlignment(value: unknown): TtsAlignment | undefined {
  if (!value || typeof value !== 'object') return undefined
  const v = value as Record<string, unknown>
  const chars = v.chars
  const starts = v.charStartTimesMs ?? v.char_start_times_ms
  const durations = v.charDurationsMs ?? v.char_durations_ms
  if (!Array.isArray(chars) || !Array.isArray(starts) || !Array.isArray(durations)) return undefined
  if (chars.length !== starts.length) return undefined
  return { chars: chars as string[], charStartTimesMs: starts as number[], charDurationsMs: durations as number[] }
}

function handshakeError(err: Error, voiceId: string): CallbenchError {
  return new CallbenchError('upstream_failed', `ElevenLabs TTS socket for voice '${voiceId}' failed to open`, {
    cause: err,
    retryable: true
  })
}
