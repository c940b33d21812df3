/** Twilio Media Streams wire protocol: the only module that knows Twilio's JSON (PROTOCOLS.md §1.3–1.5). */

/** Largest inbound text frame we parse; a 20 ms media frame is ~300 bytes, a start with parameters a few KiB. */
export const MAX_MESSAGE_BYTES = 64 * 1024
/** Largest decoded `media.payload`: 16 KiB of μ-law is 2 s of audio, far above Twilio's 160-byte frames. */
export const MAX_PAYLOAD_BYTES = 16 * 1024

export type ProtocolErrorCode =
  'too_large' | 'binary_frame' | 'invalid_json' | 'invalid_message' | 'unknown_event' | 'invalid_field' | 'bad_base64'

/** What parsing returns for input it refuses. Never thrown. */
export interface ProtocolError {
  readonly kind: 'error'
  readonly code: ProtocolErrorCode
  readonly message: string
  /** The event name, when the JSON carried one. */
  readonly event?: string
}

export interface MediaFormat {
  /** Always `audio/x-mulaw` today. */
  readonly encoding: string
  readonly sampleRateHz: number
  readonly channels: number
}

export interface ConnectedMessage {
  readonly kind: 'connected'
  readonly protocol: string | undefined
  readonly version: string | undefined
}

export interface StartMessage {
  readonly kind: 'start'
  readonly sequenceNumber: number | undefined
  readonly streamSid: string
  readonly callSid: string
  readonly accountSid: string | undefined
  readonly tracks: readonly string[]
  /** `<Parameter>` values from the TwiML, a flat string map. */
  readonly customParameters: Readonly<Record<string, string>>
  readonly mediaFormat: MediaFormat
}

export interface MediaMessage {
  readonly kind: 'media'
  readonly sequenceNumber: number | undefined
  readonly streamSid: string
  readonly track: string
  /** Counts from 1, one per frame Twilio sent; a gap means lost frames. */
  readonly chunk: number
  /** Milliseconds since the stream began. */
  readonly timestampMs: number
  /** Raw μ-law bytes, decoded from base64. */
  readonly payload: Uint8Array
}

export interface DtmfMessage {
  readonly kind: 'dtmf'
  readonly sequenceNumber: number | undefined
  readonly streamSid: string
  readonly track: string | undefined
  readonly digit: string
}

export interface MarkMessage {
  readonly kind: 'mark'
  readonly sequenceNumber: number | undefined
  readonly streamSid: string
  readonly name: string
}

export interface StopMessage {
  readonly kind: 'stop'
  readonly sequenceNumber: number | undefined
  readonly streamSid: string
  readonly callSid: string | undefined
  readonly accountSid: string | undefined
}

export type ParsedMessage = ConnectedMessage | StartMessage | MediaMessage | DtmfMessage | MarkMessage | StopMessage

export function isProtocolError(value: ParsedMessage | ProtocolError): value is ProtocolError {
  return value.kind === 'error'
}

type Json = Record<string, unknown>

// Internal control flow only: parse helpers throw this and parseTwilioMessage turns it into a value.
class Reject {
  readonly code: ProtocolErrorCode
  readonly message: string
  constructor(code: ProtocolErrorCode, message: string) {
    this.code = code
    this.message = message
  }
}

function fail(code: ProtocolErrorCode, message: string, event?: string): ProtocolError {
  return event === undefined ? { kind: 'error', code, message } : { kind: 'error', code, message, event }
}

