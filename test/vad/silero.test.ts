import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createVad,
  type SpeechEndEvent,
  type SpeechStartEvent,
  type VadStreamSettings
} from '../../src/main/vad/index.js'
import {
  Segmenter,
  type SpeechEndEvent as SegEnd,
  type SpeechStartEvent as SegStart
} from '../../src/main/vad/segmenter.js'
import { SILERO_REQUEST_WINDOWS, SileroModel } from '../../src/main/vad/silero.js'
import { loadClipPcm, pushInFrames, speechClips, upsample2x } from './speech-fixtures.js'

const SETTINGS: VadStreamSettings = {
  method: 'silero',
  threshold: 0.5,
  minSpeechMs: 150,
  silenceMs: 500,
  preSpeechPadMs: 300
}

let model: SileroModel
beforeAll(async () => {
  model = await SileroModel.load()
})
afterAll(async () => {
  await model.close()
})

/** Every window's probability for one clip, run through its own stream. */
async function probabilities(m: SileroModel, pcm: Int16Array): Promise<number[]> {
  const out: number[] = []
  const stream = m.createStream((p) => out.push(p))
  for (let off = 0; off + m.windowSamples <= pcm.length; off += m.windowSamples)
    stream.push(pcm, off, (off * 1000) / m.sampleRateHz)
  await m.idle()
  stream.close()
  return out
}

function segment(probs: number[], windowMs: number) {
  const starts: SegStart[] = []
  const ends: SegEnd[] = []
  const seg = new Segmenter(
    { threshold: 0.5, minSpeechMs: 150, silenceMs: 500 },
    { speechStart: (e) => starts.push(e), speechEnd: (e) => ends.push(e) }
  )
  probs.forEach((p, i) => seg.push(p, i * windowMs, windowMs))
  return { starts, ends }
}

