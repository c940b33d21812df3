// Twilio Media Streams as Twilio speaks it (PROTOCOLS.md §1.3–1.5): the console plays Twilio's side in a loopback call.

/** μ-law 8 kHz: 8 bytes per ms, one frame every 20 ms. */
export const FRAME_BYTES = 160
export const FRAME_MS = 20
export const SAMPLE_RATE_HZ = 8000

/** The identifiers Twilio gives one stream: `MZ…`, `CA…` and `AC…` (two letters and 32 hex digits). */
export interface StreamIds {
  streamSid: string
  callSid: string
  accountSid: string
}

/** What the bridge may send to "Twilio". */
export type BridgeMessage =
  | { kind: 'media'; payload: Uint8Array }
  | { kind: 'mark'; name: string }
  | { kind: 'clear' }
  | { kind: 'invalid'; reason: string }

const HEX = '0123456789abcdef'

/** A Twilio-shaped SID: `prefix` and 32 hex digits. */
export function makeSid(prefix: string, randomBytes: (n: number) => Uint8Array = cryptoRandomBytes): string {
  let out = prefix
  for (const b of randomBytes(16)) out += HEX[b >> 4]! + HEX[b & 15]!
  return out
}

export function makeStreamIds(randomBytes?: (n: number) => Uint8Array): StreamIds {
  return {
    streamSid: makeSid('MZ', randomBytes),
    callSid: makeSid('CA', randomBytes),
    accountSid: makeSid('AC', randomBytes)
  }
}

function cryptoRandomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

/**
 * Writes the messages of one stream in Twilio's order and shapes: `connected`, `start`, then `media` (chunk and
 * timestamp counting up), `mark` echoes, `dtmf`, and `stop`. Counters are decimal strings, as Twilio sends them.
 */
export class MediaStreamWriter {
  readonly ids: StreamIds
  #sequence = 0
  #chunk = 0
  #timestampMs = 0

  constructor(ids: StreamIds) {
    this.ids = ids
  }

  /** Media frames written so far. */
  get chunks(): number {
    return this.#chunk
  }

  connected(): string {
    return '{"event":"connected","protocol":"Call","version":"1.0.0"}'
  }

  start(customParameters: Readonly<Record<string, string>>): string {
    const { streamSid, callSid, accountSid } = this.ids
    return JSON.stringify({
      event: 'start',
      sequenceNumber: this.#next(),
      streamSid,
      start: {
        accountSid,
        streamSid,
        callSid,
        tracks: ['inbound'],
        customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: SAMPLE_RATE_HZ, channels: 1 }
      }
    })
  }

  /** One frame of caller audio (raw μ-law, no header). */
  media(payload: Uint8Array): string {
    const chunk = ++this.#chunk
    const timestamp = this.#timestampMs
    this.#timestampMs += payload.length / 8
    return (
      `{"event":"media","sequenceNumber":"${this.#next()}","media":{"track":"inbound","chunk":"${chunk}",` +
      `"timestamp":"${Math.round(timestamp)}","payload":"${encodeBase64(payload)}"},"streamSid":"${this.ids.streamSid}"}`
    )
  }

  /** The echo of a mark the bridge sent, once the audio queued before it has played (or was cleared). */
  mark(name: string): string {
    return JSON.stringify({
      event: 'mark',
      sequenceNumber: this.#next(),
      streamSid: this.ids.streamSid,
      mark: { name }
    })
  }

  dtmf(digit: string): string {
    if (!/^[0-9*#A-D]$/.test(digit)) throw new RangeError('DTMF digit must be one of 0-9 * # A-D')
    return JSON.stringify({
      event: 'dtmf',
      streamSid: this.ids.streamSid,
      sequenceNumber: this.#next(),
      dtmf: { track: 'inbound_track', digit }
    })
  }

  stop(): string {
    const { streamSid, callSid, accountSid } = this.ids
    return JSON.stringify({ event: 'stop', sequenceNumber: this.#next(), stop: { accountSid, callSid }, streamSid })
  }

  #next(): string {
    return String(++this.#sequence)
  }
}

/** Parses one message the bridge sent; never throws. */
export function parseBridgeMessage(text: unknown): BridgeMessage {
  if (typeof text !== 'string') return { kind: 'invalid', reason: 'not a text frame' }
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    return { kind: 'invalid', reason: 'not JSON' }
  }
  if (typeof msg !== 'object' || msg === null) return { kind: 'invalid', reason: 'not an object' }
  const m = msg as { event?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } }
  switch (m.event) {
    case 'media': {
      const payload = m.media?.payload
      if (typeof payload !== 'string') return { kind: 'invalid', reason: 'media without payload' }
      const bytes = decodeBase64(payload)
      return bytes ? { kind: 'media', payload: bytes } : { kind: 'invalid', reason: 'bad base64' }
    }
    case 'mark': {
      const name = m.mark?.name
      return typeof name === 'string' ? { kind: 'mark', name } : { kind: 'invalid', reason: 'mark without name' }
    }
    case 'clear':
      return { kind: 'clear' }
    default:
      return { kind: 'invalid', reason: `unknown event ${String(m.event).slice(0, 40)}` }
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1)
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i
  return t
})()

/** Standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = ''
  const n = bytes.length
  let i = 0
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | ((i + 1 < n ? bytes[i + 1]! : 0) << 8)
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + (i + 1 < n ? B64[(v >> 6) & 63]! : '=') + '='
  }
  return out
}

/** Strict standard base64 (padding required); undefined for anything else. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - padding)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length
    const a = sextet(text, i)
    const b = sextet(text, i + 1)
    const c = last && padding === 2 ? 0 : sextet(text, i + 2)
    const d = last && padding >= 1 ? 0 : sextet(text, i + 3)
    if ((a | b | c | d) < 0) return undefined
    const v = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = v >> 16
    if (o < out.length) out[o++] = (v >> 8) & 255
    if (o < out.length) out[o++] = v & 255
  }
  return out
}

function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i)
  return code < 128 ? B64_INDEX[code]! : -1
}