// Twilio SIDs are two letters and 32 hex digits; we accept any short token of safe characters so that the
// builders can put a SID into JSON without escaping.
const SID_RE = /^[A-Za-z0-9_-]{1,64}$/
const DIGITS_RE = /^\d{1,15}$/
const DTMF_RE = /^[0-9*#A-Da-d]$/
const MAX_TEXT_FIELD = 1024

function objectField(o: Json, key: string): Json {
  const v = o[key]
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Reject('invalid_field', `${key} must be an object`)
  return v as Json
}

function stringField(o: Json, key: string, maxLength = MAX_TEXT_FIELD): string {
  const v = o[key]
  if (typeof v !== 'string') throw new Reject('invalid_field', `${key} must be a string`)
  if (v.length > maxLength) throw new Reject('invalid_field', `${key} is too long`)
  return v
}

function optionalString(o: Json, key: string): string | undefined {
  return o[key] === undefined ? undefined : stringField(o, key)
}

function sidField(o: Json, key: string): string {
  const v = o[key]
  if (typeof v !== 'string' || !SID_RE.test(v)) throw new Reject('invalid_field', `${key} must be a SID`)
  return v
}

function optionalSid(o: Json, key: string): string | undefined {
  return o[key] === undefined ? undefined : sidField(o, key)
}

// Twilio sends counters as decimal strings; a plain non-negative integer is accepted too.
function counterField(o: Json, key: string): number {
  const v = o[key]
  if (typeof v === 'string' && DIGITS_RE.test(v)) return Number(v)
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  throw new Reject('invalid_field', `${key} must be a non-negative integer string`)
}

function optionalCounter(o: Json, key: string): number | undefined {
  return o[key] === undefined ? undefined : counterField(o, key)
}

function streamSidOf(msg: Json): string {
  return sidField(msg, 'streamSid')
}

function parseStart(msg: Json): StartMessage {
  const start = objectField(msg, 'start')
  const streamSid = msg.streamSid === undefined ? sidField(start, 'streamSid') : streamSidOf(msg)
  const tracksRaw = start.tracks
  let tracks: string[] = ['inbound']
  if (tracksRaw !== undefined) {
    if (
      !Array.isArray(tracksRaw) ||
      tracksRaw.length > 4 ||
      !tracksRaw.every((t) => typeof t === 'string' && t.length <= 32)
    ) {
      throw new Reject('invalid_field', 'tracks must be a list of track names')
    }
    tracks = tracksRaw as string[]
  }
  let customParameters: Record<string, string> = {}
  if (start.customParameters !== undefined) {
    const raw = objectField(start, 'customParameters')
    const entries = Object.entries(raw)
    for (const [, value] of entries) {
      if (typeof value !== 'string') throw new Reject('invalid_field', 'customParameters values must be strings')
    }
    // fromEntries defines own properties, so a "__proto__" key cannot reach the prototype.
    customParameters = Object.fromEntries(entries) as Record<string, string>
  }
  const format = objectField(start, 'mediaFormat')
  const sampleRateHz = format.sampleRate
  const channels = format.channels
  if (typeof sampleRateHz !== 'number' || !Number.isInteger(sampleRateHz) || sampleRateHz <= 0) {
    throw new Reject('invalid_field', 'mediaFormat.sampleRate must be a positive integer')
  }
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels <= 0) {
    throw new Reject('invalid_field', 'mediaFormat.channels must be a positive integer')
  }
  return {
    kind: 'start',
    sequenceNumber: optionalCounter(msg, 'sequenceNumber'),
    streamSid,
    callSid: sidField(start, 'callSid'),
    accountSid: optionalSid(start, 'accountSid'),
    tracks,
    customParameters,
    mediaFormat: { encoding: stringField(format, 'encoding', 64), sampleRateHz, channels }
  }
}

/**
 * Standard base64 with padding, as Twilio sends it. `Buffer.from(…, 'base64')` skips characters outside the
 * alphabet and stops at a `=` before the end, so any such junk leaves the result shorter than the length says;
 * it also reads the URL-safe `-` and `_`, refused here. (A regular expression did this at 2 % of the bridge's CPU.)
 */
function decodePayload(b64: string): Uint8Array {
  if (b64.length % 4 !== 0) throw new Reject('bad_base64', 'media.payload is not valid base64')
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0
  const size = (b64.length / 4) * 3 - padding
  if (size > MAX_PAYLOAD_BYTES) throw new Reject('too_large', 'media.payload is too large')
  const bytes = Buffer.from(b64, 'base64')
  if (bytes.length !== size || b64.includes('-') || b64.includes('_'))
    throw new Reject('bad_base64', 'media.payload is not valid base64')
  return bytes
}

function parseMedia(msg: Json): MediaMessage {
  const media = objectField(msg, 'media')
  const payloadB64 = media.payload
  if (typeof payloadB64 !== 'string') throw new Reject('invalid_field', 'payload must be a string')
  const track = media.track
  if (track !== undefined && (typeof track !== 'string' || track.length > 32)) {
    throw new Reject('invalid_field', 'track must be a string')
  }
  return {
    kind: 'media',
    sequenceNumber: optionalCounter(msg, 'sequenceNumber'),
    streamSid: streamSidOf(msg),
    track: track ?? 'inbound',
    chunk: counterField(media, 'chunk'),
    timestampMs: counterField(media, 'timestamp'),
    payload: decodePayload(payloadB64)
  }
}

