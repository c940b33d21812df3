// The console's μ-law codec against the Sun/G.191 reference algorithm, for every 16-bit input and every code.
import { describe, expect, it } from 'vitest'
import {
  decodeUlawToFloats,
  encodeFloatsToUlaw,
  floatToUlaw,
  linearToUlaw,
  ULAW_SILENCE,
  ULAW_TO_LINEAR
} from '../../src/renderer/src/features/loopback/g711.js'

// Sun Microsystems g711.c (public domain), as in ITU-T G.191: linear2ulaw and ulaw2linear.
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff]
function referenceLinear2ulaw(pcm: number): number {
  let v = pcm >> 2
  let mask: number
  if (v < 0) {
    v = -v
    mask = 0x7f
  } else mask = 0xff
  if (v > 8159) v = 8159
  v += 0x84 >> 2
  let seg = 0
  while (seg < 8 && v > SEG_UEND[seg]!) seg++
  if (seg >= 8) return 0x7f ^ mask
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask
}
function referenceUlaw2linear(code: number): number {
  const u = ~code & 0xff
  let t = ((u & 0x0f) << 3) + 0x84
  t <<= (u & 0x70) >> 4
  return u & 0x80 ? 0x84 - t : t - 0x84
}

describe('μ-law (console)', () => {
  it('encodes every 16-bit sample as the reference does', () => {
    let mismatches = 0
    for (let s = -32768; s <= 32767; s++) if (linearToUlaw(s) !== referenceLinear2ulaw(s)) mismatches++
    expect(mismatches).toBe(0)
  })

  it('decodes every code as the reference does, with the known end points', () => {
    for (let c = 0; c < 256; c++) expect(ULAW_TO_LINEAR[c]).toBe(referenceUlaw2linear(c))
    expect(ULAW_TO_LINEAR[0x00]).toBe(-32124)
    expect(ULAW_TO_LINEAR[0x80]).toBe(32124)
    expect(ULAW_TO_LINEAR[0xff]).toBe(0)
    expect(ULAW_TO_LINEAR[0x7f]).toBe(0)
    expect(linearToUlaw(0)).toBe(ULAW_SILENCE)
  })

  it('round-trips every code through float decode and encode', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i)
    const floats = new Float32Array(256)
    decodeUlawToFloats(codes, floats)
    const back = new Uint8Array(256)
    encodeFloatsToUlaw(floats, back)
    for (let c = 0; c < 256; c++) {
      // 0x7f and 0xff both decode to 0, which encodes as 0xff.
      expect(back[c]).toBe(c === 0x7f ? 0xff : c)
    }
  })

  it('clamps floats beyond full scale', () => {
    expect(floatToUlaw(2)).toBe(linearToUlaw(32767))
    expect(floatToUlaw(-2)).toBe(linearToUlaw(-32768))
    const out = new Uint8Array(2)
    encodeFloatsToUlaw(Float32Array.of(1.5, -1.5), out)
    expect([...out]).toEqual([linearToUlaw(32767), linearToUlaw(-32768)])
  })
})
