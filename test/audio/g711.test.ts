// Golden tests for the G.711 codec against the reference algorithms, re-implemented here step by step.
import { describe, expect, it } from 'vitest'
import {
  ALAW_DECODE_TABLE,
  ULAW_DECODE_TABLE,
  ULAW_SILENCE,
  alawToLinear,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  linearToAlaw,
  linearToUlaw,
  ulawToLinear
} from '../../src/main/audio/g711.js'

// ITU-T G.191 STL g711.c, one sample at a time, with C `short` semantics made explicit.
function g191UlawCompress(linear: number): number {
  let absno = linear < 0 ? (~linear >> 2) + 33 : (linear >> 2) + 33
  if (absno > 0x1fff) absno = 0x1fff
  let i = absno >> 6
  let segno = 1
  while (i !== 0) {
    segno++
    i >>= 1
  }
  const highNibble = 0x0008 - segno
  let lowNibble = (absno >> segno) & 0x000f
  lowNibble = 0x000f - lowNibble
  let log = (highNibble << 4) | lowNibble
  if (linear >= 0) log = log | 0x0080
  return log
}

function g191UlawExpand(log: number): number {
  const sign = log < 0x0080 ? -1 : 1
  let mantissa = ~log
  const exponent = (mantissa >> 4) & 0x0007
  const segment = exponent + 1
  mantissa = mantissa & 0x000f
  const step = 4 << segment
  // `| 0` stores into a C short: no negative zero.
  return (sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33)) | 0
}

function g191AlawCompress(linear: number): number {
  let ix = linear < 0 ? ~linear >> 4 : linear >> 4
  if (ix > 15) {
    let iexp = 1
    while (ix > 16 + 15) {
      ix >>= 1
      iexp++
    }
    ix -= 16
    ix += iexp << 4
  }
  if (linear >= 0) ix |= 0x0080
  return ix ^ 0x0055
}

function g191AlawExpand(log: number): number {
  let ix = log ^ 0x0055
  ix &= 0x007f
  const iexp = ix >> 4
  let mant = ix & 0x000f
  if (iexp > 0) mant = mant + 16
  mant = (mant << 4) + 0x0008
  if (iexp > 1) mant = mant << (iexp - 1)
  return log > 127 ? mant : -mant
}

// The classic Sun g711.c (16-bit input, BIAS 0x84, CLIP 32635), which negates negative samples
// where G.191 takes their one's complement.
const SEG_END = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff]
function sunLinear2ulaw(pcm: number): number {
  let mask: number
  if (pcm < 0) {
    pcm = -pcm
    mask = 0x7f
  } else {
    mask = 0xff
  }
  if (pcm > 32635) pcm = 32635
  pcm += 0x84
  let seg = 0
  while (seg < 8 && pcm > SEG_END[seg]!) seg++
  if (seg >= 8) return 0x7f ^ mask
  return ((seg << 4) | ((pcm >> (seg + 3)) & 0xf)) ^ mask
}

function sunUlaw2linear(code: number): number {
  const u = ~code & 0xff
  let t = ((u & 0x0f) << 3) + 0x84
  t <<= (u & 0x70) >> 4
  return u & 0x80 ? 0x84 - t : t - 0x84
}

function sunAlaw2linear(code: number): number {
  const a = code ^ 0x55
  let t = (a & 0x0f) << 4
  const seg = (a & 0x70) >> 4
  if (seg === 0) t += 8
  else if (seg === 1) t += 0x108
  else t = (t + 0x108) << (seg - 1)
  return a & 0x80 ? t : -t
}

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i)
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768)