function parseDtmf(msg: Json): DtmfMessage {
  const dtmf = objectField(msg, 'dtmf')
  const digit = dtmf.digit
  if (typeof digit !== 'string' || !DTMF_RE.test(digit))
    throw new Reject('invalid_field', 'digit must be one of 0-9 * # A-D')
  return {
    kind: 'dtmf',
    sequenceNumber: optionalCounter(msg, 'sequenceNumber'),
    streamSid: streamSidOf(msg),
    track: optionalString(dtmf, 'track'),
    digit
  }
}

function parseMark(msg: Json): MarkMessage {
  const mark = objectField(msg, 'mark')
  return {
    kind: 'mark',
    sequenceNumber: optionalCounter(msg, 'sequenceNumber'),
    streamSid: streamSidOf(msg),
    name: stringField(mark, 'name', 256)
  }
}

function parseStop(msg: Json): StopMessage {
  const stop = msg.stop === undefined ? {} : objectField(msg, 'stop')
  return {
    kind: 'stop',
    sequenceNumber: optionalCounter(msg, 'sequenceNumber'),
    streamSid: streamSidOf(msg),
    callSid: optionalSid(stop, 'callSid'),
    accountSid: optionalSid(stop, 'accountSid')
  }
}

function parseConnected(msg: Json): ConnectedMessage {
  return { kind: 'connected', protocol: optionalString(msg, 'protocol'), version: optionalString(msg, 'version') }
}

function dispatch(event: string, msg: Json): ParsedMessage | ProtocolError {
  switch (event) {
    case 'media':
      return parseMedia(msg)
    case 'mark':
      return parseMark(msg)
    case 'start':
      return parseStart(msg)
    case 'dtmf':
      return parseDtmf(msg)
    case 'stop':
      return parseStop(msg)
    case 'connected':
      return parseConnected(msg)
    default:
      return fail('unknown_event', 'unknown event', event.length <= 64 ? event : event.slice(0, 64))
  }
}

/**
 * Parses one text frame from Twilio. Strict on the fields we use, tolerant of extra ones.
 * Returns a ProtocolError for anything malformed; never throws.
 */
export function parseTwilioMessage(text: string | Uint8Array): ParsedMessage | ProtocolError {
  // Measure before decoding so that a huge frame costs nothing beyond its arrival.
  const size = typeof text === 'string' ? text.length : text.byteLength
  if (size > MAX_MESSAGE_BYTES) return fail('too_large', `message exceeds ${MAX_MESSAGE_BYTES} bytes`)
  const str =
    typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8')
  let msg: unknown
  try {
    msg = JSON.parse(str)
  } catch {
    return fail('invalid_json', 'message is not valid JSON')
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return fail('invalid_message', 'message must be a JSON object')
  const event = (msg as Json).event
  if (typeof event !== 'string') return fail('invalid_message', 'event must be a string')
  try {
    return dispatch(event, msg as Json)
  } catch (err) {
    if (err instanceof Reject) return fail(err.code, err.message, event)
    return fail('invalid_message', 'message could not be parsed', event)
  }
}

/** The error to answer a binary WebSocket frame with: Twilio only sends text frames. */
export const BINARY_FRAME_ERROR: ProtocolError = Object.freeze({
  kind: 'error',
  code: 'binary_frame',
  message: 'binary frames are not part of the Media Streams protocol'
})

let lastCheckedSid = ''

function checkSid(streamSid: string): void {
  if (streamSid === lastCheckedSid) return
  if (!SID_RE.test(streamSid)) throw new TypeError('streamSid must be a SID')
  lastCheckedSid = streamSid
}

/** `media` to Twilio: raw μ-law 8 kHz, no header bytes, no `track` field. */
export function buildMedia(streamSid: string, payload: Uint8Array): string {
  checkSid(streamSid)
  const b64 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64')
  return `{"event":"media","streamSid":"${streamSid}","media":{"payload":"${b64}"}}`
}

/** `mark` to Twilio: echoed back when all media queued before it has played. */
export function buildMark(streamSid: string, name: string): string {
  checkSid(streamSid)
  return `{"event":"mark","streamSid":"${streamSid}","mark":{"name":${JSON.stringify(name)}}}`
}

/** `clear` to Twilio: drops queued audio and echoes every pending mark. */
export function buildClear(streamSid: string): string {
  checkSid(streamSid)
  return `{"event":"clear","streamSid":"${streamSid}"}`
}
