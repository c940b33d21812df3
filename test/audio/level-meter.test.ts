// Level meter against known sine and square levels, for μ-law, A-law and 16-bit input.
import { describe, expect, it } from 'vitest'
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from '../../src/main/audio/g711.js'
import { LevelMeter, SILENCE_DBFS, amplitudeToDbfs, pcm16Levels, ulawLevels } from '../../src/main/audio/level-meter.js'

// 20 ms at 8 kHz of a 1 kHz sine: exactly 20 periods, so the RMS is exact, and sample 2 is the crest.
function sine(amplitude: number, samples = 160, rateHz = 8000, frequencyHz = 1000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz))
  )
}

function ulaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length)
  encodeUlaw(pcm, out)
  return out
}

describe('LevelMeter', () => {
  it('measures a full-scale sine at -3.01 dBFS RMS and 0 dBFS peak', () => {
    const levels = pcm16Levels(sine(32767))
    expect(levels.rmsDbfs).toBeCloseTo(-3.0103, 2)
    expect(levels.peakDbfs).toBeGreaterThan(-0.01)
    expect(levels.peakDbfs).toBeLessThanOrEqual(0)
  })

  it('measures a sine 20 dB down at -23.01 dBFS, also through μ-law within its quantisation', () => {
    const pcm = sine(32768 / 10)
    expect(pcm16Levels(pcm).rmsDbfs).toBeCloseTo(-23.0103, 2)
    // μ-law steps are about 3 % of the value at this level.
    expect(Math.abs(ulawLevels(ulaw(pcm)).rmsDbfs + 23.0103)).toBeLessThan(0.15)
    expect(Math.abs(ulawLevels(ulaw(pcm)).peakDbfs + 20)).toBeLessThan(0.3)
  })

  it('reads a full-scale square wave as 0 dBFS', () => {
    const square = Int16Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 32767 : -32768))
    expect(pcm16Levels(square).rmsDbfs).toBeCloseTo(0, 3)
    expect(pcm16Levels(square).peakDbfs).toBe(0)
  })

  it('floors silence at -100 dBFS, whichever μ-law code carries it', () => {
    expect(ulawLevels(new Uint8Array(160).fill(0xff))).toEqual({ rmsDbfs: SILENCE_DBFS, peakDbfs: SILENCE_DBFS })
    expect(ulawLevels(new Uint8Array(160).fill(0x7f))).toEqual({ rmsDbfs: -100, peakDbfs: -100 })
    expect(pcm16Levels(new Int16Array(160))).toEqual({ rmsDbfs: -100, peakDbfs: -100 })
    expect(new LevelMeter().read()).toEqual({ rmsDbfs: -100, peakDbfs: -100 })
    expect(amplitudeToDbfs(0.01)).toBe(-100)
  })

  it('reads μ-law and A-law bytes exactly like the samples they decode to', () => {
    const pcm = sine(8000, 160, 8000, 700)
    const coded = new Uint8Array(pcm.length)
    const decoded = new Int16Array(pcm.length)
    const meter = new LevelMeter()
    encodeAlaw(pcm, coded)
    decodeAlaw(coded, decoded)
    meter.addAlaw(coded)
    expect(meter.read()).toEqual(pcm16Levels(decoded))
    encodeUlaw(pcm, coded)
    decodeUlaw(coded, decoded)
    meter.addUlaw(coded)
    expect(meter.read()).toEqual(pcm16Levels(decoded))
  })

  it('accumulates until read, then starts over', () => {
    const meter = new LevelMeter()
    const loud = ulaw(sine(16384))
    meter.addUlaw(loud)
    meter.addSilence(160)
    expect(meter.samples).toBe(320)
    // Half the time silent: the RMS drops by 3 dB, the peak stays.
    const levels = meter.read()
    expect(levels.rmsDbfs).toBeCloseTo(ulawLevels(loud).rmsDbfs - 3.0103, 3)
    expect(levels.peakDbfs).toBeCloseTo(ulawLevels(loud).peakDbfs, 6)
    expect(meter.samples).toBe(0)
    expect(meter.read().rmsDbfs).toBe(-100)
  })

  it('peeks without starting over', () => {
    const meter = new LevelMeter()
    meter.addPcm16(sine(1000))
    expect(meter.peek()).toEqual(meter.read())
    expect(meter.peek().rmsDbfs).toBe(-100)
  })
})
