/** A local OpenAI Realtime (GA) server: the real wire protocol, an energy VAD, scripted replies, faults and timings. */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { WebSocket, WebSocketServer } from 'ws'
import type {
  ConversationItem,
  RealtimeAudioFormats,
  RealtimeClientEvent,
  RealtimeResponse,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
  ResponseAudioDeltaEvent
} from 'openai/resources/realtime/realtime'

// Protocol facts: PROTOCOLS.md §4. Like the Twilio simulator, this file speaks the wire itself and imports
// nothing from src/main, so a bug in our client cannot hide behind the same bug here.

/** Options for every session the server opens; the `options` object stays mutable between sessions. */
/** What the audio deltas of a cancelled response are made of (a quiet μ-law value no reply fills a frame with). */
export const CANCELLED_AUDIO_BYTE = 0x7e

export interface FakeRealtimeOptions {
  /** Reply length when a script does not say, ms. Default 1500. Ignored with `replyAudio`. */
  replyDurationMs?: number
  /** Audio per `response.output_audio.delta`, ms. Default 100. */
  chunkMs?: number
  /** How much faster than real time replies stream. Default 4. */
  speedFactor?: number
  /** From the trigger (end of turn or `response.create`) to the first delta, ms: the model's time. Default 0. */
  firstDeltaDelayMs?: number
  /** Reply audio in μ-law 8 kHz instead of a tone. */
  replyAudio?: Uint8Array
  /** The agent's words for each reply. */
  replyText?: string
  /** What the transcription "hears" the caller say. */
  callerText?: string
  /** A 20 ms window whose RMS is above this is speech. Default -45 dBFS. */
  vadThresholdDbfs?: number
  /** Deltas still sent after a cancel, as if in flight when it arrived. Default 0. */
  lateDeltasAfterCancel?: number
  /** Keep the caller audio received. Default true. */
  recordAudio?: boolean
  /** Log every append in `received` (without its audio). Default true; the benchmark turns it off. */
  logAppends?: boolean
  /** Scripts the replies of a session that has none queued. */
  script?: (session: FakeRealtimeSession, replyIndex: number) => ReplyScript | undefined
  /** Text-only sessions (`output_modalities: ['text']`, the hybrid): time between `response.output_text.delta`s, ms. Default 10. */
  textDeltaIntervalMs?: number
}

/** How one reply behaves. */
export interface ReplyScript {
  durationMs?: number
  text?: string
  /** No audio at all (e.g. only the function call). */
  silent?: boolean
  /** After its audio, the model calls `end_call`. */
  endCall?: boolean
  /** `response.created`, then nothing, ever: a stalled service. */
  stall?: boolean
  /** Drops the socket after this many audio deltas. */
  dropAfterDeltas?: number
}

/** A client event as received; appends carry their decoded size, not their audio. */
export interface ReceivedEvent {
  atMs: number
  event: RealtimeClientEvent
  audioBytes?: number
}

/** A server event as sent (audio and transcript deltas are counted on the response instead). */
export interface SentRecord {
  atMs: number
  type: RealtimeServerEvent['type']
  responseId?: string
  itemId?: string
  errorCode?: string
}

export interface FakeResponse {
  id: string
  itemId: string
  trigger: 'vad' | 'client'
  createdAtMs: number
  /** performance.now() when the first audio delta went out. */
  firstDeltaSentAtMs: number | undefined
  deltasSent: number
  /** Deltas sent after the response was cancelled. */
  deltasAfterCancel: number
  audioMsSent: number
  status: 'in_progress' | 'completed' | 'cancelled'
  cancelReason?: 'turn_detected' | 'client_cancelled'
  functionCallId?: string
}

export interface Truncation {
  atMs: number
  itemId: string
  audioEndMs: number
  accepted: boolean
}

const SILENCE_DBFS = -100
const DEFAULT_SESSION: RealtimeSessionCreateRequest = {
  type: 'realtime',
  output_modalities: ['audio'],
  instructions: '',
  audio: {
    input: {
      format: { type: 'audio/pcm', rate: 24000 },
      turn_detection: {
        type: 'server_vad',
        threshold: 0.5,
        prefix_padding_ms: 300,
        silence_duration_ms: 200,
        create_response: true,
        interrupt_response: true
      }
    },
    output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 }
  },
  tools: [],
  tool_choice: 'auto',
  max_output_tokens: 'inf'
}
// Fields of the retired beta session shape (PROTOCOLS.md §4.4); the GA service rejects them.
const BETA_SESSION_FIELDS = [
  'modalities',
  'voice',
  'input_audio_format',
  'output_audio_format',
  'input_audio_transcription',
  'turn_detection',
  'input_audio_noise_reduction',
  'temperature',
  'max_response_output_tokens'
]
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

const ULAW_TO_LINEAR = new Int16Array(256)
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84
  ULAW_TO_LINEAR[i] = u & 0x80 ? -magnitude : magnitude
}

function linearToUlaw(sample: number): number {
  let s = Math.max(-32635, Math.min(32635, Math.round(sample)))
  const sign = s < 0 ? 0x80 : 0
  if (sign) s = -s
  s += 0x84
  let exponent = 7
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  return ~(sign | (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)) & 0xff
}

function isPcmu(f: RealtimeAudioFormats | undefined): boolean {
  return f?.type === 'audio/pcmu'
}

