// The console's polyphase resampler against tones: level kept in band, aliasing and images rejected, blocks = whole.
import { describe, expect, it } from 'vitest'
import { PolyphaseResampler } from '../../src/renderer/src/features/loopback/resampler.js'

function tone(freqHz: number, rateHz: number, seconds: number, amplitude = 0.5): Float32Array {
  const n = Math.round(rateHz * seconds)
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / rateHz))
}

function rmsDb(x: Float32Array, from: number, to = x.length): number {
  let sum = 0
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!
  return 10 * Math.log10(sum / (to - from) + 1e-30)
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

function run(r: PolyphaseResampler, input: Float32Array, block = input.length): Float32Array {
  const out = new Float32Array(r.maxOutputFor(input.length) + 16)
  let written = 0
  for (let i = 0; i < input.length; i += block) {
    const piece = input.subarray(i, Math.min(input.length, i + block))
    written += r.process(piece, out, piece.length, written)
  }
  return out.subarray(0, written)
}

describe('PolyphaseResampler', () => {
  it('48 kHz → 8 kHz keeps a 1 kHz tone within 0.1 dB and gives one output per six inputs', () => {
    const r = new PolyphaseResampler({ inputRateHz: 48_000, outputRateHz: 8000 })
    expect([r.up, r.down]).toEqual([1, 6])
    const input = tone(1000, 48_000, 0.5)
    const out = run(r, input)
    expect(out.length).toBe(4000)
    const skip = Math.ceil(r.delayOutputSamples) + 8
    expect(Math.abs(rmsDb(out, skip) - rmsDb(input, 0))).toBeLessThan(0.1)
  })

  it('48 kHz → 8 kHz rejects what would alias (5 kHz and 7.5 kHz folding to 3 kHz and 500 Hz) by 60 dB or more', () => {
    for (const f of [4600, 5000, 7500, 12_000]) {
      const r = new PolyphaseResampler({ inputRateHz: 48_000, outputRateHz: 8000 })
      const out = run(r, tone(f, 48_000, 0.5))
      const alias = Math.abs(8000 * Math.round(f / 8000) - f)
      expect(goertzelDb(out, alias, 8000, 200)).toBeLessThan(-60 + 20 * Math.log10(0.5))
    }
  })

  it('a linear interpolator would fail the same test (the check has teeth)', () => {
    const input = tone(5000, 48_000, 0.5)
    const naive = Float32Array.from({ length: input.length / 6 }, (_, i) => input[i * 6]!)
    expect(goertzelDb(naive, 3000, 8000, 200)).toBeGreaterThan(-10)
  })

  it('44.1 kHz → 8 kHz keeps a 1 kHz tone and rejects 6 kHz', () => {
    const pass = run(new PolyphaseResampler({ inputRateHz: 44_100, outputRateHz: 8000 }), tone(1000, 44_100, 0.5))
    expect(pass.length).toBeGreaterThanOrEqual(3999)
    expect(Math.abs(goertzelDb(pass, 1000, 8000, 200) - 20 * Math.log10(0.5))).toBeLessThan(0.2)
    const stop = run(new PolyphaseResampler({ inputRateHz: 44_100, outputRateHz: 8000 }), tone(6000, 44_100, 0.5))
    expect(goertzelDb(stop, 2000, 8000, 200)).toBeLessThan(-66)
  })

  it('8 kHz → 48 kHz keeps a 1 kHz tone and suppresses its images at 7 and 9 kHz', () => {
    const r = new PolyphaseResampler({ inputRateHz: 8000, outputRateHz: 48_000 })
    const out = run(r, tone(1000, 8000, 0.5))
    expect(out.length).toBe(24_000)
    const skip = Math.ceil(r.delayOutputSamples) + 48
    expect(Math.abs(goertzelDb(out, 1000, 48_000, skip) - 20 * Math.log10(0.5))).toBeLessThan(0.1)
    expect(goertzelDb(out, 7000, 48_000, skip)).toBeLessThan(-66)
    expect(goertzelDb(out, 9000, 48_000, skip)).toBeLessThan(-66)
  })

  it('gives the same samples block by block (128-sample render quanta, odd sizes) as whole', () => {
    const input = tone(440, 48_000, 0.2)
    const whole = run(new PolyphaseResampler({ inputRateHz: 48_000, outputRateHz: 8000 }), input)
    for (const block of [128, 7, 1000]) {
      const pieces = run(new PolyphaseResampler({ inputRateHz: 48_000, outputRateHz: 8000 }), input, block)
      expect(pieces).toEqual(whole)
    }
  })

  it('refuses rates that are not positive integers', () => {
    expect(() => new PolyphaseResampler({ inputRateHz: 0, outputRateHz: 8000 })).toThrow(RangeError)
    expect(() => new PolyphaseResampler({ inputRateHz: 44_100.5, outputRateHz: 8000 })).toThrow(RangeError)
  })
})
