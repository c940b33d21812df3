// Tone tests for the polyphase resampler: level kept, aliasing and images rejected, frames seamless.
import { describe, expect, it } from 'vitest'
import { isResamplerRate, Resampler, type ResamplerRateHz } from '../../src/main/audio/resampler.js'
import { CallbenchError } from '../../src/shared/errors.js'
import { fitTone } from '../support/tone-fit.js'

const RATES: ResamplerRateHz[] = [8000, 16000, 24000, 48000]
const PAIRS: [ResamplerRateHz, ResamplerRateHz][] = RATES.flatMap((a) =>
  RATES.filter((b) => b !== a).map((b): [ResamplerRateHz, ResamplerRateHz] => [a, b])
)

function toneInt16(frequencyHz: number, rateHz: number, seconds: number, amplitude: number): Int16Array {
  const n = Math.round(rateHz * seconds)
  const x = new Int16Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz))
  return x
}

function toneFloat(frequencyHz: number, rateHz: number, seconds: number, amplitude: number): Float32Array {
  const n = Math.round(rateHz * seconds)
  const x = new Float32Array(n)
  for (let i = 0; i < n; i++) x[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz)
  return x
}

function rms(x: ArrayLike<number>, from: number, to: number): number {
  let sum = 0
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!
  return Math.sqrt(sum / (to - from))
}

const db = (ratio: number): number => 20 * Math.log10(Math.max(ratio, 1e-15))

// Everything in `x[from..to)` that is not a sinusoid at `frequencyHz`, by least-squares fit.
function residualAfterTone(x: ArrayLike<number>, from: number, to: number, frequencyHz: number, rateHz: number): number {
  return fitTone(x, from, to, frequencyHz, rateHz).residualRms
}

function resampleInFrames(r: Resampler, input: Int16Array, frameSamples: number): Int16Array {
  const parts: Int16Array[] = []
  for (let i = 0; i < input.length; i += frameSamples)
    parts.push(r.process(input.subarray(i, i + frameSamples)).slice())
  parts.push(r.flush())
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function noise(n: number, seed: number): Int16Array {
  const x = new Int16Array(n)
  let state = seed
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    x[i] = (state >>> 16) - 32768
  }
  return x
}

describe('16 kHz → 8 kHz', () => {
  it('keeps a 3.4 kHz tone within 0.1 dB', () => {
    const r = new Resampler({ fromHz: 16000, toHz: 8000 })
    const input = toneInt16(3400, 16000, 1, 16000)
    const out = r.process(input).slice()
    const skip = 4 * r.groupDelayOutputSamples
    const levelDb = db(rms(out, skip, out.length) / rms(input, 2 * skip, input.length))
    expect(Math.abs(levelDb)).toBeLessThan(0.1)
  })

  it('rejects a 4.6 kHz tone, which would fold onto 3.4 kHz, to at most -70 dB (Int16 path)', () => {
    const r = new Resampler({ fromHz: 16000, toHz: 8000 })
    const input = toneInt16(4600, 16000, 1, 32767)
    const out = r.process(input).slice()
    const skip = 4 * r.groupDelayOutputSamples
    expect(db(rms(out, skip, out.length) / rms(input, 0, input.length))).toBeLessThanOrEqual(-70)
  })

  it('rejects the same tone by at least 100 dB without Int16 rounding (float path)', () => {
    const r = new Resampler({ fromHz: 16000, toHz: 8000 })
    const input = toneFloat(4600, 16000, 1, 1)
    const out = r.processFloat(input).slice()
    const skip = 4 * r.groupDelayOutputSamples
    expect(db(rms(out, skip, out.length) / rms(input, 0, input.length))).toBeLessThanOrEqual(-100)
  })
})

describe('8 kHz → 16 kHz', () => {
  it('keeps a 1 kHz tone level and adds no image above 4 kHz (≤ -60 dB)', () => {
    const r = new Resampler({ fromHz: 8000, toHz: 16000 })
    const input = toneInt16(1000, 8000, 1, 16000)
    const out = r.process(input).slice()
    const skip = 4 * r.groupDelayOutputSamples
    expect(Math.abs(db(rms(out, skip, out.length) / rms(input, skip, input.length)))).toBeLessThan(0.1)
    // All that is not the 1 kHz tone: the 7 kHz image and any other distortion.
    const residual = residualAfterTone(out, skip, out.length, 1000, 16000)
    expect(db(residual / rms(out, skip, out.length))).toBeLessThanOrEqual(-60)
  })

  it('keeps a 3.4 kHz tone within 0.1 dB', () => {
    const r = new Resampler({ fromHz: 8000, toHz: 16000 })
    const input = toneFloat(3400, 8000, 1, 0.5)
    const out = r.processFloat(input).slice()
    const skip = 4 * r.groupDelayOutputSamples
    expect(Math.abs(db(rms(out, skip, out.length) / rms(input, skip, input.length)))).toBeLessThan(0.1)
  })
})