/** Bytes per ms of a session format: μ-law/A-law 8 kHz or pcm16 24 kHz. */
function bytesPerMs(f: RealtimeAudioFormats | undefined): number {
  return f?.type === 'audio/pcmu' || f?.type === 'audio/pcma' ? 8 : 48
}

/** A 440 Hz tone at -20 dBFS in the output format. */
function tone(durationMs: number, format: RealtimeAudioFormats | undefined): Uint8Array {
  const ulaw = isPcmu(format)
  const rateHz = ulaw ? 8000 : 24000
  const n = Math.round((durationMs * rateHz) / 1000)
  const amp = 32768 * 0.1 * Math.SQRT2
  const out = new Uint8Array(ulaw ? n : n * 2)
  const view = new DataView(out.buffer)
  for (let i = 0; i < n; i++) {
    const s = amp * Math.sin((2 * Math.PI * 440 * i) / rateHz)
    if (ulaw) out[i] = linearToUlaw(s)
    else view.setInt16(i * 2, Math.round(s), true)
  }
  return out
}

const chunkCache = new WeakMap<Uint8Array, Map<number, string[]>>()

/** The audio split into base64 chunks, computed once per clip and chunk size. */
function chunksOf(audio: Uint8Array, chunkBytes: number): string[] {
  let bySize = chunkCache.get(audio)
  if (!bySize) chunkCache.set(audio, (bySize = new Map()))
  let chunks = bySize.get(chunkBytes)
  if (!chunks) {
    chunks = []
    for (let off = 0; off < audio.byteLength; off += chunkBytes) {
      chunks.push(
        Buffer.from(audio.buffer, audio.byteOffset + off, Math.min(chunkBytes, audio.byteLength - off)).toString(
          'base64'
        )
      )
    }
    bySize.set(chunkBytes, chunks)
  }
  return chunks
}

/**
 * Checks a client event's fields against the GA protocol (the SDK's `RealtimeClientEvent`); returns the
 * problem, or undefined when it is well formed.
 */
export function checkClientEvent(ev: unknown): { message: string; param?: string } | undefined {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return { message: 'The event must be a JSON object.' }
  const e = ev as Record<string, unknown>
  if ('event_id' in e && typeof e.event_id !== 'string')
    return { message: 'event_id must be a string.', param: 'event_id' }
  const allowed = (...keys: string[]): { message: string; param?: string } | undefined => {
    for (const k of Object.keys(e)) {
      if (k !== 'type' && k !== 'event_id' && !keys.includes(k))
        return { message: `Unknown parameter: '${k}'.`, param: k }
    }
    return undefined
  }
  const str = (k: string, optional = false) =>
    (optional && e[k] === undefined) || (typeof e[k] === 'string' && (e[k] as string).length > 0)
      ? undefined
      : { message: `Missing or invalid '${k}'.`, param: k }
  const intMin0 = (k: string) =>
    Number.isInteger(e[k]) && (e[k] as number) >= 0
      ? undefined
      : { message: `'${k}' must be an integer >= 0.`, param: k }
  switch (e.type) {
    case 'session.update': {
      const s = e.session as Record<string, unknown> | undefined
      if (typeof s !== 'object' || s === null)
        return { message: "Missing required parameter: 'session'.", param: 'session' }
      if (s.type !== 'realtime' && s.type !== 'transcription') {
        return { message: "Missing required parameter: 'session.type'.", param: 'session.type' }
      }
      const beta = BETA_SESSION_FIELDS.find((k) => k in s)
      if (beta) return { message: `Unknown parameter: 'session.${beta}'.`, param: `session.${beta}` }
      return allowed('session')
    }
    case 'input_audio_buffer.append':
      if (typeof e.audio !== 'string' || !BASE64.test(e.audio))
        return { message: "Invalid 'audio': expected base64.", param: 'audio' }
      return allowed('audio')
    case 'input_audio_buffer.commit':
    case 'input_audio_buffer.clear':
      return allowed()
    case 'conversation.item.create': {
      const item = e.item as Record<string, unknown> | undefined
      if (typeof item !== 'object' || item === null)
        return { message: "Missing required parameter: 'item'.", param: 'item' }
      if (item.type === 'message') {
        if (!['system', 'user', 'assistant'].includes(item.role as string) || !Array.isArray(item.content)) {
          return { message: "Invalid message item: 'role' and 'content' are required.", param: 'item' }
        }
      } else if (item.type === 'function_call_output') {
        if (typeof item.call_id !== 'string' || typeof item.output !== 'string') {
          return { message: "Invalid function_call_output: 'call_id' and 'output' are required.", param: 'item' }
        }
      } else if (item.type !== 'function_call') {
        return { message: `Invalid value: '${String(item.type)}'.`, param: 'item.type' }
      }
      return str('previous_item_id', true) ?? allowed('item', 'previous_item_id')
    }
    case 'conversation.item.truncate':
      return (
        str('item_id') ??
        intMin0('content_index') ??
        intMin0('audio_end_ms') ??
        allowed('item_id', 'content_index', 'audio_end_ms')
      )
    case 'conversation.item.delete':
    case 'conversation.item.retrieve':
      return str('item_id') ?? allowed('item_id')
    case 'response.create':
      if ('response' in e && (typeof e.response !== 'object' || e.response === null))
        return { message: "Invalid 'response'.", param: 'response' }
      return allowed('response')
    case 'response.cancel':
      return str('response_id', true) ?? allowed('response_id')
    case 'output_audio_buffer.clear':
      return { message: 'output_audio_buffer.clear is only supported for WebRTC and SIP sessions.', param: 'type' }
    default:
      return { message: `Invalid value: '${String(e.type)}'. Not a supported client event type.`, param: 'type' }
  }
}

