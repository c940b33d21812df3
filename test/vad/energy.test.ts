import { describe, expect, it } from 'vitest'
import { EnergyVad } from '../../src/main/vad/energy.js'
import { createVad, type SpeechEndEvent, type SpeechStartEvent } from '../../src/main/vad/index.js'
import { loadClipPcm, pushInFrames, speechClips } from './speech-fixtures.js'

const SETTINGS = { method: 'energy', threshold: 0.5, minSpeechMs: 150, silenceMs: 500, preSpeechPadMs: 300 } as const

function tone(amplitude: number, samples: number, hz = 440): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)))
}

describe('EnergyVad', () => {
  it('learns the noise floor of the line and calls it silence', () => {
    const noise = loadClipPcm('what-time.ulaw').subarray(0, 400 * 8)
    const vad = new EnergyVad({ initialFloorDbfs: -40 })
    let last = 1
    for (let i = 0; i + 160 <= noise.length; i += 160) last = vad.process(noise, i, 160)
    // The fixtures' line noise is about -68 dBFS.
    expect(vad.floorDbfs).toBeGreaterThan(-75)
    expect(vad.floorDbfs).toBeLessThan(-62)
    expect(last).toBeLessThan(0.01)
  })

  it('calls a loud window over a quiet floor speech, and digital silence not', () => {
    const vad = new EnergyVad()
    expect(vad.process(new Int16Array(160))).toBeLessThan(0.001)
    expect(vad.levelDbfs).toBe(-100)
    // 0.1 of full scale: -23 dBFS RMS, far above the -65 dBFS starting floor.
    expect(vad.process(tone(3277, 160))).toBeGreaterThan(0.99)
    expect(vad.levelDbfs).toBeCloseTo(-23, 0)
  })

  it('does not call faint sound speech even over digital silence', () => {
    const vad = new EnergyVad()
    for (let i = 0; i < 50; i++) vad.process(new Int16Array(160))
    // -70 dBFS: far over a floor of -100, but under the -55 dBFS speech gate.
    expect(vad.process(tone(15, 160))).toBeLessThan(0.01)
  })

  it('lets the floor rise only slowly during loud sound', () => {
    const vad = new EnergyVad({ floorRiseDbPerS: 3 })
    const loud = tone(3277, 160)
    for (let i = 0; i < 50; i++) vad.process(loud) // 1 s
    expect(vad.floorDbfs).toBeCloseTo(-62, 0)
    expect(vad.process(loud)).toBeGreaterThan(0.99)
  })
})

describe('createVad energy on the speech fixtures', () => {
  for (const clip of speechClips()) {
    it(`finds "${clip.text}" within 100 ms of the measured onset`, async () => {
      const vad = createVad(SETTINGS)
      const starts: SpeechStartEvent[] = []
      const ends: SpeechEndEvent[] = []
      vad.on('speechStart', (e) => starts.push(e))
      vad.on('speechEnd', (e) => ends.push(e))
      pushInFrames(vad, loadClipPcm(clip.file), 10_000)
      await vad.drained()
      expect(starts).toHaveLength(1)
      expect(Math.abs(starts[0]!.onsetMs - (10_000 + clip.speechOnsetMs))).toBeLessThanOrEqual(100)
      expect(starts[0]!.paddedStartMs).toBe(starts[0]!.onsetMs - 300)
      expect(ends).toHaveLength(1)
      expect(Math.abs(ends[0]!.lastSpeechMs - (10_000 + clip.speechOffsetMs))).toBeLessThanOrEqual(150)
      expect(ends[0]!.decidedAtMs - ends[0]!.lastSpeechMs).toBeGreaterThanOrEqual(500)
      vad.close()
    })
  }

  it('stays quiet on line noise alone', async () => {
    const vad = createVad(SETTINGS)
    let events = 0
    vad.on('speechStart', () => events++)
    vad.on('misfire', () => events++)
    const noise = loadClipPcm('book-table.ulaw').subarray(0, 480 * 8)
    for (let rep = 0; rep < 5; rep++) pushInFrames(vad, noise, rep * 480)
    await vad.drained()
    expect(events).toBe(0)
    expect(vad.speaking).toBe(false)
  })
})
