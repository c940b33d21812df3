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
 *
 * `media` and `mark` frames as Twilio writes them (flat JSON, plain ASCII strings) are read straight from the
 * bytes (`readMediaOrMark`); everything else, and anything unusual about those, goes through `JSON.parse`. Both
 * give the same result for every input (a differential test holds them to it).
 */
export function parseTwilioMessage(text: string | Uint8Array, sids?: SidCache): ParsedMessage | ProtocolError {
  if (typeof text !== 'string' && text.byteLength <= MAX_MESSAGE_BYTES) {
    const fast = readMediaOrMark(text, sids)
    if (fast !== undefined) return fast
  }
  return parseTwilioJson(text)
}

/** The `JSON.parse` path alone, for any input (exported for the differential test). */
export function parseTwilioJson(text: string | Uint8Array): ParsedMessage | ProtocolError {
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

// ---- Fast path: `media` and `mark` frames read from the bytes ----------------------------------------------------
//
// At 50 frames a second per call, JSON.parse was the bridge's largest single cost: it decodes the frame to a
// string, interns every key and short value in V8's string table and builds two objects, only for us to read five
// fields and decode the base64. This reader walks the UTF-8 bytes once. It accepts a strict subset of JSON: an object
// of string values with at most one nested object (`media` or `mark`) of string values, plain ASCII strings without
// escapes, each known key at most once. Anything outside that subset (escapes, numbers, arrays, other events,
// duplicate keys, a base64 payload that is not canonical, missing fields, trailing bytes) returns undefined and the
// caller takes the JSON path, which gives the answer or the error. So the reader never decides that input is bad.

/** Remembers the last stream SID a connection used, so that its frames do not each allocate the same string. */
export interface SidCache {
  sid: string
}

const QUOTE = 0x22
const COLON = 0x3a
const COMMA = 0x2c
const OPEN = 0x7b
const CLOSE = 0x7d

// Key ids: top level, then inside `media`, then inside `mark`.
const K_OTHER = 0
const K_EVENT = 1
const K_SEQ = 2
const K_SID = 3
const K_MEDIA = 4
const K_MARK = 5
const K_TRACK = 6
const K_CHUNK = 7
const K_TIMESTAMP = 8
const K_PAYLOAD = 9
const K_NAME = 10
const KEY_COUNT = 11

interface KeyDef {
  readonly id: number
  readonly bytes: Uint8Array
}
const keyBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const key = (id: number, name: string): KeyDef => ({ id, bytes: keyBytes(name) })
const TOP_KEYS: readonly KeyDef[] = [
  key(K_EVENT, 'event'),
  key(K_SEQ, 'sequenceNumber'),
  key(K_SID, 'streamSid'),
  key(K_MEDIA, 'media'),
  key(K_MARK, 'mark')
]
const MEDIA_KEYS: readonly KeyDef[] = [
  key(K_TRACK, 'track'),
  key(K_CHUNK, 'chunk'),
  key(K_TIMESTAMP, 'timestamp'),
  key(K_PAYLOAD, 'payload')
]
const MARK_KEYS: readonly KeyDef[] = [key(K_NAME, 'name')]
const EVENT_MEDIA = keyBytes('media')
const EVENT_MARK = keyBytes('mark')
const TRACK_INBOUND = keyBytes('inbound')

/** Base64 alphabet → 6-bit value; -1 elsewhere (`=` included, handled apart). */
const B64 = new Int8Array(256).fill(-1)
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i

// Value ranges found by the last read: start and end (exclusive) byte offsets per key id, -1 when absent.
const starts = new Int32Array(KEY_COUNT)
const ends = new Int32Array(KEY_COUNT)

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++
  return i
}

/** Index of the closing quote of a plain string whose opening quote is at b[i - 1]; -1 if not plain ASCII. */
function stringEnd(b: Uint8Array, i: number): number {
  for (; i < b.length; i++) {
    const c = b[i]!
    if (c === QUOTE) return i
    if (c === 0x5c || c < 0x20 || c >= 0x80) return -1
  }
  return -1
}