describe('Silero v5 at 8 kHz (onnxruntime-node)', () => {
  it('finds the start and end of a fixture utterance near the measured times', async () => {
    const clip = speechClips().find((c) => c.file === 'book-table.ulaw')!
    const vad = createVad(SETTINGS, { silero: async () => model })
    const starts: SpeechStartEvent[] = []
    const ends: SpeechEndEvent[] = []
    const probs: number[] = []
    vad.on('speechStart', (e) => starts.push(e))
    vad.on('speechEnd', (e) => ends.push(e))
    vad.on('probability', (e) => probs.push(e.probability))
    pushInFrames(vad, loadClipPcm(clip.file), 5_000)
    await vad.drained()
    expect(vad.method).toBe('silero')
    expect(probs).toHaveLength(Math.floor((clip.durationMs * 8) / 256))
    expect(starts).toHaveLength(1)
    expect(Math.abs(starts[0]!.onsetMs - (5_000 + clip.speechOnsetMs))).toBeLessThanOrEqual(100)
    expect(starts[0]!.confirmedAtMs - starts[0]!.onsetMs).toBeGreaterThanOrEqual(150)
    expect(ends).toHaveLength(1)
    expect(Math.abs(ends[0]!.lastSpeechMs - (5_000 + clip.speechOffsetMs))).toBeLessThanOrEqual(150)
    expect(ends[0]!.decidedAtMs - ends[0]!.lastSpeechMs).toBeGreaterThanOrEqual(500)
    vad.close()
  })

  it('agrees with the 16 kHz path on the same audio', async () => {
    const model16 = await SileroModel.load({ sampleRateHz: 16000 })
    try {
      expect(model16.windowMs).toBe(model.windowMs)
      for (const clip of speechClips().slice(0, 3)) {
        const pcm = loadClipPcm(clip.file)
        const p8 = await probabilities(model, pcm)
        const p16 = await probabilities(model16, upsample2x(pcm))
        expect(p16.length).toBe(p8.length)
        const agree = p8.filter((p, i) => p >= 0.5 === p16[i]! >= 0.5).length / p8.length
        expect(agree).toBeGreaterThan(0.9)
        const a = segment(p8, model.windowMs)
        const b = segment(p16, model16.windowMs)
        expect(a.starts).toHaveLength(1)
        expect(b.starts).toHaveLength(1)
        expect(Math.abs(a.starts[0]!.onsetMs - b.starts[0]!.onsetMs)).toBeLessThanOrEqual(96)
        expect(Math.abs(a.ends[0]!.lastSpeechMs - b.ends[0]!.lastSpeechMs)).toBeLessThanOrEqual(160)
      }
    } finally {
      await model16.close()
    }
  })

  it('gives 16 streams batched the same probabilities as one by one', async () => {
    const clips = speechClips()
    const inputs = Array.from({ length: 16 }, (_, i) => loadClipPcm(clips[i % clips.length]!.file).subarray(i * 37))
    const windows = (pcm: Int16Array) => Math.floor(pcm.length / model.windowSamples)

    const batched = inputs.map(() => [] as number[])
    const streams = inputs.map((_, i) => model.createStream((p) => batched[i]!.push(p)))
    const before = { ...model.stats }
    const most = Math.max(...inputs.map(windows))
    for (let w = 0; w < most; w++) {
      inputs.forEach((pcm, i) => {
        if (w < windows(pcm)) streams[i]!.push(pcm, w * model.windowSamples, w * model.windowMs)
      })
    }
    await model.idle()
    streams.forEach((s) => s.close())
    const batchedRuns = model.stats.runs - before.runs
    expect(model.stats.largestBatch).toBe(16)
    // Pushed in one tick: as few requests as the shared buffers allow, each running a stream's k-th windows
    // together (a request that ends mid-round leaves that round's rest to the next one).
    const total = inputs.reduce((n, pcm) => n + windows(pcm), 0)
    const requests = Math.ceil(total / SILERO_REQUEST_WINDOWS)
    expect(model.stats.messages - before.messages).toBe(requests)
    expect(batchedRuns).toBeGreaterThanOrEqual(most)
    expect(batchedRuns).toBeLessThanOrEqual(most + requests - 1)

    for (let i = 0; i < inputs.length; i++) {
      const runsBefore = model.stats.runs
      const alone = await probabilities(model, inputs[i]!)
      expect(model.stats.runs - runsBefore).toBe(alone.length)
      expect(batched[i]).toHaveLength(alone.length)
      const maxDiff = Math.max(...alone.map((p, k) => Math.abs(p - batched[i]![k]!)))
      expect(maxDiff).toBeLessThan(1e-4)
      expect(Math.max(...alone)).toBeGreaterThan(0.5)
    }
  })

  it('decides digital silence at once, without inference, once Silero has called it silence', async () => {
    const vad = createVad(SETTINGS, { silero: async () => model })
    const probs: number[] = []
    const ends: SpeechEndEvent[] = []
    vad.on('probability', (e) => probs.push(e.probability))
    vad.on('speechEnd', (e) => ends.push(e))
    const silence = new Int16Array(8 * 1000)
    // Before Silero has said anything, silence is its call: nothing is decided within push.
    vad.push(silence, 0)
    expect(probs).toHaveLength(0)
    await vad.drained()
    expect(probs.length).toBe(31)
    expect(Math.max(...probs)).toBeLessThan(0.35)
    // Now a silent window is decided within push (no worker round trip), as silence.
    vad.push(new Int16Array(256), 1000)
    expect(probs).toHaveLength(32)
    expect(probs[31]).toBe(0)
    // Speech still goes to Silero (from a fresh state). Its end is decided within the push that completes the
    // silence window: by then Silero has called the audio after the speech silence, so those windows need no worker.
    const clip = speechClips().find((c) => c.file === 'book-table.ulaw')!
    const pcm = loadClipPcm(clip.file).subarray(0, ((clip.speechOffsetMs + 100) * 8) & ~255)
    const startMs = 1032
    vad.push(pcm, startMs)
    await vad.drained()
    expect(ends).toHaveLength(0)
    let t = startMs + pcm.length / 8
    let decidedInPush = false
    while (ends.length === 0 && t < startMs + pcm.length / 8 + 2000) {
      vad.push(new Int16Array(160), t)
      t += 20
      if (ends.length > 0) decidedInPush = true
      else await vad.drained()
    }
    expect(ends).toHaveLength(1)
    expect(decidedInPush).toBe(true)
    expect(Math.abs(ends[0]!.lastSpeechMs - (startMs + clip.speechOffsetMs))).toBeLessThanOrEqual(150)
    vad.close()
  })

  it('keeps audio pushed before the model is ready and classifies it once it loads', async () => {
    let release!: (m: SileroModel) => void
    const pending = new Promise<SileroModel>((resolve) => (release = resolve))
    const vad = createVad(SETTINGS, { silero: () => pending })
    const starts: SpeechStartEvent[] = []
    vad.on('speechStart', (e) => starts.push(e))
    const clip = speechClips()[1]!
    pushInFrames(vad, loadClipPcm(clip.file))
    expect(starts).toHaveLength(0)
    release(model)
    await vad.drained()
    expect(starts).toHaveLength(1)
    expect(Math.abs(starts[0]!.onsetMs - clip.speechOnsetMs)).toBeLessThanOrEqual(100)
    vad.close()
  })

  it('falls back to the energy VAD, and says so, when the model cannot load', async () => {
    const vad = createVad(SETTINGS, { silero: () => SileroModel.load({ modelPath: '/nonexistent/silero.onnx' }) })
    const errors: string[] = []
    const starts: SpeechStartEvent[] = []
    vad.on('error', (e) => errors.push(e.code))
    vad.on('speechStart', (e) => starts.push(e))
    const clip = speechClips()[2]!
    pushInFrames(vad, loadClipPcm(clip.file))
    await vad.drained()
    expect(errors).toEqual(['internal'])
    expect(vad.method).toBe('energy')
    expect(starts).toHaveLength(1)
    expect(Math.abs(starts[0]!.onsetMs - clip.speechOnsetMs)).toBeLessThanOrEqual(100)
    vad.close()
  })

  it('drops the windows of a stream closed while they wait', async () => {
    const got: number[] = []
    const stream = model.createStream((p) => got.push(p))
    const pcm = loadClipPcm(speechClips()[0]!.file)
    for (let w = 0; w < 10; w++) stream.push(pcm, w * 256, w * 32)
    stream.close()
    await model.idle()
    expect(got).toEqual([])
    expect(stream.pendingWindows).toBe(0)
  })
})