interface ActiveReply {
  record: FakeResponse
  audio: Uint8Array | undefined
  chunks: string[]
  next: number
  text: string
  script: ReplyScript
  timer: NodeJS.Timeout | undefined
  outputItem: ConversationItem
  /** The session asked for text only: `chunks` are text deltas, not audio. */
  textOnly?: boolean
}

/** A session with `output_modalities: ['text']` gets text deltas and no audio (PROTOCOLS.md §4.8). */
function isTextOnly(c: RealtimeSessionCreateRequest): boolean {
  return c.output_modalities?.length === 1 && c.output_modalities[0] === 'text'
}

/** Splits a reply into the deltas a model streams: words with their leading space. */
function textDeltas(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}

interface ItemInfo {
  role: 'user' | 'assistant' | 'system' | 'tool'
  /** Assistant audio produced so far, ms. */
  audioMs: number
}

let sessionSeq = 0

/** One client connection: the session the client talks to. */
export class FakeRealtimeSession extends EventEmitter<{ received: [ReceivedEvent]; sent: [SentRecord]; closed: [] }> {
  readonly id = `sess_fake_${++sessionSeq}`
  readonly model: string
  readonly headers: IncomingMessage['headers']
  /** The `X-Client-Request-Id` header, which our client sets to the call id. */
  readonly clientRequestId: string | undefined
  readonly connectedAtMs = performance.now()
  readonly received: ReceivedEvent[] = []
  readonly sent: SentRecord[] = []
  readonly responses: FakeResponse[] = []
  readonly truncations: Truncation[] = []
  /** Client events that broke the protocol, with the reason (the service answers each with an `error`). */
  readonly invalidEvents: Array<{ type: unknown; message: string }> = []
  /** performance.now() of every `speech_started` sent. */
  readonly speechStartedSentAtMs: number[] = []
  appends = 0
  audioBytesReceived = 0
  /** Appends received before any `session.update`. */
  appendsBeforeSessionUpdate = 0
  closedAtMs: number | undefined
  config: RealtimeSessionCreateRequest
  readonly #ws: WebSocket
  readonly #opts: FakeRealtimeOptions
  readonly #audio: Buffer[] = []
  readonly #scripts: ReplyScript[] = []
  readonly #items = new Map<string, ItemInfo>()
  #seq = 0
  #sessionUpdated = false
  #stalled = false
  #active: ActiveReply | undefined
  #lastItemId: string | null = null
  // VAD state, on the received-audio clock.
  #winSum = 0
  #winCount = 0
  #winSamples = 160
  #audioMs = 0
  #speaking = false
  #silenceRunMs = 0
  #speechItemId = ''