function keyId(b: Uint8Array, s: number, e: number, keys: readonly KeyDef[]): number {
  for (let k = 0; k < keys.length; k++) if (bytesEqual(b, s, e, keys[k]!.bytes)) return keys[k]!.id
  return K_OTHER
}

function bytesEqual(b: Uint8Array, s: number, e: number, k: Uint8Array): boolean {
  if (e - s !== k.length) return false
  for (let j = 0; j < k.length; j++) if (b[s + j] !== k[j]) return false
  return true
}

/**
 * Reads the members of an object whose `{` is at b[i - 1], recording known keys' string ranges. Returns the index
 * after its `}`, or -1 to hand the frame to the JSON path. `nested` reads one level of object values.
 */
function readObject(b: Uint8Array, i: number, keys: readonly KeyDef[], nested: boolean): number {
  i = skipSpace(b, i)
  if (b[i] === CLOSE) return i + 1
  for (;;) {
    if (b[i] !== QUOTE) return -1
    const ks = i + 1
    const ke = stringEnd(b, ks)
    if (ke < 0) return -1
    const id = keyId(b, ks, ke, keys)
    i = skipSpace(b, ke + 1)
    if (b[i] !== COLON) return -1
    i = skipSpace(b, i + 1)
    if (b[i] === QUOTE) {
      const vs = i + 1
      // The payload's bytes are all checked by the base64 decoder, which refuses `\\`, so its first quote ends it.
      const ve = id === K_PAYLOAD ? b.indexOf(QUOTE, vs) : stringEnd(b, vs)
      if (ve < 0 || id === K_MEDIA || id === K_MARK) return -1
      if (id !== K_OTHER) {
        if (starts[id] !== -1) return -1
        starts[id] = vs
        ends[id] = ve
      }
      i = ve + 1
    } else if (b[i] === OPEN && nested && (id === K_MEDIA || id === K_MARK)) {
      if (starts[id] !== -1) return -1
      starts[id] = i
      i = readObject(b, i + 1, id === K_MEDIA ? MEDIA_KEYS : MARK_KEYS, false)
      if (i < 0) return -1
      ends[id] = i
    } else {
      return -1
    }
    i = skipSpace(b, i)
    if (b[i] === CLOSE) return i + 1
    if (b[i] !== COMMA) return -1
    i = skipSpace(b, i + 1)
  }
}

