// Table-driven G.711 μ-law for the console's loopback call (bit-exact with the G.191 / Sun g711.c reference).

/** μ-law code → linear 16-bit sample. */
export const ULAW_TO_LINEAR: Readonly<Int16Array> = buildDecodeTable()
/** μ-law code → float sample in [-1, 1). */
export const ULAW_TO_FLOAT: Readonly<Float32Array> = Float32Array.from(ULAW_TO_LINEAR, (v) => v / 32768)

// The encoder looks only at the top 14 bits of a sample (G.191 drops two), so the table has 16 Ki entries.
const ENCODE_OFFSET = 8192
const ENCODE_TABLE = buildEncodeTable()

/** μ-law silence: the code of a zero sample. */
export const ULAW_SILENCE = 0xff

/** Linear 16-bit sample (clamped) → μ-law code. */
export function linearToUlaw(sample: number): number {
  const s = sample > 32767 ? 32767 : sample < -32768 ? -32768 : Math.trunc(sample)
  return ENCODE_TABLE[(s >> 2) + ENCODE_OFFSET]!
}

/** Float sample in [-1, 1] (clamped) → μ-law code. */
export function floatToUlaw(sample: number): number {
  return linearToUlaw(sample * 32768)
}

/** Encodes floats into `dst` (at least as long); returns the bytes written. */
export function encodeFloatsToUlaw(src: Float32Array, dst: Uint8Array, count = src.length): number {
  for (let i = 0; i < count; i++) {
    let s = src[i]! * 32768
    s = s > 32767 ? 32767 : s < -32768 ? -32768 : s
    dst[i] = ENCODE_TABLE[((s | 0) >> 2) + ENCODE_OFFSET]!
  }
  return count
}

/** Decodes μ-law bytes into floats in `dst` (at least as long); returns the samples written. */
export function decodeUlawToFloats(src: Uint8Array, dst: Float32Array): number {
  const n = src.length
  for (let i = 0; i < n; i++) dst[i] = ULAW_TO_FLOAT[src[i]!]!
  return n
}

function buildDecodeTable(): Int16Array {
  const table = new Int16Array(256)
  for (let code = 0; code < 256; code++) {
    const u = ~code & 0xff
    const exponent = (u >> 4) & 0x07
    const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent
    table[code] = u & 0x80 ? 0x84 - magnitude : magnitude - 0x84
  }
  return table
}

function buildEncodeTable(): Uint8Array {
  const table = new Uint8Array(16384)
  for (let i = 0; i < 16384; i++) {
    let value = i - ENCODE_OFFSET
    let mask = 0xff
    if (value < 0) {
      value = -value
      mask = 0x7f
    }
    // 8159 is the clip level and 0x21 the bias, both in the 14-bit domain (G.191).
    value = Math.min(value, 8159) + 0x21
    let segment = 0
    while (segment < 8 && value > (0x40 << segment) - 1) segment++
    table[i] = segment >= 8 ? 0x7f ^ mask : ((segment << 4) | ((value >> (segment + 1)) & 0x0f)) ^ mask
  }
  return table
}