describe('Silero worker', () => {
  it("keeps each stream's state with the stream, on whichever thread its windows run", async () => {
    const pcm = loadClipPcm(speechClips()[0]!.file)
    const windows = 40
    // Reference: all windows in one tick, so they go to the worker as one request of 40 rounds.
    const want: number[] = []
    const ref = model.createStream((p) => want.push(p))
    for (let w = 0; w < windows; w++) ref.push(pcm, w * 256, w * 32)
    await model.idle()
    ref.close()

    const got: number[] = []
    const a = model.createStream((p) => got.push(p))
    const tick = async (w: number) => {
      a.push(pcm, w * 256, w * 32)
      await model.idle()
    }
    const before = { ...model.stats }
    // Alone: each lone window runs on the main thread.
    for (let w = 0; w < 10; w++) await tick(w)
    expect(model.stats.inlineRuns - before.inlineRuns).toBe(10)
    expect(model.stats.messages - before.messages).toBe(0)
    // Three streams open: the same stream's windows cross to the worker, its state with them.
    const others = [model.createStream(() => {}), model.createStream(() => {})]
    for (let w = 10; w < 20; w++) await tick(w)
    expect(model.stats.messages - before.messages).toBe(10)
    others.forEach((s) => s.close())
    // And back.
    for (let w = 20; w < windows; w++) await tick(w)
    expect(model.stats.inlineRuns - before.inlineRuns).toBe(30)
    a.close()
    expect(got).toHaveLength(windows)
    got.forEach((p, i) => expect(Math.abs(p - want[i]!), `window ${i}`).toBeLessThan(1e-5))
    expect(Math.max(...got)).toBeGreaterThan(0.5)
  })

  it('starts the window after a reset from a cleared state', async () => {
    const pcm = loadClipPcm(speechClips()[1]!.file)
    const onset = 4096
    const fresh = await probabilities(model, pcm.subarray(onset, onset + 256))
    const got: number[] = []
    const stream = model.createStream((p) => got.push(p))
    for (let w = 0; w < 30; w++) stream.push(pcm, w * 256, w * 32)
    stream.push(pcm, onset, 960)
    stream.reset()
    stream.push(pcm, onset, 992)
    await model.idle()
    stream.close()
    expect(got).toHaveLength(32)
    // Same window: with the speech before it the state differs, after the reset it is the fresh stream's.
    expect(Math.abs(got[30]! - fresh[0]!)).toBeGreaterThan(1e-3)
    expect(Math.abs(got[31]! - fresh[0]!)).toBeLessThan(1e-6)
  })

  it('a failed inference loses that request\'s windows only, with the worker\'s message', async () => {
    const failing = await SileroModel.load({
      workerUrl: new URL('./failing-silero-worker.ts', import.meta.url),
      inlineMaxStreams: 0
    })
    try {
      const pcm = loadClipPcm(speechClips()[0]!.file)
      const got: number[] = []
      const errors: Array<{ message: string; cause: string; fatal: boolean }> = []
      const stream = failing.createStream(
        (p) => got.push(p),
        (err, fatal) => errors.push({ message: err.message, cause: (err.cause as Error).message, fatal })
      )
      stream.push(pcm, 0, 0)
      stream.push(pcm, 256, 32)
      await failing.idle()
      expect(got).toEqual([])
      expect(errors).toEqual([
        { message: 'Silero VAD inference failed', cause: 'simulated inference failure', fatal: false },
        { message: 'Silero VAD inference failed', cause: 'simulated inference failure', fatal: false }
      ])
      // The model is still there for the next windows.
      stream.push(pcm, 512, 64)
      await failing.idle()
      expect(errors).toHaveLength(3)
      stream.close()
    } finally {
      await failing.close()
    }
  })

  it('falls back to the energy VAD when the worker dies mid-call', async () => {
    const crashing = new URL('./crashing-silero-worker.ts', import.meta.url)
    // Every window through the worker: a lone stream's would otherwise run on the main thread.
    const vad = createVad(SETTINGS, { silero: () => SileroModel.load({ workerUrl: crashing, inlineMaxStreams: 0 }) })
    const errors: string[] = []
    const starts: SpeechStartEvent[] = []
    vad.on('error', (e) => errors.push(e.code))
    vad.on('speechStart', (e) => starts.push(e))
    const clip = speechClips()[2]!
    const pcm = loadClipPcm(clip.file)
    // 128 ms per tick: the stand-in answers the first two messages and crashes on the third, before the onset.
    for (let i = 0; i < pcm.length; i += 1024) {
      pushInFrames(vad, pcm.subarray(i, Math.min(pcm.length, i + 1024)), i / 8)
      await vad.drained()
    }
    expect(errors).toEqual(['internal'])
    expect(vad.method).toBe('energy')
    expect(starts).toHaveLength(1)
    expect(Math.abs(starts[0]!.onsetMs - clip.speechOnsetMs)).toBeLessThanOrEqual(100)
    vad.close()
  })
})

