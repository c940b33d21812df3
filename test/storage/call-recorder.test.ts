import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { linearToUlaw, ulawToLinear } from '../../src/main/audio/g711.js'
import { WavCallRecorder, type RecordingResult } from '../../src/main/storage/call-recorder.js'
import { activeFrames, parseWav } from './wav.js'

const FRAME = 160

function toneFrame(freqHz: number, amplitude: number, frameIndex: number): Uint8Array {
  const f = new Uint8Array(FRAME)
  for (let i = 0; i < FRAME; i++) {
    const t = (frameIndex * FRAME + i) / 8000
    f[i] = linearToUlaw(Math.round(amplitude * Math.sin(2 * Math.PI * freqHz * t)))
  }
  return f
}

const SILENCE = new Uint8Array(FRAME).fill(0xff)

describe('WavCallRecorder', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'callbench-rec-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('writes 30 s of synthetic frames as 2-channel 8 kHz WAV: caller left, agent right, agent where it was heard', async () => {
    const path = join(dir, 'rec', 'call.wav')
    let result: RecordingResult | undefined
    const rec = await WavCallRecorder.open(path, (r) => (result = r))
    // Caller speaks in frames 50–149 and 400–499 (barge-in at 400); the agent plays 200–449, cut at 450.
    const callerOn = (k: number) => (k >= 50 && k < 150) || (k >= 400 && k < 500)
    const agentOn = (k: number) => k >= 200 && k < 450
    const frames = 1500
    for (let k = 0; k < frames; k++) {
      rec.write(callerOn(k) ? toneFrame(440, 8000, k) : SILENCE, agentOn(k) ? toneFrame(1000, 6000, k) : undefined)
    }
    await rec.close()

    const wav = parseWav(readFileSync(path))
    expect(wav.channels).toBe(2)
    expect(wav.sampleRateHz).toBe(8000)
    expect(wav.bitsPerSample).toBe(16)
    expect(wav.durationMs).toBe(30_000)
    expect(result).toEqual({ bytes: 44 + frames * FRAME * 4, durationMs: 30_000 })

    const left = activeFrames(wav, 0)
    const right = activeFrames(wav, 1)
    for (let k = 0; k < frames; k++) {
      expect([k, left[k]]).toEqual([k, callerOn(k)])
      expect([k, right[k]]).toEqual([k, agentOn(k)])
    }
    // Samples are the G.711 decode of what was written, not a re-scaled copy.
    const probe = toneFrame(1000, 6000, 300)
    for (let i = 0; i < FRAME; i++) expect(wav.samples[(300 * FRAME + i) * 2 + 1]).toBe(ulawToLinear(probe[i]!))
  })

  it('is idempotent on close and ignores writes after it', async () => {
    const path = join(dir, 'c.wav')
    const rec = await WavCallRecorder.open(path)
    for (let k = 0; k < 10; k++) rec.write(toneFrame(440, 5000, k), undefined)
    await Promise.all([rec.close(), rec.close()])
    rec.write(toneFrame(440, 5000, 11), undefined)
    expect(parseWav(readFileSync(path)).frames).toBe(10 * FRAME)
  })
})
