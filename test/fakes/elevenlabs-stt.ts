/** A fake ElevenLabs Scribe (speech to text): batch `POST /v1/speech-to-text` and the realtime WebSocket, with a set delay. */
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'

// Protocol facts: PROTOCOLS.md §5.7. Mounted on FakeElevenLabs (one base URL, as the real service has);
// this file speaks the wire itself and imports nothing from src/.

export interface SttTurnInfo {
  /** 0-based count of transcriptions this fake has made (batch and realtime together). */
  index: number
  /** Caller audio of the turn, as sent (μ-law for `ulaw_8000`). */
  audio: Buffer
  via: 'batch' | 'realtime'
}

export interface FakeScribeOptions {
  /** The key requests must carry in `xi-api-key`. */
  apiKey: string
  /** Commit (or upload) → transcript, ms. Default 0. */
  delayMs?: number
  /** What the caller said. Default "caller turn N" (1-based). A realtime commit of silence is "" and uses no N. */
  transcribe?: (info: SttTurnInfo) => string
  /** Send a `partial_transcript` every this many audio chunks; 0 = none. Default 10. */
  partialEveryChunks?: number
}

export interface SttSessionRecord {
  id: string
  query: Record<string, string>
  chunks: number
  audioBytes: number
  commits: number
  /** Per commit, in order: when it arrived and when its `committed_transcript` went out (performance.now()). */
  commitTimes: Array<{ receivedAtMs: number; sentAtMs: number | undefined }>
  transcripts: string[]
  /** Sample rates the client declared on its chunks. */
  sampleRates: Set<number>
  openedAtMs: number
  closedAtMs: number | undefined
}

export interface SttBatchRecord {
  fields: Record<string, string>
  fileBytes: number
  fileName: string | undefined
  text: string
  receivedAtMs: number
}