describe('Silero shared-memory protocol', () => {
  it('the worker and its stand-in use the control slots the protocol names', async () => {
    const { readFileSync } = await import('node:fs')
    const { CONTROL } = await import('../../src/main/vad/silero-protocol.js')
    const worker = readFileSync(new URL('../../src/main/vad/silero-worker.ts', import.meta.url), 'utf8')
    const names: Record<string, keyof typeof CONTROL> = {
      REQUEST: 'request',
      RESPONSE: 'response',
      COUNT: 'count',
      STREAM_COUNT: 'streamCount',
      CLOSE: 'close',
      ERROR: 'error',
      RUNS: 'runs',
      LARGEST_BATCH: 'largestBatch',
      ERROR_LENGTH: 'errorLength'
    }
    for (const [constant, slot] of Object.entries(names)) {
      expect(worker, constant).toMatch(new RegExp(`const ${constant} = ${CONTROL[slot]}\\n`))
    }
    for (const file of ['./crashing-silero-worker.ts', './failing-silero-worker.ts']) {
      const standIn = readFileSync(new URL(file, import.meta.url), 'utf8')
      const declared = /const CONTROL = (\{[^}]*\})/.exec(standIn)![1]!
      for (const [slot, value] of Object.entries(new Function(`return ${declared}`)() as Record<string, number>)) {
        expect(value, `${file} ${slot}`).toBe(CONTROL[slot as keyof typeof CONTROL])
      }
    }
  })

  it('a tick with more windows than one request holds is sent in several, in order', async () => {
    const pcm = loadClipPcm(speechClips()[0]!.file)
    const streams = 40
    const perStream = 30
    const want = await probabilities(model, pcm.subarray(0, perStream * 256))
    const got = Array.from({ length: streams }, () => [] as number[])
    const ss = got.map((out) => model.createStream((p) => out.push(p)))
    const before = { ...model.stats }
    // 1200 windows in one tick: more than one request carries.
    expect(streams * perStream).toBeGreaterThan(SILERO_REQUEST_WINDOWS)
    for (let w = 0; w < perStream; w++) ss.forEach((s) => s.push(pcm, w * 256, w * 32))
    await model.idle()
    ss.forEach((s) => s.close())
    expect(model.stats.messages - before.messages).toBe(2)
    for (const out of got) {
      expect(out).toHaveLength(perStream)
      out.forEach((p, i) => expect(Math.abs(p - want[i]!)).toBeLessThan(1e-5))
    }
  })
})