  constructor(ws: WebSocket, req: IncomingMessage, model: string, opts: FakeRealtimeOptions) {
    super()
    this.#ws = ws
    this.#opts = opts
    this.model = model
    this.headers = req.headers
    const rid = req.headers['x-client-request-id']
    this.clientRequestId = Array.isArray(rid) ? rid[0] : rid
    this.config = structuredClone({ ...DEFAULT_SESSION, model })
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary))
    ws.on('close', () => {
      this.closedAtMs = performance.now()
      this.#stopReply()
      this.emit('closed')
    })
    ws.on('error', () => {
      // Followed by close.
    })
    this.#send({ type: 'session.created', event_id: this.#eventId(), session: this.config })
  }

  /** Queues how the next reply behaves. */
  script(reply: ReplyScript): void {
    this.#scripts.push(reply)
  }

  /** Drops the connection now, with no close frame (a network failure). */
  drop(): void {
    this.#stopReply()
    this.#ws.terminate()
  }

  /** From now on sends nothing at all; the socket stays open. */
  stall(): void {
    this.#stalled = true
    this.#stopReply()
  }

  /** Sends an `error` event, as the service does for a bad request. */
  sendError(code: string, message: string, type = 'invalid_request_error'): void {
    this.#sendError(code, message, undefined, undefined, type)
  }

  /** The caller audio received so far (with `recordAudio`). */
  receivedAudio(): Buffer {
    return Buffer.concat(this.#audio)
  }

  /** Received-audio clock, ms. */
  get audioMs(): number {
    return this.#audioMs
  }

  get closed(): boolean {
    return this.closedAtMs !== undefined
  }

  /** Resolves with the first received event (already received or to come) that matches. */
  untilReceived(match: (e: ReceivedEvent) => boolean): Promise<ReceivedEvent> {
    const found = this.received.find(match)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => {
      const on = (e: ReceivedEvent): void => {
        if (!match(e)) return
        this.off('received', on)
        resolve(e)
      }
      this.on('received', on)
    })
  }

  /** Resolves with the first sent record (already sent or to come) that matches. */
  untilSent(match: (s: SentRecord) => boolean): Promise<SentRecord> {
    const found = this.sent.find(match)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => {
      const on = (s: SentRecord): void => {
        if (!match(s)) return
        this.off('sent', on)
        resolve(s)
      }
      this.on('sent', on)
    })
  }

  untilClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((resolve) => this.once('closed', resolve))
  }

  #eventId(): string {
    return `event_${this.id.slice(10)}_${++this.#seq}`
  }

  #newItemId(): string {
    return `item_${this.id.slice(10)}_${++this.#seq}`
  }

  #send(ev: RealtimeServerEvent, rec?: Omit<SentRecord, 'atMs' | 'type'>): void {
    if (this.#stalled || this.#ws.readyState !== WebSocket.OPEN) return
    this.#ws.send(JSON.stringify(ev))
    const record: SentRecord = { atMs: performance.now(), type: ev.type, ...rec }
    this.sent.push(record)
    this.emit('sent', record)
  }

  #sendError(
    code: string,
    message: string,
    param?: string,
    clientEventId?: string,
    type = 'invalid_request_error'
  ): void {
    this.#send(
      {
        type: 'error',
        event_id: this.#eventId(),
        error: { type, code, message, param: param ?? null, event_id: clientEventId ?? null }
      },
      { errorCode: code }
    )
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    const atMs = performance.now()
    if (isBinary) {
      this.invalidEvents.push({ type: undefined, message: 'binary frame' })
      this.#sendError('invalid_json', 'Binary frames are not supported.')
      return
    }
    let ev: unknown
    try {
      ev = JSON.parse(data.toString('utf8'))
    } catch {
      this.invalidEvents.push({ type: undefined, message: 'invalid JSON' })
      this.#sendError('invalid_json', 'The server could not parse the event as JSON.')
      return
    }
    const problem = checkClientEvent(ev)
    const clientEventId = (ev as { event_id?: string }).event_id
    if (problem) {
      this.invalidEvents.push({ type: (ev as { type?: unknown }).type, message: problem.message })
      this.#sendError(
        problem.param === 'type' ? 'invalid_value' : 'unknown_parameter',
        problem.message,
        problem.param,
        clientEventId
      )
      return
    }
    const event = ev as RealtimeClientEvent
    if (event.type === 'input_audio_buffer.append') {
      const audio = Buffer.from(event.audio, 'base64')
      this.appends++
      this.audioBytesReceived += audio.byteLength
      if (!this.#sessionUpdated) this.appendsBeforeSessionUpdate++
      if (this.#opts.recordAudio ?? true) this.#audio.push(audio)
      if (this.#opts.logAppends ?? true)
        this.#log({ atMs, event: { type: event.type, audio: '' }, audioBytes: audio.byteLength })
      this.#vad(audio)
      return
    }
    this.#log({ atMs, event })
    this.#handle(event, clientEventId)
  }

  #log(e: ReceivedEvent): void {
    this.received.push(e)
    this.emit('received', e)
  }

  #handle(ev: RealtimeClientEvent, clientEventId: string | undefined): void {
    switch (ev.type) {
      case 'session.update':
        return this.#sessionUpdate(ev.session as RealtimeSessionCreateRequest)
      case 'input_audio_buffer.commit':
        return this.#commit(this.#newItemId())
      case 'input_audio_buffer.clear':
        this.#speaking = false
        return this.#send({ type: 'input_audio_buffer.cleared', event_id: this.#eventId() })
      case 'conversation.item.create': {
        const id = ev.item.id ?? this.#newItemId()
        const role = ev.item.type === 'message' ? ev.item.role : 'tool'
        this.#items.set(id, { role: role as ItemInfo['role'], audioMs: 0 })
        const item = { ...ev.item, id, object: 'realtime.item', status: 'completed' } as ConversationItem
        this.#send(
          { type: 'conversation.item.added', event_id: this.#eventId(), item, previous_item_id: this.#lastItemId },
          { itemId: id }
        )
        this.#send(
          { type: 'conversation.item.done', event_id: this.#eventId(), item, previous_item_id: this.#lastItemId },
          { itemId: id }
        )
        this.#lastItemId = id
        return
      }
      case 'conversation.item.truncate':
        return this.#truncate(ev.item_id, ev.content_index, ev.audio_end_ms, clientEventId)
      case 'response.create':
        return this.#startResponse('client')
      case 'response.cancel': {
        const a = this.#active
        if (!a || (ev.response_id !== undefined && ev.response_id !== a.record.id)) {
          return this.#sendError(
            'response_cancel_not_active',
            'Cancellation failed: no active response found',
            undefined,
            clientEventId
          )
        }
        return this.#cancel('client_cancelled')
      }
      default:
        return
    }
  }

  #sessionUpdate(s: RealtimeSessionCreateRequest): void {
    const c = this.config
    const { audio, ...rest } = s
    Object.assign(c, rest)
    if (audio) {
      c.audio = {
        input: { ...c.audio?.input, ...audio.input },
        output: { ...c.audio?.output, ...audio.output }
      }
    }
    this.#sessionUpdated = true
    this.#winSamples = isPcmu(c.audio?.input?.format) ? 160 : 480
    this.#send({ type: 'session.updated', event_id: this.#eventId(), session: c })
  }

  /** Energy VAD over 20 ms windows of the received audio, driving speech_started/stopped like server VAD. */
  #vad(audio: Buffer): void {
    const format = this.config.audio?.input?.format
    const ulaw = isPcmu(format)
    const step = ulaw ? 1 : 2
    const windowMs = 20
    for (let i = 0; i + step <= audio.byteLength; i += step) {
      const s = ulaw ? ULAW_TO_LINEAR[audio[i]!]! : audio.readInt16LE(i)
      this.#winSum += s * s
      if (++this.#winCount === this.#winSamples) {
        const ms = this.#winSum / this.#winCount
        const dbfs = ms > 0 ? 10 * Math.log10(ms / (32768 * 32768)) : SILENCE_DBFS
        this.#winSum = 0
        this.#winCount = 0
        this.#audioMs += windowMs
        this.#vadWindow(dbfs > (this.#opts.vadThresholdDbfs ?? -45), windowMs)
      }
    }
  }

  #vadWindow(speech: boolean, windowMs: number): void {
    const td = this.config.audio?.input?.turn_detection
    if (!td) return
    if (!this.#speaking) {
      if (!speech) return
      this.#speaking = true
      this.#silenceRunMs = 0
      this.#speechItemId = this.#newItemId()
      const prefixMs = td.type === 'server_vad' ? (td.prefix_padding_ms ?? 300) : 300
      this.speechStartedSentAtMs.push(performance.now())
      this.#send(
        {
          type: 'input_audio_buffer.speech_started',
          event_id: this.#eventId(),
          audio_start_ms: Math.max(0, this.#audioMs - windowMs - prefixMs),
          item_id: this.#speechItemId
        },
        { itemId: this.#speechItemId }
      )
      if (td.interrupt_response !== false && this.#active) this.#cancel('turn_detected')
      return
    }
    if (speech) {
      this.#silenceRunMs = 0
      return
    }
    this.#silenceRunMs += windowMs
    const silenceMs = td.type === 'server_vad' ? (td.silence_duration_ms ?? 500) : 500
    if (this.#silenceRunMs < silenceMs) return
    this.#speaking = false
    // audio_end_ms includes the silence window (SDK docs for speech_stopped).
    this.#send(
      {
        type: 'input_audio_buffer.speech_stopped',
        event_id: this.#eventId(),
        audio_end_ms: this.#audioMs,
        item_id: this.#speechItemId
      },
      { itemId: this.#speechItemId }
    )
    this.#commit(this.#speechItemId)
    if (td.create_response !== false) this.#startResponse('vad')
  }

  #commit(itemId: string): void {
    const previous = this.#lastItemId
    this.#lastItemId = itemId
    this.#items.set(itemId, { role: 'user', audioMs: 0 })
    this.#send(
      { type: 'input_audio_buffer.committed', event_id: this.#eventId(), item_id: itemId, previous_item_id: previous },
      { itemId }
    )
    const item: ConversationItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'user',
      status: 'completed',
      content: [{ type: 'input_audio' }]
    }
    this.#send(
      { type: 'conversation.item.added', event_id: this.#eventId(), item, previous_item_id: previous },
      { itemId }
    )
    this.#send(
      { type: 'conversation.item.done', event_id: this.#eventId(), item, previous_item_id: previous },
      { itemId }
    )
    if (this.config.audio?.input?.transcription) {
      const text = this.#opts.callerText ?? 'Hello there.'
      this.#send(
        {
          type: 'conversation.item.input_audio_transcription.delta',
          event_id: this.#eventId(),
          item_id: itemId,
          content_index: 0,
          delta: text
        },
        { itemId }
      )
      this.#send(
        {
          type: 'conversation.item.input_audio_transcription.completed',
          event_id: this.#eventId(),
          item_id: itemId,
          content_index: 0,
          transcript: text,
          usage: { type: 'duration', seconds: 1 }
        },
        { itemId }
      )
    }
  }

  #startResponse(trigger: FakeResponse['trigger']): void {
    if (this.#active) {
      this.#sendError(
        'conversation_already_has_active_response',
        `Conversation already has an active response in progress: ${this.#active.record.id}. Wait until the response is finished before creating a new one.`
      )
      return
    }
    const index = this.responses.length
    const script = this.#scripts.shift() ?? this.#opts.script?.(this, index) ?? {}
    const id = `resp_${this.id.slice(10)}_${++this.#seq}`
    const itemId = this.#newItemId()
    const record: FakeResponse = {
      id,
      itemId,
      trigger,
      createdAtMs: performance.now(),
      firstDeltaSentAtMs: undefined,
      deltasSent: 0,
      deltasAfterCancel: 0,
      audioMsSent: 0,
      status: 'in_progress'
    }
    this.responses.push(record)
    const format = this.config.audio?.output?.format
    const textOnly = isTextOnly(this.config) && !script.silent
    const audio =
      script.silent || textOnly
        ? undefined
        : ((this.#opts.replyAudio && isPcmu(format) ? this.#opts.replyAudio : undefined) ??
          tone(script.durationMs ?? this.#opts.replyDurationMs ?? 1500, format))
    const chunkBytes = Math.max(1, Math.round((this.#opts.chunkMs ?? 100) * bytesPerMs(format)))
    const outputItem: ConversationItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'assistant',
      status: 'in_progress',
      content: []
    }
    const text = script.text ?? this.#opts.replyText ?? 'Sure, I can help with that.'
    const reply: ActiveReply = {
      record,
      audio,
      chunks: textOnly ? textDeltas(text) : audio ? chunksOf(audio, chunkBytes) : [],
      next: 0,
      text,
      script,
      timer: undefined,
      outputItem,
      textOnly
    }
    this.#active = reply
    this.#items.set(itemId, { role: 'assistant', audioMs: 0 })
    const response: RealtimeResponse = {
      id,
      object: 'realtime.response',
      status: 'in_progress',
      output: [],
      output_modalities: textOnly ? ['text'] : ['audio']
    }
    this.#send({ type: 'response.created', event_id: this.#eventId(), response }, { responseId: id })
    if (script.stall) {
      this.stall()
      return
    }
    if (audio || textOnly) {
      this.#send(
        {
          type: 'response.output_item.added',
          event_id: this.#eventId(),
          response_id: id,
          output_index: 0,
          item: outputItem
        },
        { responseId: id, itemId }
      )
      this.#send(
        {
          type: 'conversation.item.added',
          event_id: this.#eventId(),
          item: outputItem,
          previous_item_id: this.#lastItemId
        },
        { itemId }
      )
      this.#send(
        {
          type: 'response.content_part.added',
          event_id: this.#eventId(),
          response_id: id,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          part: textOnly ? { type: 'text', text: '' } : { type: 'audio', transcript: '' }
        },
        { responseId: id, itemId }
      )
      this.#lastItemId = itemId
    }
    reply.timer = setTimeout(() => this.#tick(reply), this.#opts.firstDeltaDelayMs ?? 0)
  }

  #tick(reply: ActiveReply): void {
    reply.timer = undefined
    if (this.#active !== reply) return
    if (reply.next < reply.chunks.length) {
      this.#sendDelta(reply)
      const drop = reply.script.dropAfterDeltas
      if (drop !== undefined && reply.record.deltasSent >= drop) {
        this.drop()
        return
      }
      if (reply.next < reply.chunks.length) {
        const intervalMs = reply.textOnly
          ? (this.#opts.textDeltaIntervalMs ?? 10)
          : (this.#opts.chunkMs ?? 100) / (this.#opts.speedFactor ?? 4)
        reply.timer = setTimeout(() => this.#tick(reply), intervalMs)
        return
      }
    }
    this.#finish(reply)
  }

  #sendDelta(reply: ActiveReply): void {
    if (reply.textOnly) return this.#sendTextDelta(reply)
    const r = reply.record
    const i = reply.next++
    // A delta of a cancelled response is made of one marker byte, so a simulated caller can tell if it was heard.
    const chunk =
      r.status === 'cancelled'
        ? Buffer.alloc(Buffer.byteLength(reply.chunks[i]!, 'base64'), CANCELLED_AUDIO_BYTE).toString('base64')
        : reply.chunks[i]!
    const chunkMs = Buffer.byteLength(chunk, 'base64') / bytesPerMs(this.config.audio?.output?.format)
    const delta: ResponseAudioDeltaEvent = {
      type: 'response.output_audio.delta',
      event_id: this.#eventId(),
      response_id: r.id,
      item_id: r.itemId,
      output_index: 0,
      content_index: 0,
      delta: chunk
    }
    if (this.#stalled || this.#ws.readyState !== WebSocket.OPEN) return
    this.#ws.send(JSON.stringify(delta))
    if (r.firstDeltaSentAtMs === undefined) {
      r.firstDeltaSentAtMs = performance.now()
      this.sent.push({ atMs: r.firstDeltaSentAtMs, type: delta.type, responseId: r.id, itemId: r.itemId })
    }
    r.deltasSent++
    if (r.status === 'cancelled') r.deltasAfterCancel++
    r.audioMsSent += chunkMs
    this.#items.get(r.itemId)!.audioMs += chunkMs
    // The transcript streams alongside the audio, a share of the words per chunk.
    const words = reply.text.split(' ')
    const from = Math.floor((i * words.length) / reply.chunks.length)
    const to = Math.floor(((i + 1) * words.length) / reply.chunks.length)
    if (to > from && r.status === 'in_progress') {
      const text = (from > 0 ? ' ' : '') + words.slice(from, to).join(' ')
      this.#ws.send(
        JSON.stringify({
          type: 'response.output_audio_transcript.delta',
          event_id: this.#eventId(),
          response_id: r.id,
          item_id: r.itemId,
          output_index: 0,
          content_index: 0,
          delta: text
        } satisfies RealtimeServerEvent)
      )
    }
  }

  #sendTextDelta(reply: ActiveReply): void {
    const r = reply.record
    const text = reply.chunks[reply.next++]!
    // Text of a cancelled response is made of marker characters (the TTS fake speaks them as marker audio).
    const delta = r.status === 'cancelled' ? '~'.repeat(Math.max(1, text.trim().length)) + ' ' : text
    if (this.#stalled || this.#ws.readyState !== WebSocket.OPEN) return
    this.#ws.send(
      JSON.stringify({
        type: 'response.output_text.delta',
        event_id: this.#eventId(),
        response_id: r.id,
        item_id: r.itemId,
        output_index: 0,
        content_index: 0,
        delta
      } satisfies RealtimeServerEvent)
    )
    if (r.firstDeltaSentAtMs === undefined) {
      r.firstDeltaSentAtMs = performance.now()
      this.sent.push({
        atMs: r.firstDeltaSentAtMs,
        type: 'response.output_text.delta',
        responseId: r.id,
        itemId: r.itemId
      })
    }
    r.deltasSent++
    if (r.status === 'cancelled') r.deltasAfterCancel++
  }

  #finish(reply: ActiveReply): void {
    const r = reply.record
    const base = { response_id: r.id, item_id: r.itemId, output_index: 0, content_index: 0 }
    const output: ConversationItem[] = []
    if (reply.textOnly) {
      const ids = { responseId: r.id, itemId: r.itemId }
      this.#send({ type: 'response.output_text.done', event_id: this.#eventId(), ...base, text: reply.text }, ids)
      this.#send(
        {
          type: 'response.content_part.done',
          event_id: this.#eventId(),
          ...base,
          part: { type: 'text', text: reply.text }
        },
        ids
      )
      const item: ConversationItem = {
        ...reply.outputItem,
        status: 'completed',
        content: [{ type: 'output_text', text: reply.text }]
      } as ConversationItem
      this.#send(
        { type: 'response.output_item.done', event_id: this.#eventId(), response_id: r.id, output_index: 0, item },
        ids
      )
      this.#send({ type: 'conversation.item.done', event_id: this.#eventId(), item }, ids)
      output.push(item)
    }
    if (reply.audio) {
      const ids = { responseId: r.id, itemId: r.itemId }
      this.#send({ type: 'response.output_audio.done', event_id: this.#eventId(), ...base }, ids)
      this.#send(
        { type: 'response.output_audio_transcript.done', event_id: this.#eventId(), ...base, transcript: reply.text },
        ids
      )
      this.#send(
        {
          type: 'response.content_part.done',
          event_id: this.#eventId(),
          ...base,
          part: { type: 'audio', transcript: reply.text }
        },
        ids
      )
      const item: ConversationItem = {
        ...reply.outputItem,
        status: 'completed',
        content: [{ type: 'output_audio', transcript: reply.text }]
      } as ConversationItem
      this.#send(
        { type: 'response.output_item.done', event_id: this.#eventId(), response_id: r.id, output_index: 0, item },
        ids
      )
      this.#send({ type: 'conversation.item.done', event_id: this.#eventId(), item }, ids)
      output.push(item)
    }
    if (reply.script.endCall) output.push(this.#functionCall(r, output.length))
    r.status = 'completed'
    this.#active = undefined
    this.#send(
      {
        type: 'response.done',
        event_id: this.#eventId(),
        response: {
          id: r.id,
          object: 'realtime.response',
          status: 'completed',
          status_details: { type: 'completed' },
          output,
          output_modalities: reply.textOnly ? ['text'] : ['audio'],
          usage: { total_tokens: 100, input_tokens: 60, output_tokens: 40 }
        }
      },
      { responseId: r.id }
    )
    this.#send({
      type: 'rate_limits.updated',
      event_id: this.#eventId(),
      rate_limits: [{ name: 'tokens', limit: 40000, remaining: 39900, reset_seconds: 0.15 }]
    })
  }

  #functionCall(r: FakeResponse, outputIndex: number): ConversationItem {
    const itemId = this.#newItemId()
    const callId = `call_${this.id.slice(10)}_${++this.#seq}`
    r.functionCallId = callId
    const args = JSON.stringify({ reason: 'caller said goodbye' })
    const added: ConversationItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'function_call',
      status: 'in_progress',
      name: 'end_call',
      call_id: callId,
      arguments: ''
    }
    const done: ConversationItem = { ...added, status: 'completed', arguments: args }
    const ids = { responseId: r.id, itemId }
    const base = { response_id: r.id, item_id: itemId, output_index: outputIndex, call_id: callId }
    this.#send(
      {
        type: 'response.output_item.added',
        event_id: this.#eventId(),
        response_id: r.id,
        output_index: outputIndex,
        item: added
      },
      ids
    )
    this.#send(
      { type: 'conversation.item.added', event_id: this.#eventId(), item: added, previous_item_id: this.#lastItemId },
      ids
    )
    this.#send({ type: 'response.function_call_arguments.delta', event_id: this.#eventId(), ...base, delta: args }, ids)
    this.#send(
      {
        type: 'response.function_call_arguments.done',
        event_id: this.#eventId(),
        ...base,
        name: 'end_call',
        arguments: args
      },
      ids
    )
    this.#send(
      {
        type: 'response.output_item.done',
        event_id: this.#eventId(),
        response_id: r.id,
        output_index: outputIndex,
        item: done
      },
      ids
    )
    this.#send({ type: 'conversation.item.done', event_id: this.#eventId(), item: done }, ids)
    this.#items.set(itemId, { role: 'tool', audioMs: 0 })
    this.#lastItemId = itemId
    return done
  }

  #cancel(reason: 'turn_detected' | 'client_cancelled'): void {
    const reply = this.#active
    if (!reply) return
    clearTimeout(reply.timer)
    const r = reply.record
    r.status = 'cancelled'
    r.cancelReason = reason
    // Deltas already on their way when the cancel was processed.
    const late = Math.min(this.#opts.lateDeltasAfterCancel ?? 0, reply.chunks.length - reply.next)
    for (let i = 0; i < late; i++) this.#sendDelta(reply)
    this.#active = undefined
    const output: ConversationItem[] = []
    if (reply.audio || reply.textOnly) {
      const item = { ...reply.outputItem, status: 'incomplete' } as ConversationItem
      this.#send(
        { type: 'response.output_item.done', event_id: this.#eventId(), response_id: r.id, output_index: 0, item },
        { responseId: r.id, itemId: r.itemId }
      )
      this.#send({ type: 'conversation.item.done', event_id: this.#eventId(), item }, { itemId: r.itemId })
      output.push(item)
    }
    this.#send(
      {
        type: 'response.done',
        event_id: this.#eventId(),
        response: {
          id: r.id,
          object: 'realtime.response',
          status: 'cancelled',
          status_details: { type: 'cancelled', reason },
          output
        }
      },
      { responseId: r.id }
    )
  }

  #truncate(itemId: string, contentIndex: number, audioEndMs: number, clientEventId: string | undefined): void {
    const item = this.#items.get(itemId)
    const atMs = performance.now()
    if (!item || item.role !== 'assistant') {
      this.truncations.push({ atMs, itemId, audioEndMs, accepted: false })
      return this.#sendError(
        'invalid_value',
        `Item with item_id '${itemId}' has no assistant audio.`,
        'item_id',
        clientEventId
      )
    }
    if (contentIndex !== 0) {
      this.truncations.push({ atMs, itemId, audioEndMs, accepted: false })
      return this.#sendError('invalid_value', 'Only content_index 0 has audio.', 'content_index', clientEventId)
    }
    // The service refuses a position past the audio it produced (PROTOCOLS.md §4.5).
    if (audioEndMs > Math.round(item.audioMs)) {
      this.truncations.push({ atMs, itemId, audioEndMs, accepted: false })
      return this.#sendError(
        'invalid_value',
        `Audio content of ${Math.round(item.audioMs)}ms is already shorter than ${audioEndMs}ms`,
        'audio_end_ms',
        clientEventId
      )
    }
    item.audioMs = audioEndMs
    this.truncations.push({ atMs, itemId, audioEndMs, accepted: true })
    this.#send(
      {
        type: 'conversation.item.truncated',
        event_id: this.#eventId(),
        item_id: itemId,
        content_index: 0,
        audio_end_ms: audioEndMs
      },
      { itemId }
    )
  }

  #stopReply(): void {
    if (this.#active) clearTimeout(this.#active.timer)
  }
}