export class FakeScribe extends EventEmitter<{
  session: [SttSessionRecord]
  /** A non-empty audio chunk arrived on a realtime session. */
  chunk: [SttSessionRecord]
  commit: [SttSessionRecord]
  batch: [SttBatchRecord]
}> {
  readonly sessions: SttSessionRecord[] = []
  readonly batches: SttBatchRecord[] = []
  delayMs: number
  transcribe: (info: SttTurnInfo) => string
  /** Set to make every realtime commit fail with this `transcriber_error` (the batch endpoint still works). */
  commitError: string | undefined
  readonly #apiKey: string
  readonly #partialEvery: number
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  #count = 0

  constructor(opts: FakeScribeOptions) {
    super()
    this.#apiKey = opts.apiKey
    this.delayMs = opts.delayMs ?? 0
    this.transcribe = opts.transcribe ?? ((info) => `caller turn ${info.index + 1}`)
    this.#partialEvery = opts.partialEveryChunks ?? 10
  }

  /** Serves `POST /v1/speech-to-text`; false when the request is not for us. */
  handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname !== '/v1/speech-to-text') return false
    void this.#batch(req, res)
    return true
  }

  /** Takes the realtime upgrade; false when it is not for us. */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, url: URL): boolean {
    if (url.pathname !== '/v1/speech-to-text/realtime') return false
    const key = req.headers['xi-api-key']
    if (key !== this.#apiKey) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return true
    }
    const query = Object.fromEntries(url.searchParams)
    if (!query.model_id) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return true
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#session(ws, query))
    return true
  }

  /** Resolves on the next commit of any realtime session. */
  nextCommit(): Promise<SttSessionRecord> {
    return new Promise((resolve) => this.once('commit', resolve))
  }

  close(): void {
    for (const c of this.#wss.clients) c.terminate()
    this.#wss.close()
  }

  #session(ws: WebSocket, query: Record<string, string>): void {
    const record: SttSessionRecord = {
      id: 'sess_' + randomBytes(8).toString('hex'),
      query,
      chunks: 0,
      audioBytes: 0,
      commits: 0,
      commitTimes: [],
      transcripts: [],
      sampleRates: new Set(),
      openedAtMs: performance.now(),
      closedAtMs: undefined
    }
    this.sessions.push(record)
    this.emit('session', record)
    let pending: Buffer[] = []
    const send = (msg: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
    }
    send({
      message_type: 'session_started',
      session_id: record.id,
      config: {
        sample_rate: Number(query.sample_rate ?? 16000),
        audio_format: query.audio_format ?? 'pcm_16000',
        language_code: query.language_code ?? null,
        commit_strategy: query.commit_strategy ?? 'manual',
        model_id: query.model_id
      }
    })
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send({ message_type: 'input_error', error: 'Binary frames are not accepted' })
      let msg: Record<string, unknown>
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>
      } catch {
        return send({ message_type: 'input_error', error: 'Invalid JSON' })
      }
      if (msg.message_type !== 'input_audio_chunk' || typeof msg.audio_base_64 !== 'string') {
        return send({ message_type: 'invalid_request', error: 'Unknown message' })
      }
      if (typeof msg.sample_rate === 'number') record.sampleRates.add(msg.sample_rate)
      const audio = Buffer.from(msg.audio_base_64, 'base64')
      if (audio.length > 0) {
        record.chunks++
        record.audioBytes += audio.length
        this.emit('chunk', record)
        pending.push(audio)
        if (this.#partialEvery > 0 && record.chunks % this.#partialEvery === 0)
          send({ message_type: 'partial_transcript', text: '…' })
      }
      if (msg.commit === true) {
        const times: { receivedAtMs: number; sentAtMs: number | undefined } = {
          receivedAtMs: performance.now(),
          sentAtMs: undefined
        }
        record.commitTimes.push(times)
        record.commits++
        if (this.commitError !== undefined) {
          pending = []
          return send({ message_type: 'transcriber_error', error: this.commitError })
        }
        const turnAudio = Buffer.concat(pending)
        pending = []
        // Like the service, a commit of silence (or of nothing) transcribes to nothing.
        const text = hasSound(turnAudio, String(query.audio_format ?? 'pcm_16000'))
          ? this.transcribe({ index: this.#count++, audio: turnAudio, via: 'realtime' })
          : ''
        record.transcripts.push(text)
        this.emit('commit', record)
        const reply = () => {
          send({ message_type: 'committed_transcript', text })
          times.sentAtMs = performance.now()
        }
        if (this.delayMs > 0) setTimeout(reply, this.delayMs)
        else reply()
      }
    })
    ws.on('close', () => {
      record.closedAtMs = performance.now()
    })
    ws.on('error', () => undefined)
  }

  async #batch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAtMs = performance.now()
    if (req.headers['xi-api-key'] !== this.#apiKey) {
      req.resume()
      return json(res, 401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } })
    }
    if (req.method !== 'POST') return json(res, 405, { detail: 'method not allowed' })
    const chunks: Buffer[] = []
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c)
    const parts = parseMultipart(Buffer.concat(chunks), String(req.headers['content-type'] ?? ''))
    if (!parts)
      return json(res, 422, { detail: [{ loc: ['body'], msg: 'expected multipart/form-data', type: 'value_error' }] })
    const fields: Record<string, string> = {}
    let file: { data: Buffer; filename: string | undefined } | undefined
    for (const p of parts) {
      if (p.name === 'file') file = { data: p.data, filename: p.filename }
      else if (p.name) fields[p.name] = p.data.toString('utf8')
    }
    if (!fields.model_id)
      return json(res, 422, {
        detail: [{ loc: ['body', 'model_id'], msg: 'field required', type: 'value_error.missing' }]
      })
    if (!file)
      return json(res, 422, { detail: [{ loc: ['body', 'file'], msg: 'field required', type: 'value_error.missing' }] })
    const text = this.transcribe({ index: this.#count++, audio: file.data, via: 'batch' })
    const record: SttBatchRecord = { fields, fileBytes: file.data.length, fileName: file.filename, text, receivedAtMs }
    this.batches.push(record)
    this.emit('batch', record)
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    json(res, 200, {
      language_code: fields.language_code || 'en',
      language_probability: 0.99,
      text,
      words: text
        .split(/\s+/)
        .filter(Boolean)
        .map((w, i) => ({ text: w, start: i * 0.3, end: i * 0.3 + 0.25, type: 'word', logprob: -0.1 }))
    })
  }
}

interface Part {
  name: string | undefined
  filename: string | undefined
  data: Buffer
}

/** Minimal multipart/form-data parser (RFC 7578): enough for the SDK's uploads. */
function parseMultipart(body: Buffer, contentType: string): Part[] | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  if (!contentType.toLowerCase().startsWith('multipart/form-data') || !m) return undefined
  const boundary = Buffer.from(`--${m[1] ?? m[2]!.trim()}`)
  const parts: Part[] = []
  let pos = body.indexOf(boundary)
  while (pos >= 0) {
    const start = pos + boundary.length
    if (body.subarray(start, start + 2).toString() === '--') break
    const headerEnd = body.indexOf('\r\n\r\n', start)
    if (headerEnd < 0) break
    const headers = body.subarray(start + 2, headerEnd).toString('utf8')
    const next = body.indexOf(boundary, headerEnd + 4)
    if (next < 0) break
    const data = body.subarray(headerEnd + 4, next - 2)
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? ''
    parts.push({
      name: /\bname="([^"]*)"/i.exec(disposition)?.[1],
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
      data
    })
    pos = next
  }
  return parts
}

function json(res: ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Any sample at or above about −50 dBFS (μ-law: magnitude code 13; 16-bit PCM: 104). */
function hasSound(audio: Buffer, format: string): boolean {
  if (format.startsWith('ulaw')) {
    for (const b of audio) if ((~b & 0x7f) >= 13) return true
    return false
  }
  for (let i = 0; i + 1 < audio.length; i += 2) if (Math.abs(audio.readInt16LE(i)) >= 104) return true
  return false
}
