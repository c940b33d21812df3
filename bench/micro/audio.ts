/** Micro-benchmarks of the G.711 codec and of the resampler against libsamplerate (run: npx tsx bench/micro/audio.ts). */
import { pathToFileURL } from 'node:url'
import libsamplerate from '@alexanderolsen/libsamplerate-js'
import { decodeUlaw, encodeUlaw } from '../../src/main/audio/g711.js'
import { Resampler } from '../../src/main/audio/resampler.js'
import { fitTone } from '../../test/support/tone-fit.js'

/**
 * Speeds are per CPU second of this process (so a busy shared machine does not deflate them),
 * median of a few repeats, on 20 ms frames as the bridge sees them.
 */
export interface CodecBenchResult {
  /** Millions of samples decoded per CPU second. */
  ulawDecodeMsps: number
  ulawEncodeMsps: number
}

export interface ResamplerQuality {
  /** Seconds of audio per CPU second, 20 ms frames, one stream. */
  xRealtime: number
  /** 16→8 kHz: a full-scale 4.6 kHz tone (folds onto 3.4 kHz) at the output, dB relative to the input. */
  aliasDb: number
  /** 16→8 kHz: level change of a 3.4 kHz tone, dB. */
  levelDb: number
}

export interface UpsampleQuality {
  xRealtime: number
  /** 8→16 kHz: everything but a 1 kHz tone at the output (its 7 kHz image above all), dB relative to the tone. */
  imageDb: number
  /** 8→16 kHz: level change of a 1 kHz tone, dB. */
  levelDb: number
}

export interface ResamplerBenchResult {
  ours: ResamplerQuality & { groupDelayMs: number }
  libsamplerate: ResamplerQuality
  /** Our 16→8 kHz speed over libsamplerate's (SRC_SINC_MEDIUM_QUALITY); the rule asks for ≥ 3. */
  speedup: number
  up8to16: { ours: UpsampleQuality & { groupDelayMs: number }; libsamplerate: UpsampleQuality; speedup: number }
}

const REPEATS = 5
// A UMD bundle: Node sees only a default export.
const { create, ConverterType } = libsamplerate

export async function benchCodec(opts: { quick?: boolean } = {}): Promise<CodecBenchResult> {
  const frames = opts.quick ? 2_000 : 20_000
  const bytes = new Uint8Array(160 * 50)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 17) & 0xff
  const pcm = new Int16Array(bytes.length)
  decodeUlaw(bytes, pcm)
  const byteFrames = Array.from({ length: 50 }, (_, i) => bytes.subarray(i * 160, (i + 1) * 160))
  const pcmFrames = Array.from({ length: 50 }, (_, i) => pcm.subarray(i * 160, (i + 1) * 160))
  const outPcm = new Int16Array(160)
  const outBytes = new Uint8Array(160)
  const decodeMs = cpuMedianMs(() => {
    for (let f = 0; f < frames; f++) decodeUlaw(byteFrames[f % 50]!, outPcm)
  })
  const encodeMs = cpuMedianMs(() => {
    for (let f = 0; f < frames; f++) encodeUlaw(pcmFrames[f % 50]!, outBytes)
  })
  const samples = frames * 160
  return { ulawDecodeMsps: round(samples / decodeMs / 1000, 1), ulawEncodeMsps: round(samples / encodeMs / 1000, 1) }
}