/** The fake service: `http://127.0.0.1:<port>/v1` as OPENAI_BASE_URL, WebSocket upgrades on `/v1/realtime`. */
export class FakeRealtimeServer extends EventEmitter<{ session: [FakeRealtimeSession] }> {
  readonly sessions: FakeRealtimeSession[] = []
  /** Connections refused for sending the retired beta header. */
  betaRefused = 0
  readonly options: FakeRealtimeOptions
  readonly #http: Server
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  readonly #sockets = new Set<Socket>()

  private constructor(options: FakeRealtimeOptions) {
    super()
    this.options = options
    this.#http = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error' } }))
    })
    this.#http.on('connection', (s) => {
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
    })
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head))
  }

  static async start(options: FakeRealtimeOptions = {}): Promise<FakeRealtimeServer> {
    const server = new FakeRealtimeServer(options)
    await new Promise<void>((resolve) => server.#http.listen(0, '127.0.0.1', resolve))
    return server
  }

  get port(): number {
    return (this.#http.address() as AddressInfo).port
  }

  /** What OPENAI_BASE_URL should be. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`
  }

  /** Resolves with session number `index` (0-based) once it has connected. */
  sessionAt(index: number): Promise<FakeRealtimeSession> {
    const s = this.sessions[index]
    if (s) return Promise.resolve(s)
    return new Promise((resolve) => {
      const on = (): void => {
        const found = this.sessions[index]
        if (!found) return
        this.off('session', on)
        resolve(found)
      }
      this.on('session', on)
    })
  }

  /** The session opened for a call (our client sends the call id as X-Client-Request-Id). */
  sessionFor(callId: string): FakeRealtimeSession | undefined {
    return this.sessions.find((s) => s.clientRequestId === callId)
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate()
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()))
    await new Promise<void>((resolve) => this.#http.close(() => resolve()))
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (url.pathname !== '/v1/realtime') return reject(404, 'Not Found')
    const auth = req.headers.authorization
    if (!auth || !/^Bearer \S+$/.test(auth)) return reject(401, 'Unauthorized')
    const model = url.searchParams.get('model')
    if (!model) return reject(400, 'Bad Request')
    const beta = req.headers['openai-beta']
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (typeof beta === 'string' && beta.includes('realtime=v1')) {
        // What the service does since the beta shutdown (PROTOCOLS.md §4.1): upgrade, error event, close 4000.
        this.betaRefused++
        const error: RealtimeServerEvent = {
          type: 'error',
          event_id: 'event_beta_refused',
          error: {
            type: 'invalid_request_error',
            code: 'beta_api_shape_disabled',
            message: 'The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.',
            param: null,
            event_id: null
          }
        }
        ws.send(JSON.stringify(error))
        ws.close(4000, 'invalid_request_error.beta_api_shape_disabled')
        return
      }
      const session = new FakeRealtimeSession(ws, req, model, this.options)
      this.sessions.push(session)
      this.emit('session', session)
    })
  }
}