describe.each(PAIRS)('%i Hz → %i Hz', (fromHz, toHz) => {
  const lowHz = Math.min(fromHz, toHz)

  it('gives the same samples frame by frame (20 ms and odd sizes) as in one piece', () => {
    const input = noise(fromHz / 2, fromHz + toHz)
    const whole = resampleInFrames(new Resampler({ fromHz, toHz }), input, input.length)
    expect(whole.length).toBe((input.length * toHz) / fromHz + new Resampler({ fromHz, toHz }).groupDelayOutputSamples)
    for (const frame of [fromHz / 50, 1, 7, 333]) {
      expect(resampleInFrames(new Resampler({ fromHz, toHz }), input, frame), `frame ${frame}`).toEqual(whole)
    }
  })

  it('produces exactly 20 ms of output for every 20 ms of input', () => {
    const r = new Resampler({ fromHz, toHz })
    const frame = new Int16Array(fromHz / 50)
    const out = new Int16Array(toHz / 50)
    for (let i = 0; i < 5; i++) {
      expect(r.outputLengthFor(frame.length)).toBe(out.length)
      // Filled exactly, the caller's buffer comes back as is: nothing allocated.
      expect(r.process(frame, out)).toBe(out)
    }
  })

  it('keeps a tone at 42.5 % of the lower rate within 0.1 dB and rejects its mirror at 57.5 % by 100 dB', () => {
    const passHz = 0.425 * lowHz
    const stopHz = 0.575 * lowHz
    const r = new Resampler({ fromHz, toHz })
    const skip = 4 * r.groupDelayOutputSamples
    const pass = r.processFloat(toneFloat(passHz, fromHz, 0.5, 0.5)).slice()
    expect(Math.abs(db(rms(pass, skip, pass.length) / (0.5 / Math.SQRT2)))).toBeLessThan(0.1)
    r.reset()
    if (stopHz < fromHz / 2) {
      // Downsampling: the tone itself must go.
      const stop = r.processFloat(toneFloat(stopHz, fromHz, 0.5, 0.5)).slice()
      expect(db(rms(stop, skip, stop.length) / (0.5 / Math.SQRT2))).toBeLessThanOrEqual(-100)
    } else {
      // Upsampling: the pass tone's image at the old rate minus the tone must not appear.
      const residual = residualAfterTone(pass, skip, pass.length, passHz, toHz)
      expect(db(residual / (0.5 / Math.SQRT2))).toBeLessThanOrEqual(-100)
    }
  })

  it('keeps every tone of the band flat and free of images, and removes every tone that would fold into it', () => {
    const r = new Resampler({ fromHz, toHz })
    const skip = 4 * r.groupDelayOutputSamples
    const ref = 0.5 / Math.SQRT2
    for (let f = 100; f <= 0.425 * lowHz; f += (0.425 * lowHz - 100) / 12) {
      r.reset()
      const out = r.processFloat(toneFloat(f, fromHz, 0.25, 0.5)).slice()
      expect(Math.abs(db(rms(out, skip, out.length) / ref)), `level at ${f} Hz`).toBeLessThan(0.1)
      expect(db(residualAfterTone(out, skip, out.length, f, toHz) / ref), `distortion at ${f} Hz`).toBeLessThanOrEqual(
        -120
      )
    }
    // Downsampling, through the intermediate rate too (48 → 16 → 8 kHz folds at 16 kHz first).
    // The filters are designed for 130 dB; two cascaded stages (48 → 16 → 8) leave a little less.
    const cascaded = fromHz === 48000 && toHz === 8000
    for (let f = 0.575 * lowHz; f < fromHz / 2 && toHz < fromHz; f += (fromHz / 2 - 0.575 * lowHz) / 60) {
      r.reset()
      const out = r.processFloat(toneFloat(f, fromHz, 0.1, 0.5)).slice()
      expect(db(rms(out, skip, out.length) / ref), `alias of ${f} Hz`).toBeLessThanOrEqual(cascaded ? -110 : -120)
    }
  })

  it('delays an impulse by exactly groupDelayOutputSamples', () => {
    const r = new Resampler({ fromHz, toHz })
    const input = new Float32Array(fromHz / 10)
    const at = 240
    input[at] = 1
    const out = r.processFloat(input)
    let peak = 0
    for (let i = 1; i < out.length; i++) if (Math.abs(out[i]!) > Math.abs(out[peak]!)) peak = i
    expect(peak).toBe((at * toHz) / fromHz + r.groupDelayOutputSamples)
    expect(r.groupDelayMs).toBeCloseTo((r.groupDelayOutputSamples * 1000) / toHz, 9)
    expect(r.groupDelayInputSamples * toHz).toBe(r.groupDelayOutputSamples * fromHz)
  })

  it('passes a constant exactly once the filter is full', () => {
    const r = new Resampler({ fromHz, toHz })
    const out = r.process(new Int16Array(fromHz / 10).fill(-12345)).slice()
    for (let i = 4 * r.groupDelayOutputSamples; i < out.length; i++) expect(out[i]).toBe(-12345)
  })
})