export async function benchResampler(opts: { quick?: boolean } = {}): Promise<ResamplerBenchResult> {
  const seconds = opts.quick ? 2 : 10
  const lib16to8 = await create(1, 16000, 8000, { converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY })
  const lib8to16 = await create(1, 8000, 16000, { converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY })
  try {
    const down = new Resampler({ fromHz: 16000, toHz: 8000 })
    const up = new Resampler({ fromHz: 8000, toHz: 16000 })

    const oursDown = speed(seconds, 16000, 8000, (input) => {
      const inPcm = Int16Array.from(input, (v) => Math.round(v * 32767))
      const out = new Int16Array(160)
      return () => {
        for (let i = 0; i < inPcm.length; i += 320) down.process(inPcm.subarray(i, i + 320), out)
      }
    })
    const libDown = speed(seconds, 16000, 8000, (input) => {
      const out = new Float32Array(1024)
      const written = { frames: 0 }
      return () => {
        for (let i = 0; i < input.length; i += 320) lib16to8.full(input.subarray(i, i + 320), out, written)
      }
    })
    const oursUp = speed(seconds, 8000, 16000, (input) => {
      const inPcm = Int16Array.from(input, (v) => Math.round(v * 32767))
      const out = new Int16Array(320)
      return () => {
        for (let i = 0; i < inPcm.length; i += 160) up.process(inPcm.subarray(i, i + 160), out)
      }
    })
    const libUp = speed(seconds, 8000, 16000, (input) => {
      const out = new Float32Array(1024)
      const written = { frames: 0 }
      return () => {
        for (let i = 0; i < input.length; i += 160) lib8to16.full(input.subarray(i, i + 160), out, written)
      }
    })

    // Quality on the float paths of both, so Int16 rounding does not floor the figures.
    const ourFloat = (fromHz: number, toHz: number) => {
      const r = new Resampler({ fromHz: fromHz as 8000, toHz: toHz as 8000 })
      return (frame: Float32Array) => r.processFloat(frame).slice()
    }
    const libFloat = async (fromHz: number, toHz: number) => {
      const src = await create(1, fromHz, toHz, { converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY })
      const out = new Float32Array(1024)
      const written = { frames: 0 }
      return {
        run: (frame: Float32Array) => {
          src.full(frame, out, written)
          return out.slice(0, written.frames)
        },
        destroy: () => src.destroy()
      }
    }
    const libD = await libFloat(16000, 8000)
    const libU = await libFloat(8000, 16000)
    try {
      const result: ResamplerBenchResult = {
        ours: {
          xRealtime: round(oursDown, 0),
          aliasDb: round(toneGainDb(ourFloat(16000, 8000), 16000, 8000, 4600, 1), 1),
          levelDb: round(toneGainDb(ourFloat(16000, 8000), 16000, 8000, 3400, 0.5), 4),
          groupDelayMs: down.groupDelayMs
        },
        libsamplerate: {
          xRealtime: round(libDown, 0),
          aliasDb: round(toneGainDb(libD.run, 16000, 8000, 4600, 1), 1),
          levelDb: round(toneGainDb(libD.run, 16000, 8000, 3400, 0.5), 4)
        },
        speedup: round(oursDown / libDown, 1),
        up8to16: {
          ours: {
            xRealtime: round(oursUp, 0),
            imageDb: round(imageDb(ourFloat(8000, 16000)), 1),
            levelDb: round(toneGainDb(ourFloat(8000, 16000), 8000, 16000, 1000, 0.5), 4),
            groupDelayMs: up.groupDelayMs
          },
          libsamplerate: {
            xRealtime: round(libUp, 0),
            imageDb: round(imageDb(libU.run), 1),
            levelDb: round(toneGainDb(libU.run, 8000, 16000, 1000, 0.5), 4)
          },
          speedup: round(oursUp / libUp, 1)
        }
      }
      return result
    } finally {
      libD.destroy()
      libU.destroy()
    }
  } finally {
    lib16to8.destroy()
    lib8to16.destroy()
  }
}

// Seconds of audio per CPU second. `prepare` gets the input and returns one pass over it.
function speed(seconds: number, fromHz: number, _toHz: number, prepare: (input: Float32Array) => () => void): number {
  const input = tone(fromHz, 440, seconds * fromHz, 0.5)
  const pass = prepare(input)
  pass()
  return seconds / (cpuMedianMs(pass) / 1000)
}

function cpuMedianMs(run: () => void): number {
  const times: number[] = []
  for (let r = 0; r < REPEATS; r++) {
    const start = process.cpuUsage()
    run()
    const used = process.cpuUsage(start)
    times.push((used.user + used.system) / 1000)
  }
  times.sort((a, b) => a - b)
  return Math.max(times[Math.floor(times.length / 2)]!, 0.001)
}

// Level of a tone after resampling in 20 ms frames, relative to its level before, skipping the first 100 ms.
function toneGainDb(
  run: (frame: Float32Array) => Float32Array,
  fromHz: number,
  toHz: number,
  frequencyHz: number,
  amplitude: number
): number {
  const out = resampleFrames(run, tone(fromHz, frequencyHz, fromHz, amplitude), fromHz)
  const skip = toHz / 10
  return 20 * Math.log10(Math.max(rms(out, skip, out.length - skip), 1e-15) / (amplitude / Math.SQRT2))
}

// Residual after a least-squares fit of the 1 kHz tone, relative to the tone.
function imageDb(run: (frame: Float32Array) => Float32Array): number {
  const out = resampleFrames(run, tone(8000, 1000, 8000, 0.5), 8000)
  const fit = fitTone(out, 1600, out.length - 1600, 1000, 16000)
  return 20 * Math.log10(Math.max(fit.residualRms, 1e-15) / fit.toneRms)
}

function resampleFrames(run: (frame: Float32Array) => Float32Array, input: Float32Array, fromHz: number): Float32Array {
  const frame = fromHz / 50
  const parts: Float32Array[] = []
  for (let i = 0; i < input.length; i += frame) parts.push(run(input.subarray(i, i + frame)))
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function tone(rateHz: number, frequencyHz: number, samples: number, amplitude: number): Float32Array {
  const x = new Float32Array(samples)
  for (let i = 0; i < samples; i++) x[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz)
  return x
}

function rms(x: ArrayLike<number>, from: number, to: number): number {
  let sum = 0
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!
  return Math.sqrt(sum / (to - from))
}

function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick')
  console.log(
    JSON.stringify(
      { benchCodec: await benchCodec({ quick }), benchResampler: await benchResampler({ quick }) },
      null,
      2
    )
  )
}