describe('μ-law', () => {
  it('decodes all 256 codes to the G.191 and Sun reference values', () => {
    const out = new Int16Array(256)
    expect(decodeUlaw(ALL_CODES, out)).toBe(256)
    for (let code = 0; code < 256; code++) {
      expect(out[code], `code ${code}`).toBe(g191UlawExpand(code))
      expect(out[code], `code ${code}`).toBe(sunUlaw2linear(code))
      expect(ulawToLinear(code)).toBe(out[code])
    }
  })

  it('decodes the well-known anchor codes', () => {
    expect(ULAW_DECODE_TABLE[0xff]).toBe(0)
    expect(ULAW_DECODE_TABLE[0x7f]).toBe(0)
    expect(ULAW_DECODE_TABLE[0x80]).toBe(32124)
    expect(ULAW_DECODE_TABLE[0x00]).toBe(-32124)
    expect(ULAW_DECODE_TABLE[0xfe]).toBe(8)
  })

  it('encodes all 65536 samples like G.191 ulaw_compress', () => {
    const out = new Uint8Array(65536)
    expect(encodeUlaw(ALL_SAMPLES, out)).toBe(65536)
    let mismatches = 0
    for (let i = 0; i < 65536; i++) {
      const s = ALL_SAMPLES[i]!
      if (out[i] !== g191UlawCompress(s)) mismatches++
      if (linearToUlaw(s) !== out[i]) mismatches++
    }
    expect(mismatches).toBe(0)
    expect(linearToUlaw(0)).toBe(ULAW_SILENCE)
    expect(ULAW_SILENCE).toBe(0xff)
  })

  it('equals the classic Sun encoder, which differs only by negating rather than complementing negatives', () => {
    let mismatches = 0
    for (let s = -32768; s <= 32767; s++) {
      // G.191 sees a negative s as the magnitude -s - 1, which is what Sun sees for s + 1.
      const expected = s >= 0 ? sunLinear2ulaw(s) : s === -1 ? 0x7f : sunLinear2ulaw(s + 1)
      if (linearToUlaw(s) !== expected) mismatches++
    }
    expect(mismatches).toBe(0)
  })

  it('round-trips every code and keeps re-encoding stable', () => {
    const pcm = new Int16Array(256)
    const back = new Uint8Array(256)
    decodeUlaw(ALL_CODES, pcm)
    encodeUlaw(pcm, back)
    for (let code = 0; code < 256; code++) {
      // 0x7f decodes to 0 like 0xff, the one code with two names.
      expect(back[code], `code ${code}`).toBe(code === 0x7f ? 0xff : code)
    }
  })

  it('keeps the quantisation error within half a step (one more for negatives, which G.191 complements)', () => {
    let worst = 0
    for (let s = -32124; s <= 32124; s++) {
      const code = linearToUlaw(s)
      const halfStep = 4 << ((~code >> 4) & 7)
      const excess = Math.abs(ulawToLinear(code) - s) - halfStep - (s < 0 ? 1 : 0)
      if (excess > worst) worst = excess
    }
    expect(worst).toBe(0)
  })
})

describe('A-law', () => {
  it('decodes all 256 codes to the G.191 and Sun reference values', () => {
    const out = new Int16Array(256)
    expect(decodeAlaw(ALL_CODES, out)).toBe(256)
    for (let code = 0; code < 256; code++) {
      expect(out[code], `code ${code}`).toBe(g191AlawExpand(code))
      expect(out[code], `code ${code}`).toBe(sunAlaw2linear(code))
      expect(alawToLinear(code)).toBe(out[code])
    }
    expect(ALAW_DECODE_TABLE[0xd5]).toBe(8)
    expect(ALAW_DECODE_TABLE[0x55]).toBe(-8)
    expect(ALAW_DECODE_TABLE[0xaa]).toBe(32256)
    expect(ALAW_DECODE_TABLE[0x2a]).toBe(-32256)
  })

  it('encodes all 65536 samples like G.191 alaw_compress', () => {
    const out = new Uint8Array(65536)
    expect(encodeAlaw(ALL_SAMPLES, out)).toBe(65536)
    let mismatches = 0
    for (let i = 0; i < 65536; i++) {
      const s = ALL_SAMPLES[i]!
      if (out[i] !== g191AlawCompress(s)) mismatches++
      if (linearToAlaw(s) !== out[i]) mismatches++
    }
    expect(mismatches).toBe(0)
    expect(linearToAlaw(0)).toBe(0xd5)
    expect(linearToAlaw(-1)).toBe(0x55)
  })

  it('round-trips every code', () => {
    const pcm = new Int16Array(256)
    const back = new Uint8Array(256)
    decodeAlaw(ALL_CODES, pcm)
    encodeAlaw(pcm, back)
    expect(Array.from(back)).toEqual(Array.from(ALL_CODES))
  })
})

describe('buffers', () => {
  it('writes into a longer destination and leaves the rest alone', () => {
    const dst = new Int16Array(4).fill(7)
    expect(decodeUlaw(Uint8Array.of(0x80, 0x00), dst)).toBe(2)
    expect(Array.from(dst)).toEqual([32124, -32124, 7, 7])
  })

  it('refuses a destination that is too short', () => {
    expect(() => encodeUlaw(new Int16Array(3), new Uint8Array(2))).toThrow(/needs 3/)
    expect(() => decodeAlaw(new Uint8Array(3), new Int16Array(2))).toThrow(/needs 3/)
  })

  it('clamps and truncates out-of-range numbers in the single-sample encoders', () => {
    expect(linearToUlaw(40000)).toBe(linearToUlaw(32767))
    expect(linearToUlaw(-40000)).toBe(linearToUlaw(-32768))
    expect(linearToAlaw(100.9)).toBe(linearToAlaw(100))
  })
})
