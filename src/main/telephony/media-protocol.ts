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
// duplicate keys, a base64 payload that is not canonical, a stream SID that is not one, missing fields, trailing
// bytes) returns undefined and the caller takes the JSON path, which gives the answer or the error. So the reader
// never decides that input is bad; it may give up early on anything it would not answer anyway.
//
// In that one pass a known key is recognised where it stands (its end is not searched for), the stream SID is
// checked as it is scanned and the payload decoded as it is scanned, two characters per table lookup.

/**
 * Remembers the last stream SID a connection used, so that its frames do not each allocate the same string. The
 * reader writes both fields; a frame's SID is compared with `bytes`, which costs less than reading the string.
 */
export interface SidCache {
  sid: string
  bytes?: Uint8Array
}

const QUOTE = 0x22
const COLON = 0x3a
const COMMA = 0x2c
const OPEN = 0x7b
const CLOSE = 0x7d
const EQUALS = 0x3d

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
/** Text id of the one value compared besides the event names, which are the keys `media` and `mark`. */
const T_INBOUND = KEY_COUNT

const bit = (id: number): number => 1 << id
// The keys each object may hold, as bit masks of their ids.
const TOP_LEVEL = bit(K_EVENT) | bit(K_SEQ) | bit(K_SID) | bit(K_MEDIA) | bit(K_MARK)
const MEDIA_LEVEL = bit(K_TRACK) | bit(K_CHUNK) | bit(K_TIMESTAMP) | bit(K_PAYLOAD)
const MARK_LEVEL = bit(K_NAME)

// The texts the reader compares with, by id: the keys, then T_INBOUND. All in one array, because reading one constant
// typed array costs V8 fewer checks than reading a different one per text (that was some 6 % of the reader's time).
const TEXTS = [
  '',
  'event',
  'sequenceNumber',
  'streamSid',
  'media',
  'mark',
  'track',
  'chunk',
  'timestamp',
  'payload',
  'name',
  'inbound'
]
const TEXT_CHARS = new Uint8Array(TEXTS.reduce((n, t) => n + t.length, 0))
const TEXT_START = new Int32Array(TEXTS.length)
const TEXT_LENGTH = new Int32Array(TEXTS.length)
for (let t = 0, at = 0; t < TEXTS.length; at += TEXTS[t]!.length, t++) {
  TEXT_START[t] = at
  TEXT_LENGTH[t] = TEXTS[t]!.length
  for (let j = 0; j < TEXTS[t]!.length; j++) TEXT_CHARS[at + j] = TEXTS[t]!.charCodeAt(j)
}
/**
 * Key id by a key's first two bytes (first << 8 | second), K_OTHER for none. No two keys begin alike, so one lookup
 * names the only key a string can be, and one compare settles it.
 */
const KEY_BY_PREFIX = new Uint8Array(65536)
for (let id = 1; id < KEY_COUNT; id++) {
  const prefix = (TEXTS[id]!.charCodeAt(0) << 8) | TEXTS[id]!.charCodeAt(1)
  if (KEY_BY_PREFIX[prefix] !== K_OTHER) throw new Error('two keys share a prefix')
  KEY_BY_PREFIX[prefix] = id
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** Base64 alphabet → 6-bit value; -1 elsewhere (`=` included, handled apart). */
const B64 = new Int8Array(256).fill(-1)
for (let i = 0; i < 64; i++) B64[B64_ALPHABET.charCodeAt(i)] = i
/**
 * Two base64 characters (first << 8 | second) → their 12 bits; -1 when either is outside the alphabet. Half the
 * lookups of B64 per group of four characters. 128 KiB, but a valid payload reads only the 4,096 valid entries.
 */
const B64_PAIR = new Int16Array(65536).fill(-1)
for (let i = 0; i < 64; i++) {
  for (let j = 0; j < 64; j++) B64_PAIR[(B64_ALPHABET.charCodeAt(i) << 8) | B64_ALPHABET.charCodeAt(j)] = (i << 6) | j
}
/** The most groups of four characters that can decode to MAX_PAYLOAD_BYTES or fewer (the last one padded). */
const MAX_PAYLOAD_GROUPS = Math.ceil(MAX_PAYLOAD_BYTES / 3)

/** 1 for the bytes SID_RE accepts, [A-Za-z0-9_-]. */
const SID_CHAR = new Uint8Array(256)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') SID_CHAR[c.charCodeAt(0)] = 1

// What the last read found: a bit per key id seen, the start and end (exclusive) byte offsets of each string value,
// and the payload's decoded size (its bytes are in the pool at poolUsed).
let seen = 0
const starts = new Int32Array(KEY_COUNT)
const ends = new Int32Array(KEY_COUNT)
let payloadSize = 0
// The connection's stream SID (SidCache.bytes) for this read, and whether the frame's SID is that one.
let knownSid: Uint8Array | undefined
let sidIsKnown = false

// Payloads are decoded straight into a pool and handed out as views of it, as Buffer.allocUnsafe does with its own
// pool: each payload is a Buffer of bytes nothing writes again, whoever keeps it. A pool of our own because the
// decoder learns a payload's size only at its closing quote, after writing the bytes (searching for the quote first
// cost more than the pool does).
const POOL_BYTES = 8 * 1024
let pool = Buffer.allocUnsafeSlow(POOL_BYTES)
let poolUsed = 0

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++
  return i
}

