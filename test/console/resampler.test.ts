// The console's resamplers: the shared one where it has filters, the general one (tones) for 44.1 kHz and the like.
import { describe, expect, it } from 'vitest'
import { CaptureEncoder } from '../../src/renderer/src/features/loopback/capture-encoder.js'
import {
  AnyRateResampler,
  floatResampler,
  type FloatResampler
} from '../../src/renderer/src/features/loopback/resampler.js'
import { linearToUlaw, ULAW_DECODE_TABLE } from '../../src/shared/dsp/g711.js'
import { Resampler } from '../../src/shared/dsp/resampler.js'

function tone(freqHz: number, rateHz: number, seconds: number, amplitude = 0.5): Float32Array {
  const n = Math.round(rateHz * seconds)
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / rateHz))
}

/** Level of one frequency in a signal (Goertzel), dB relative to a full-scale sine. */
function goertzelDb(x: Float32Array, freqHz: number, rateHz: number, from: number): number {
  const n = x.length - from
  const w = (2 * Math.PI * freqHz) / rateHz
  const coeff = 2 * Math.cos(w)
  let s1 = 0
  let s2 = 0
  for (let i = from; i < x.length; i++) {
    const s0 = x[i]! + coeff * s1 - s2
    s2 = s1
    s1 = s0
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2
  return 10 * Math.log10((4 * power) / (n * n) + 1e-30)
}

function run(r: FloatResampler, input: Float32Array, block = input.length): Float32Array {
  const out = new Float32Array(Math.ceil((input.length * r.toHz) / r.fromHz) + 16)
  let written = 0
  for (let i = 0; i < input.length; i += block) {
    const piece = input.subarray(i, Math.min(input.length, i + block))
    const expected = r.outputLengthFor(piece.length)
    const n = r.processFloatInto(piece, out, written)
    expect(n).toBe(expected)
    written += n
  }
  return out.subarray(0, written)
}

const HALF_SCALE_DB = 20 * Math.log10(0.5)

describe('floatResampler', () => {
  it('uses the shared resampler between 8, 16, 24 and 48 kHz, the general one for other device rates', () => {
    for (const rateHz of [48_000, 24_000, 16_000]) {
      expect(floatResampler(rateHz, 8000)).toBeInstanceOf(Resampler)
      expect(floatResampler(8000, rateHz)).toBeInstanceOf(Resampler)
    }
    for (const rateHz of [44_100, 96_000, 22_050]) {
      expect(floatResampler(rateHz, 8000)).toBeInstanceOf(AnyRateResampler)
      expect(floatResampler(8000, rateHz)).toBeInstanceOf(AnyRateResampler)
    }
  })
})

describe('AnyRateResampler', () => {
  it('44.1 kHz → 8 kHz keeps a 1 kHz tone and rejects 6 kHz (which would fold onto 2 kHz)', () => {
    const pass = run(new AnyRateResampler(44_100, 8000), tone(1000, 44_100, 0.5))
    expect(pass.length).toBe(4000)
    expect(Math.abs(goertzelDb(pass, 1000, 8000, 200) - HALF_SCALE_DB)).toBeLessThan(0.2)
    const stop = run(new AnyRateResampler(44_100, 8000), tone(6000, 44_100, 0.5))
    expect(goertzelDb(stop, 2000, 8000, 200)).toBeLessThan(-66)
  })

  it('8 kHz → 44.1 kHz keeps a 1 kHz tone and suppresses its images at 7 and 9 kHz', () => {
    const r = new AnyRateResampler(8000, 44_100)
    const out = run(r, tone(1000, 8000, 0.5))
    expect(out.length).toBe(22_050)
    const skip = Math.ceil(r.delayOutputSamples) + 48
    expect(Math.abs(goertzelDb(out, 1000, 44_100, skip) - HALF_SCALE_DB)).toBeLessThan(0.1)
    expect(goertzelDb(out, 7000, 44_100, skip)).toBeLessThan(-66)
    expect(goertzelDb(out, 9000, 44_100, skip)).toBeLessThan(-66)
  })

  it('gives the same samples block by block (128-sample render quanta, odd sizes) as whole', () => {
    const input = tone(440, 44_100, 0.2)
    const whole = run(new AnyRateResampler(44_100, 8000), input)
    for (const block of [128, 7, 1000]) {
      expect(run(new AnyRateResampler(44_100, 8000), input, block)).toEqual(whole)
    }
  })

  it('refuses rates that are not positive integers, and an output without room', () => {
    expect(() => new AnyRateResampler(0, 8000)).toThrow(RangeError)
    expect(() => new AnyRateResampler(44_100.5, 8000)).toThrow(RangeError)
    expect(() =>
      new AnyRateResampler(8000, 44_100).processFloatInto(new Float32Array(10), new Float32Array(50))
    ).toThrow(/needs 56/)
  })
})

describe('CaptureEncoder', () => {
  it.each([48_000, 44_100])('turns %i Hz microphone blocks into 20 ms μ-law frames at the tone’s level', (rateHz) => {
    const encoder = new CaptureEncoder(rateHz)
    const mic = tone(1000, rateHz, 1)
    const frames: Uint8Array[] = []
    for (let i = 0; i < mic.length; i += 128) encoder.push(mic.subarray(i, i + 128), (f) => frames.push(f))
    expect(frames).toHaveLength(50)
    expect(new Set(frames).size).toBe(50)
    const decoded = new Float32Array(8000)
    frames.forEach((f, k) =>
      decoded.set(
        Float32Array.from(f, (b) => ULAW_DECODE_TABLE[b]! / 32768),
        k * 160
      )
    )
    expect(Math.abs(goertzelDb(decoded, 1000, 8000, 400) - HALF_SCALE_DB)).toBeLessThan(0.2)
  })

  it.each([48_000, 44_100])('clamps %i Hz samples beyond full scale to the end codes', (rateHz) => {
    for (const [level, sample] of [
      [1.5, 32767],
      [-1.5, -32768]
    ] as const) {
      const encoder = new CaptureEncoder(rateHz)
      const frames: Uint8Array[] = []
      for (let i = 0; i < 20; i++) encoder.push(new Float32Array(128).fill(level), (f) => frames.push(f))
      expect([...new Set(frames.at(-1))]).toEqual([linearToUlaw(sample)])
    }
  })
})
