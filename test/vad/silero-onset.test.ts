import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VadSettingsSchema } from '../../src/shared/settings.js'
import {
  createVad,
  type MisfireEvent,
  type SpeechEndEvent,
  type SpeechStartEvent,
  type VadStream,
  type VadStreamSettings
} from '../../src/main/vad/index.js'
import { SileroModel } from '../../src/main/vad/silero.js'
import { loadClipPcm, pushInFrames, speechClips } from './speech-fixtures.js'

// Onset → confirmation with the default settings, as in a barge-in: digital silence, then the clip from 100 ms
// before its measured onset, at every 4 ms phase of the 32 ms window grid. "Stop, wait" opens on a voiceless
// "st" Silero only calls speech at the vowel, 88–120 ms in; its first speech window ends 120–152 ms in.
const CONFIRM_BOUND_MS: Record<string, number> = { 'stop-wait.ulaw': 165 }
const DEFAULT_CONFIRM_BOUND_MS = 120
const LEAD_MS = 100
const SILENCE_MS = 1000

const DEFAULTS: VadStreamSettings = { ...VadSettingsSchema.parse({}), method: 'silero' }

let model: SileroModel
beforeAll(async () => {
  model = await SileroModel.load()
})
afterAll(async () => {
  await model.close()
})

interface Recorded {
  vad: VadStream
  starts: SpeechStartEvent[]
  ends: SpeechEndEvent[]
  misfires: MisfireEvent[]
}

function record(settings: VadStreamSettings = DEFAULTS): Recorded {
  const vad = createVad(settings, { silero: async () => model })
  const r: Recorded = { vad, starts: [], ends: [], misfires: [] }
  vad.on('speechStart', (e) => r.starts.push(e))
  vad.on('speechEnd', (e) => r.ends.push(e))
  vad.on('misfire', (e) => r.misfires.push(e))
  return r
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const silence = (ms: number) => new Int16Array(ms * 8)

/** Runs every input through its own stream, all in the same ticks (so the worker batches them), and waits. */
async function runAll(inputs: Int16Array[], settings: VadStreamSettings = DEFAULTS): Promise<Recorded[]> {
  const runs = inputs.map(() => record(settings))
  inputs.forEach((pcm, i) => pushInFrames(runs[i]!.vad, pcm))
  await Promise.all(runs.map((r) => r.vad.drained()))
  for (const r of runs) r.vad.close()
  return runs
}

describe('Silero speech onset with the default settings', () => {
  it('keeps the defaults this bound was measured with', () => {
    expect(DEFAULTS).toMatchObject({ threshold: 0.5, minSpeechMs: 64, silenceMs: 500 })
  })

  it('confirms every fixture within its bound after the onset, at every phase of the window grid', async () => {
    const cases = speechClips().flatMap((clip) =>
      Array.from({ length: 8 }, (_, k) => {
        const phaseMs = k * 4
        const pcm = loadClipPcm(clip.file).subarray((clip.speechOnsetMs - LEAD_MS) * 8)
        return { clip, onsetMs: SILENCE_MS + phaseMs + LEAD_MS, pcm: concat(silence(SILENCE_MS + phaseMs), pcm) }
      })
    )
    const runs = await runAll(cases.map((c) => c.pcm))
    cases.forEach((c, i) => {
      const { starts } = runs[i]!
      expect(starts, c.clip.file).toHaveLength(1)
      const confirmMs = starts[0]!.confirmedAtMs - c.onsetMs
      expect(confirmMs, c.clip.file).toBeLessThanOrEqual(CONFIRM_BOUND_MS[c.clip.file] ?? DEFAULT_CONFIRM_BOUND_MS)
      expect(Math.abs(starts[0]!.onsetMs - c.onsetMs), c.clip.file).toBeLessThanOrEqual(48)
    })
  })

  it('confirms the voiceless onset sooner than Silero alone would', async () => {
    const clip = speechClips().find((c) => c.file === 'stop-wait.ulaw')!
    const pcm = concat(silence(SILENCE_MS), loadClipPcm(clip.file).subarray((clip.speechOnsetMs - LEAD_MS) * 8))
    const [withLead] = await runAll([pcm])
    const [alone] = await runAll([pcm], { ...DEFAULTS, onsetLeadMs: 0 })
    const gainMs = alone!.starts[0]!.confirmedAtMs - withLead!.starts[0]!.confirmedAtMs
    expect(gainMs).toBeGreaterThanOrEqual(32)
    expect(withLead!.starts[0]!.onsetMs).toBeLessThan(alone!.starts[0]!.onsetMs)
  })

  it('ends every turn exactly where Silero alone ends it', async () => {
    const clips = speechClips().map((c) => concat(loadClipPcm(c.file), silence(800)))
    const withLead = await runAll(clips)
    const alone = await runAll(clips, { ...DEFAULTS, onsetLeadMs: 0 })
    withLead.forEach((r, i) => {
      expect(r.ends).toHaveLength(1)
      const { lastSpeechMs, decidedAtMs } = r.ends[0]!
      expect({ lastSpeechMs, decidedAtMs }).toEqual({
        lastSpeechMs: alone[i]!.ends[0]!.lastSpeechMs,
        decidedAtMs: alone[i]!.ends[0]!.decidedAtMs
      })
    })
  })

  it('starts nothing on the line noise, on digital silence, or on noise Silero does not call speech', async () => {
    const clips = speechClips()
    const leads = clips.map((c) => loadClipPcm(c.file).subarray(0, (c.speechOnsetMs - 30) * 8))
    const tails = clips.map((c) => loadClipPcm(c.file).subarray((c.speechOffsetMs + 150) * 8))
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
    // White noise at -40 dBFS RMS: loud to the energy VAD, not speech to Silero.
    const whiteAmplitude = 32768 * 10 ** (-40 / 20) * Math.sqrt(3)
    const white = new Int16Array(3000 * 8).map(() => Math.round((random() * 2 - 1) * whiteAmplitude))
    const hum = new Int16Array(3000 * 8).map((_, i) =>
      Math.round(3000 * Math.sin((2 * Math.PI * 60 * i) / 8000) + 1500 * Math.sin((2 * Math.PI * 180 * i) / 8000))
    )
    const clicks = silence(3000)
    for (let ms = 300; ms < 3000; ms += 250) {
      for (let k = 0; k < 40; k++) clicks[ms * 8 + k] = Math.round(20000 * Math.exp(-k / 6) * (k % 2 ? -1 : 1))
    }
    const inputs = [
      concat(silence(500), ...leads, ...leads, ...leads),
      concat(silence(500), ...tails, ...tails),
      silence(10_000),
      concat(silence(SILENCE_MS), white),
      concat(silence(SILENCE_MS), hum),
      concat(silence(SILENCE_MS), clicks)
    ]
    const runs = await runAll(inputs)
    for (const r of runs) {
      expect(r.vad.method).toBe('silero')
      expect([...r.starts, ...r.ends, ...r.misfires]).toEqual([])
    }
  })
})
