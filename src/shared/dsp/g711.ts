/** Table-driven G.711 μ-law and A-law codecs, bit-exact with the ITU-T G.191 reference (g711.c). */
import { CallbenchError } from '../errors.js'

/**
 * Decode tables: one signed 16-bit sample per code. Exported so that hot loops elsewhere
 * (level meters) can decode a byte without a call.
 */
export const ULAW_DECODE_TABLE: Readonly<Int16Array> = buildUlawDecodeTable()
export const ALAW_DECODE_TABLE: Readonly<Int16Array> = buildAlawDecodeTable()

// Both encoders only look at the top bits of the sample (G.191 drops 2 bits for μ-law, 4 for A-law),
// so the tables are indexed by the shifted sample: 16 KiB and 4 KiB instead of 64 KiB each.
const ULAW_INDEX_OFFSET = 8192
const ALAW_INDEX_OFFSET = 2048
const ULAW_ENCODE_TABLE = buildUlawEncodeTable()
const ALAW_ENCODE_TABLE = buildAlawEncodeTable()

/** μ-law silence: the code of a zero sample. */
export const ULAW_SILENCE = 0xff

/** μ-law code → linear sample. */
export function ulawToLinear(code: number): number {
  return ULAW_DECODE_TABLE[code & 0xff]!
}

/** A-law code → linear sample. */
export function alawToLinear(code: number): number {
  return ALAW_DECODE_TABLE[code & 0xff]!
}

/** Linear sample (clamped to 16 bits) → μ-law code. */
export function linearToUlaw(sample: number): number {
  return ULAW_ENCODE_TABLE[(clamp16(sample) >> 2) + ULAW_INDEX_OFFSET]!
}

/** Linear sample (clamped to 16 bits) → A-law code. */
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE_TABLE[(clamp16(sample) >> 4) + ALAW_INDEX_OFFSET]!
}

/** Decodes `src` into `dst` (which must be at least as long); returns the number of samples written. */
export function decodeUlaw(src: Uint8Array, dst: Int16Array): number {
  return decodeWith(ULAW_DECODE_TABLE, src, dst)
}

/** Decodes `src` into `dst` (which must be at least as long); returns the number of samples written. */
export function decodeAlaw(src: Uint8Array, dst: Int16Array): number {
  return decodeWith(ALAW_DECODE_TABLE, src, dst)
}

/** Encodes `src` into `dst` (which must be at least as long); returns the number of bytes written. */
export function encodeUlaw(src: Int16Array, dst: Uint8Array): number {
  checkRoom(src.length, dst.length)
  const table = ULAW_ENCODE_TABLE
  const n = src.length
  for (let i = 0; i < n; i++) dst[i] = table[(src[i]! >> 2) + ULAW_INDEX_OFFSET]!
  return n
}

/** Encodes `src` into `dst` (which must be at least as long); returns the number of bytes written. */
export function encodeAlaw(src: Int16Array, dst: Uint8Array): number {
  checkRoom(src.length, dst.length)
  const table = ALAW_ENCODE_TABLE
  const n = src.length
  for (let i = 0; i < n; i++) dst[i] = table[(src[i]! >> 4) + ALAW_INDEX_OFFSET]!
  return n
}

function decodeWith(table: Readonly<Int16Array>, src: Uint8Array, dst: Int16Array): number {
  checkRoom(src.length, dst.length)
  const n = src.length
  for (let i = 0; i < n; i++) dst[i] = table[src[i]!]!
  return n
}

function checkRoom(needed: number, available: number): void {
  if (available < needed) {
    throw new CallbenchError('internal', `G.711 destination holds ${available} samples, needs ${needed}`)
  }
}

function clamp16(sample: number): number {
  const s = Math.trunc(sample)
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s
}

function buildUlawDecodeTable(): Int16Array {
  const table = new Int16Array(256)
  for (let code = 0; code < 256; code++) {
    const u = ~code & 0xff
    const exponent = (u >> 4) & 7
    const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent
    table[code] = u & 0x80 ? 0x84 - magnitude : magnitude - 0x84
  }
  return table
}

function buildAlawDecodeTable(): Int16Array {
  const table = new Int16Array(256)
  for (let code = 0; code < 256; code++) {
    const a = code ^ 0x55
    const exponent = (a >> 4) & 7
    let magnitude = ((a & 0x0f) << 4) + 8
    if (exponent > 0) magnitude = (magnitude + 0x100) << (exponent - 1)
    table[code] = a & 0x80 ? magnitude : -magnitude
  }
  return table
}

// G.191 takes the one's complement of negative samples (not the negation), then works on
// a 14-bit magnitude biased by 33; index i stands for every sample whose `>> 2` equals i - 8192.
function buildUlawEncodeTable(): Uint8Array {
  const table = new Uint8Array(16384)
  for (let i = 0; i < 16384; i++) {
    const shifted = i - ULAW_INDEX_OFFSET
    const negative = shifted < 0
    const biased = Math.min((negative ? ~shifted : shifted) + 33, 0x1fff)
    const segment = 32 - Math.clz32(biased >> 6) + 1
    const mantissa = 0x0f - ((biased >> segment) & 0x0f)
    const code = ((8 - segment) << 4) | mantissa
    table[i] = negative ? code : code | 0x80
  }
  return table
}

// Index i stands for every sample whose `>> 4` equals i - 2048.
function buildAlawEncodeTable(): Uint8Array {
  const table = new Uint8Array(4096)
  for (let i = 0; i < 4096; i++) {
    const shifted = i - ALAW_INDEX_OFFSET
    const negative = shifted < 0
    const magnitude = negative ? ~shifted : shifted
    let code: number
    if (magnitude < 16) {
      code = magnitude
    } else {
      const exponent = 32 - Math.clz32(magnitude) - 4
      code = (exponent << 4) | ((magnitude >> (exponent - 1)) & 0x0f)
    }
    table[i] = (negative ? code : code | 0x80) ^ 0x55
  }
  return table
}