describe('Resampler', () => {
  it('passes audio through unchanged at the same rate', () => {
    const r = new Resampler({ fromHz: 16000, toHz: 16000 })
    const input = noise(1000, 3)
    expect(r.process(input)).toEqual(input)
    expect(r.groupDelayOutputSamples).toBe(0)
    expect(r.flush().length).toBe(0)
  })

  it('rounds and clips the float result instead of wrapping when ringing overshoots full scale', () => {
    const square = new Int16Array(800)
    for (let i = 0; i < square.length; i++) square[i] = Math.floor(i / 20) % 2 === 0 ? 32767 : -32768
    const ints = new Resampler({ fromHz: 8000, toHz: 16000 }).process(square).slice()
    const floats = new Resampler({ fromHz: 8000, toHz: 16000 }).processFloat(Float32Array.from(square)).slice()
    let clipped = 0
    for (let i = 0; i < ints.length; i++) {
      const v = floats[i]!
      if (v > 32767 || v < -32768) clipped++
      expect(ints[i]).toBe(Math.min(32767, Math.max(-32768, Math.sign(v) * Math.round(Math.abs(v)))) + 0)
    }
    expect(clipped).toBeGreaterThan(0)
  })

  it('returns the delayed tail on flush and starts afresh', () => {
    const r = new Resampler({ fromHz: 16000, toHz: 8000 })
    const input = toneInt16(500, 16000, 0.1, 10000)
    const first = [...r.process(input), ...r.flush()]
    const second = [...r.process(input), ...r.flush()]
    expect(first.length).toBe(800 + r.groupDelayOutputSamples)
    expect(second).toEqual(first)
    // The tail carries the end of the tone, not silence.
    expect(rms(first, first.length - r.groupDelayOutputSamples, first.length)).toBeGreaterThan(1000)
  })

  it('returns a reusable view when no output buffer is given', () => {
    const r = new Resampler({ fromHz: 8000, toHz: 16000 })
    const a = r.process(new Int16Array(160))
    const b = r.process(new Int16Array(160))
    expect(a.length).toBe(320)
    expect(b.buffer).toBe(a.buffer)
  })

  it('gathers float output of varying length at an offset, block by block, as processFloat gives it whole', () => {
    const input = toneFloat(440, 48000, 0.2, 0.5)
    const whole = new Resampler({ fromHz: 48000, toHz: 8000 }).processFloat(input).slice()
    const r = new Resampler({ fromHz: 48000, toHz: 8000 })
    const block = new Float32Array(200)
    const out = new Float32Array(whole.length + 5).fill(7)
    let written = 0
    // 128 is one render quantum: 21 or 22 outputs at a time; `block` is longer than what is fed.
    for (let i = 0; i < input.length; i += 128) {
      const n = Math.min(128, input.length - i)
      block.set(input.subarray(i, i + n))
      expect(r.outputLengthFor(n)).toBeGreaterThanOrEqual(21)
      written += r.processFloatInto(block, out, written, n)
    }
    expect(written).toBe(whole.length)
    expect(out.subarray(0, written)).toEqual(whole)
    expect([...out.subarray(written)]).toEqual([7, 7, 7, 7, 7])
    expect(() => r.processFloatInto(block, out, out.length - 1, 128)).toThrow(/needs 2[12]/)
  })

  it('says which rates it has filters for', () => {
    expect(RATES.every(isResamplerRate)).toBe(true)
    expect([44100, 96000, 11025, 0].some(isResamplerRate)).toBe(false)
  })

  it('refuses an output buffer that is too small', () => {
    const r = new Resampler({ fromHz: 8000, toHz: 16000 })
    expect(() => r.process(new Int16Array(160), new Int16Array(100))).toThrow(/needs 320/)
  })

  it('refuses rates it was not designed for', () => {
    let caught: unknown
    try {
      new Resampler({ fromHz: 44100 as ResamplerRateHz, toHz: 8000 })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(CallbenchError)
    expect((caught as CallbenchError).code).toBe('unsupported')
  })
})