/** skipSpace where a space is unusual (Twilio writes none): one comparison for the usual byte. */
function space(b: Uint8Array, i: number): number {
  return b[i]! > 0x20 ? i : skipSpace(b, i)
}

function has(id: number): boolean {
  return (seen & bit(id)) !== 0
}

/** Whether b[s, e) holds text `t`. */
function isText(b: Uint8Array, s: number, e: number, t: number): boolean {
  if (e - s !== TEXT_LENGTH[t]) return false
  const offset = TEXT_START[t]! - s
  for (let j = s; j < e; j++) if (b[j] !== TEXT_CHARS[offset + j]) return false
  return true
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

/** Like stringEnd for a stream SID; -1 also at a byte sidField would refuse (then there is no fast answer anyway). */
function sidEnd(b: Uint8Array, i: number): number {
  // Usually the connection's SID again, whose characters were checked when it was new: one compare, no check.
  const known = knownSid
  if (known !== undefined && b[i + known.length] === QUOTE) {
    let j = 0
    while (j < known.length && b[i + j] === known[j]) j++
    if (j === known.length) {
      sidIsKnown = true
      return i + j
    }
  }
  for (; i < b.length; i++) {
    const c = b[i]!
    if (SID_CHAR[c] === 0) return c === QUOTE ? i : -1
  }
  return -1
}

/** The id of the key in `level` whose text and closing quote start at b[s], else K_OTHER. */
function keyId(b: Uint8Array, s: number, level: number): number {
  const id = KEY_BY_PREFIX[(b[s]! << 8) | b[s + 1]!]!
  if ((level & bit(id)) === 0) return K_OTHER
  const e = s + TEXT_LENGTH[id]!
  return b[e] === QUOTE && isText(b, s, e, id) ? id : K_OTHER
}

/**
 * Reads the members of an object whose `{` is at b[i - 1], recording the keys of `level` it holds. Returns the
 * index after its `}`, or -1 to hand the frame to the JSON path. The top level reads one level of object values.
 */
function readObject(b: Uint8Array, i: number, level: number): number {
  i = space(b, i)
  if (b[i] === CLOSE) return i + 1
  for (;;) {
    if (b[i] !== QUOTE) return -1
    const ks = i + 1
    const id = keyId(b, ks, level)
    let ke: number
    if (id === K_OTHER) {
      ke = stringEnd(b, ks)
      if (ke < 0) return -1
    } else {
      if (has(id)) return -1
      seen |= bit(id)
      ke = ks + TEXT_LENGTH[id]!
    }
    i = space(b, ke + 1)
    if (b[i] !== COLON) return -1
    i = space(b, i + 1)
    if (b[i] === QUOTE) {
      const vs = i + 1
      const ve = id === K_PAYLOAD ? readPayload(b, vs) : id === K_SID ? sidEnd(b, vs) : stringEnd(b, vs)
      if (ve < 0 || id === K_MEDIA || id === K_MARK) return -1
      starts[id] = vs
      ends[id] = ve
      i = ve + 1
    } else if (b[i] === OPEN && level === TOP_LEVEL && (id === K_MEDIA || id === K_MARK)) {
      i = readObject(b, i + 1, id === K_MEDIA ? MEDIA_LEVEL : MARK_LEVEL)
      if (i < 0) return -1
    } else {
      return -1
    }
    i = space(b, i)
    if (b[i] === CLOSE) return i + 1
    if (b[i] !== COMMA) return -1
    i = space(b, i + 1)
  }
}

/**
 * Decodes the base64 string whose opening quote is at b[i - 1] into the pool at poolUsed, sets payloadSize and
 * returns the index of the closing quote; -1 unless it is padded standard base64 of at most MAX_PAYLOAD_BYTES.
 * `Buffer.from(…, 'base64')` (the JSON path) reads the same bytes from such a string, so the answers agree; anything
 * else (a character outside the alphabet, `-` and `_` included, or a `=` before the end) is the JSON path's to refuse.
 */
function readPayload(b: Uint8Array, i: number): number {
  // The string holds no more groups than the frame has bytes left: room for those, within the limit.
  const groups = Math.min((b.length - i) >> 2, MAX_PAYLOAD_GROUPS)
  if (pool.length - poolUsed < groups * 3) {
    pool = Buffer.allocUnsafeSlow(Math.max(POOL_BYTES, groups * 3))
    poolUsed = 0
  }
  const out = pool
  let o = poolUsed
  let j = i
  for (const end = i + groups * 4; j < end; j += 4, o += 3) {
    // Negative if any of the four is outside the alphabet.
    const v = (B64_PAIR[(b[j]! << 8) | b[j + 1]!]! << 12) | B64_PAIR[(b[j + 2]! << 8) | b[j + 3]!]!
    if (v < 0) break
    out[o] = v >> 16
    out[o + 1] = v >> 8
    out[o + 2] = v
  }
  if (b[j] !== QUOTE) {
    // Only a padded last group may stop the loop early: `xy==` or `xyz=`, then the quote. (With no group left, the
    // frame ended or the payload is over the limit.)
    if (j === i + groups * 4 || b[j + 3] !== EQUALS || b[j + 4] !== QUOTE) return -1
    o = readPaddedGroup(b, j, out, o)
    if (o < 0) return -1
    j += 4
  }
  payloadSize = o - poolUsed
  return payloadSize > MAX_PAYLOAD_BYTES ? -1 : j
}

/** Writes the one or two bytes of a last group `xy==` or `xyz=` at out[o]; returns the index after them, or -1. */
function readPaddedGroup(b: Uint8Array, j: number, out: Uint8Array, o: number): number {
  // A function apart from readPayload's loop, because the loop ran slower with this code beside it.
  const a = B64[b[j]!]!
  const c1 = B64[b[j + 1]!]!
  if (b[j + 2] === EQUALS) {
    if ((a | c1) < 0) return -1
    out[o] = (a << 2) | (c1 >> 4)
    return o + 1
  }
  const c2 = B64[b[j + 2]!]!
  if ((a | c1 | c2) < 0) return -1
  out[o] = (a << 2) | (c1 >> 4)
  out[o + 1] = ((c1 & 15) << 4) | (c2 >> 2)
  return o + 2
}

/** The decoded payload, the pool moving past it (8-aligned, as Buffer's pool does). */
function takePayload(): Buffer {
  const payload = pool.subarray(poolUsed, poolUsed + payloadSize)
  poolUsed = (poolUsed + payloadSize + 7) & ~7
  return payload
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

/** The stream SID (its characters checked by sidEnd): the cached string when sidEnd found the cached bytes. */
function readSid(b: Uint8Array, sids: SidCache | undefined): string | undefined {
  if (sidIsKnown) return sids!.sid
  const s = starts[K_SID]!
  const n = ends[K_SID]! - s
  if (n < 1 || n > 64) return undefined
  const sid = Buffer.from(b.buffer, b.byteOffset + s, n).toString('latin1')
  if (sids) {
    sids.sid = sid
    sids.bytes = new Uint8Array(b.subarray(s, s + n))
  }
  return sid
}

/** The fast path alone: a `media` or `mark` frame it could read, or undefined (exported for the differential test). */
export function readMediaOrMark(b: Uint8Array, sids?: SidCache): MediaMessage | MarkMessage | undefined {
  seen = 0
  knownSid = sids?.bytes
  sidIsKnown = false
  let i = skipSpace(b, 0)
  if (b[i] !== OPEN) return undefined
  i = readObject(b, i + 1, TOP_LEVEL)
  if (i < 0 || skipSpace(b, i) !== b.length) return undefined
  if (!has(K_EVENT) || !has(K_SID)) return undefined
  let sequenceNumber: number | undefined
  if (has(K_SEQ)) {
    sequenceNumber = readCounter(b, K_SEQ)
    if (sequenceNumber < 0) return undefined
  }
  const eventStart = starts[K_EVENT]!
  const eventEnd = ends[K_EVENT]!
  if (isText(b, eventStart, eventEnd, K_MEDIA)) {
    if (!has(K_MEDIA) || !has(K_PAYLOAD) || !has(K_CHUNK) || !has(K_TIMESTAMP)) return undefined
    const chunk = readCounter(b, K_CHUNK)
    const timestampMs = readCounter(b, K_TIMESTAMP)
    if (chunk < 0 || timestampMs < 0) return undefined
    let track = 'inbound'
    if (has(K_TRACK)) {
      const ts = starts[K_TRACK]!
      const te = ends[K_TRACK]!
      if (te - ts > 32) return undefined
      if (!isText(b, ts, te, T_INBOUND)) track = Buffer.from(b.buffer, b.byteOffset + ts, te - ts).toString('latin1')
    }
    const streamSid = readSid(b, sids)
    if (streamSid === undefined) return undefined
    return { kind: 'media', sequenceNumber, streamSid, track, chunk, timestampMs, payload: takePayload() }
  }
  if (isText(b, eventStart, eventEnd, K_MARK)) {
    if (!has(K_MARK) || !has(K_NAME)) return undefined
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