/** 1–15 ASCII digits as a number, else -1. */
function readCounter(b: Uint8Array, id: number): number {
  const s = starts[id]!
  const e = ends[id]!
  if (e - s < 1 || e - s > 15) return -1
  let v = 0
  for (let j = s; j < e; j++) {
    const d = b[j]! - 0x30
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/** A SID as sidField accepts it (1–64 of [A-Za-z0-9_-]), reusing the cached string when the bytes match. */
function readSid(b: Uint8Array, sids: SidCache | undefined): string | undefined {
  const s = starts[K_SID]!
  const e = ends[K_SID]!
  const n = e - s
  if (n < 1 || n > 64) return undefined
  const cached = sids?.sid
  let same = cached !== undefined && cached.length === n
  for (let j = 0; j < n; j++) {
    const c = b[s + j]!
    const ok =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d
    if (!ok) return undefined
    if (same && cached!.charCodeAt(j) !== c) same = false
  }
  if (same) return cached
  const sid = Buffer.from(b.buffer, b.byteOffset + s, n).toString('latin1')
  if (sids) sids.sid = sid
  return sid
}

/** Canonical padded standard base64 decoded, or undefined (the JSON path then gives the error, if any). */
function readPayload(b: Uint8Array): Uint8Array | undefined {
  const s = starts[K_PAYLOAD]!
  const n = ends[K_PAYLOAD]! - s
  if (n === 0 || n % 4 !== 0) return undefined
  const padding = b[s + n - 1] === 0x3d ? (b[s + n - 2] === 0x3d ? 2 : 1) : 0
  const size = (n / 4) * 3 - padding
  if (size > MAX_PAYLOAD_BYTES) return undefined
  const out = Buffer.allocUnsafe(size)
  const full = n - (padding > 0 ? 4 : 0)
  let o = 0
  for (let j = s; j < s + full; j += 4) {
    const a = B64[b[j]!]!
    const c1 = B64[b[j + 1]!]!
    const c2 = B64[b[j + 2]!]!
    const c3 = B64[b[j + 3]!]!
    if ((a | c1 | c2 | c3) < 0) return undefined
    out[o++] = (a << 2) | (c1 >> 4)
    out[o++] = ((c1 & 15) << 4) | (c2 >> 2)
    out[o++] = ((c2 & 3) << 6) | c3
  }
  if (padding > 0) {
    const j = s + full
    const a = B64[b[j]!]!
    const c1 = B64[b[j + 1]!]!
    const c2 = padding === 1 ? B64[b[j + 2]!]! : 0
    if ((a | c1 | c2) < 0) return undefined
    out[o] = (a << 2) | (c1 >> 4)
    if (padding === 1) out[o + 1] = ((c1 & 15) << 4) | (c2 >> 2)
  }
  return out
}

/** The fast path alone: a `media` or `mark` frame it could read, or undefined (exported for the differential test). */
export function readMediaOrMark(b: Uint8Array, sids?: SidCache): MediaMessage | MarkMessage | undefined {
  starts.fill(-1)
  let i = skipSpace(b, 0)
  if (b[i] !== OPEN) return undefined
  i = readObject(b, i + 1, TOP_KEYS, true)
  if (i < 0 || skipSpace(b, i) !== b.length) return undefined
  if (starts[K_EVENT] === -1 || starts[K_SID] === -1) return undefined
  let sequenceNumber: number | undefined
  if (starts[K_SEQ] !== -1) {
    sequenceNumber = readCounter(b, K_SEQ)
    if (sequenceNumber < 0) return undefined
  }
  const eventStart = starts[K_EVENT]!
  const eventEnd = ends[K_EVENT]!
  if (bytesEqual(b, eventStart, eventEnd, EVENT_MEDIA)) {
    if (starts[K_MEDIA] === -1 || starts[K_PAYLOAD] === -1 || starts[K_CHUNK] === -1 || starts[K_TIMESTAMP] === -1)
      return undefined
    const chunk = readCounter(b, K_CHUNK)
    const timestampMs = readCounter(b, K_TIMESTAMP)
    if (chunk < 0 || timestampMs < 0) return undefined
    let track = 'inbound'
    if (starts[K_TRACK] !== -1) {
      const ts = starts[K_TRACK]!
      const te = ends[K_TRACK]!
      if (te - ts > 32) return undefined
      if (!bytesEqual(b, ts, te, TRACK_INBOUND))
        track = Buffer.from(b.buffer, b.byteOffset + ts, te - ts).toString('latin1')
    }
    const streamSid = readSid(b, sids)
    if (streamSid === undefined) return undefined
    const payload = readPayload(b)
    if (payload === undefined) return undefined
    return { kind: 'media', sequenceNumber, streamSid, track, chunk, timestampMs, payload }
  }
  if (bytesEqual(b, eventStart, eventEnd, EVENT_MARK)) {
    if (starts[K_MARK] === -1 || starts[K_NAME] === -1) return undefined
    const ns = starts[K_NAME]!
    const ne = ends[K_NAME]!
    if (ne - ns > 256) return undefined
    const streamSid = readSid(b, sids)
    if (streamSid === undefined) return undefined
    const name = Buffer.from(b.buffer, b.byteOffset + ns, ne - ns).toString('latin1')
    return { kind: 'mark', sequenceNumber, streamSid, name }
  }
  return undefined
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
