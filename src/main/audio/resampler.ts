/** Streaming windowed-sinc polyphase resampler between 8, 16, 24 and 48 kHz, state carried across frames. */
import { CallbenchError } from '../../shared/errors.js'

export type ResamplerRateHz = 8000 | 16000 | 24000 | 48000

/** Options for {@link Resampler}. */
export interface ResamplerOptions {
  /** Input sample rate in Hz. */
  readonly fromHz: ResamplerRateHz
  /** Output sample rate in Hz. */
  readonly toHz: ResamplerRateHz
  /**
   * Largest number of input samples filtered in one pass; longer inputs are processed in pieces,
   * with the same result. Default 960 (20 ms at 48 kHz).
   */
  readonly maxChunkSamples?: number
}

// The filter keeps the telephone band: flat to 42.5 % of the lower rate (3.4 kHz at 8 kHz) and
// at least STOPBAND_ATTENUATION_DB down from 57.5 % (4.6 kHz, the first frequency that would fold
// back onto 3.4 kHz), with the -6 dB point on the lower Nyquist frequency.
const PASSBAND_EDGE = 0.425
const STOPBAND_EDGE = 0.575
const STOPBAND_ATTENUATION_DB = 120
const SUPPORTED_RATES_HZ: readonly number[] = [8000, 16000, 24000, 48000]

/**
 * A polyphase filter bank for one rational ratio up/down, shared by every stream that uses it.
 * Each phase is stored as a strided run of taps plus at most one solo tap, which lets windowed
 * sincs skip their exact zeros: with a half-band filter (2:1 either way) half the taps vanish, and
 * when interpolating, one phase is a pure delay.
 */
interface FilterBank {
  readonly up: number
  readonly down: number
  /** Centre of the prototype filter in upsampled samples; a multiple of both up and down. */
  readonly centre: number
  /** Input samples kept from earlier calls. */
  readonly history: number
  /** Per phase: where its run starts in `coefficients`, its length (a multiple of 4), stride in input samples. */
  readonly runStart: Int32Array
  readonly runLength: Int32Array
  readonly runStride: Int32Array
  /** Per phase: window offset of the run's first (oldest) tap, relative to the oldest history sample. */
  readonly runOffset: Int32Array
  /** Per phase: window offset and coefficient of the solo tap (coefficient 0 when there is none). */
  readonly soloOffset: Int32Array
  readonly soloCoefficient: Float64Array
  readonly coefficients: Float64Array
}

const banks = new Map<string, FilterBank>()

/**
 * Converts mono 16-bit (or float) audio between two rates. Feeding a signal frame by frame gives
 * exactly the samples that feeding it whole gives. Output lags input by {@link groupDelayMs}.
 */
export class Resampler {
  readonly fromHz: ResamplerRateHz
  readonly toHz: ResamplerRateHz
  /** Delay through the filter, in output samples (an integer). */
  readonly groupDelayOutputSamples: number
  /** Delay through the filter, in input samples (an integer). */
  readonly groupDelayInputSamples: number
  readonly groupDelayMs: number

  readonly #bank: FilterBank
  readonly #history: number
  readonly #maxChunk: number
  // The last `history` input samples, then room for one chunk of new input.
  readonly #window: Float64Array
  // Upsampled time of the next output, counted from the first sample of the next input.
  #nextTime = 0
  #scratchInt16: Int16Array = new Int16Array(0)
  #scratchInt16View: Int16Array = new Int16Array(0)
  #scratchFloat: Float32Array = new Float32Array(0)
  #scratchFloatView: Float32Array = new Float32Array(0)
  #zeros: Int16Array | null = null

  constructor(opts: ResamplerOptions) {
    for (const rate of [opts.fromHz, opts.toHz]) {
      if (!SUPPORTED_RATES_HZ.includes(rate)) {
        throw new CallbenchError('unsupported', `Resampler does not support ${rate} Hz`, { field: 'sampleRateHz' })
      }
    }
    this.fromHz = opts.fromHz
    this.toHz = opts.toHz
    this.#bank = filterBankFor(opts.fromHz, opts.toHz)
    this.#history = this.#bank.history
    this.#maxChunk = Math.max(1, Math.floor(opts.maxChunkSamples ?? 960))
    this.#window = new Float64Array(this.#history + this.#maxChunk)
    this.groupDelayOutputSamples = this.#bank.centre / this.#bank.down
    this.groupDelayInputSamples = this.#bank.centre / this.#bank.up
    this.groupDelayMs = (this.groupDelayOutputSamples * 1000) / opts.toHz
  }

  /** Number of samples the next `process` call will produce for `inputLength` input samples. */
  outputLengthFor(inputLength: number): number {
    const { up, down } = this.#bank
    const span = inputLength * up - this.#nextTime
    return span > 0 ? Math.ceil(span / down) : 0
  }

  /**
   * Resamples `input` and returns the samples produced. Without `output`, the result is a view of
   * a buffer owned by this resampler, valid until the next call. With `output` (which must hold
   * {@link outputLengthFor} samples), `output` itself is returned when it is filled exactly, so
   * fixed-size frames allocate nothing.
   */
  process(input: Int16Array, output?: Int16Array): Int16Array {
    const count = this.outputLengthFor(input.length)
    let out: Int16Array
    if (output !== undefined) {
      if (output.length < count) {
        throw new CallbenchError('internal', `Resampler output holds ${output.length} samples, needs ${count}`)
      }
      out = output
    } else {
      if (this.#scratchInt16.length < count) this.#scratchInt16 = new Int16Array(Math.max(count, 2 * this.#scratchInt16.length))
      out = this.#scratchInt16
    }
    let written = 0
    for (let start = 0; start < input.length; start += this.#maxChunk) {
      const end = Math.min(input.length, start + this.#maxChunk)
      const window = this.#window
      const h = this.#history
      for (let i = start; i < end; i++) window[h + i - start] = input[i]!
      written = this.#filterInt16(end - start, out, written)
    }
    if (out.length === written) return out
    if (output !== undefined) return out.subarray(0, written)
    if (this.#scratchInt16View.buffer !== out.buffer || this.#scratchInt16View.length !== written) {
      this.#scratchInt16View = out.subarray(0, written)
    }
    return this.#scratchInt16View
  }

  /** Like {@link process} for float samples (any scale; nothing is clipped). */
  processFloat(input: Float32Array, output?: Float32Array): Float32Array {
    const count = this.outputLengthFor(input.length)
    let out: Float32Array
    if (output !== undefined) {
      if (output.length < count) {
        throw new CallbenchError('internal', `Resampler output holds ${output.length} samples, needs ${count}`)
      }
      out = output
    } else {
      if (this.#scratchFloat.length < count) this.#scratchFloat = new Float32Array(Math.max(count, 2 * this.#scratchFloat.length))
      out = this.#scratchFloat
    }
    let written = 0
    for (let start = 0; start < input.length; start += this.#maxChunk) {
      const end = Math.min(input.length, start + this.#maxChunk)
      const window = this.#window
      const h = this.#history
      for (let i = start; i < end; i++) window[h + i - start] = input[i]!
      written = this.#filterFloat(end - start, out, written)
    }
    if (out.length === written) return out
    if (output !== undefined) return out.subarray(0, written)
    if (this.#scratchFloatView.buffer !== out.buffer || this.#scratchFloatView.length !== written) {
      this.#scratchFloatView = out.subarray(0, written)
    }
    return this.#scratchFloatView
  }

  /**
   * Pushes out the last {@link groupDelayOutputSamples} samples still inside the filter (by feeding
   * silence), then resets. Returns a new array.
   */
  flush(): Int16Array {
    this.#zeros ??= new Int16Array(this.groupDelayInputSamples)
    const tail = this.process(this.#zeros).slice()
    this.reset()
    return tail
  }

  /** Forgets all history, as if newly constructed. */
  reset(): void {
    this.#window.fill(0)
    this.#nextTime = 0
  }

  // Filters `n` new samples already placed after the history; returns the new write position.
  #filterInt16(n: number, out: Int16Array, offset: number): number {
    const bank = this.#bank
    const { up, down } = bank
    const window = this.#window
    const limit = n * up
    let time = this.#nextTime
    let o = offset
    while (time < limit) {
      const base = (time / up) | 0
      const phase = time - base * up
      const acc = filterAt(bank, phase, window, base)
      const rounded = acc < 0 ? acc - 0.5 : acc + 0.5
      out[o++] = rounded >= 32767 ? 32767 : rounded <= -32768 ? -32768 : rounded | 0
      time += down
    }
    this.#endChunk(n, time - limit)
    return o
  }

  #filterFloat(n: number, out: Float32Array, offset: number): number {
    const bank = this.#bank
    const { up, down } = bank
    const window = this.#window
    const limit = n * up
    let time = this.#nextTime
    let o = offset
    while (time < limit) {
      const base = (time / up) | 0
      const phase = time - base * up
      const acc = filterAt(bank, phase, window, base)
      out[o++] = acc
      time += down
    }
    this.#endChunk(n, time - limit)
    return o
  }

  #endChunk(n: number, nextTime: number): void {
    this.#window.copyWithin(0, n, n + this.#history)
    this.#nextTime = nextTime
  }
}

// One output sample; `base` is the window index of the oldest history sample for this output.
// Four accumulators break the add-latency chain. The order of the additions depends only on the
// tap, so how the input was chunked never changes a result.
function filterAt(bank: FilterBank, phase: number, window: Float64Array, base: number): number {
  const coefficients = bank.coefficients
  const stride = bank.runStride[phase]!
  let c = bank.runStart[phase]!
  let w = base + bank.runOffset[phase]!
  let a0 = 0
  let a1 = 0
  let a2 = 0
  let a3 = 0
  for (const end = c + bank.runLength[phase]!; c < end; c += 4) {
    a0 += coefficients[c]! * window[w]!
    a1 += coefficients[c + 1]! * window[w + stride]!
    a2 += coefficients[c + 2]! * window[w + 2 * stride]!
    a3 += coefficients[c + 3]! * window[w + 3 * stride]!
    w += 4 * stride
  }
  return bank.soloCoefficient[phase]! * window[base + bank.soloOffset[phase]!]! + (a0 + a1 + (a2 + a3))
}

function filterBankFor(fromHz: number, toHz: number): FilterBank {
  const g = gcd(fromHz, toHz)
  const up = toHz / g
  const down = fromHz / g
  const key = `${up}/${down}`
  let bank = banks.get(key)
  if (bank === undefined) {
    bank = designFilterBank(up, down, Math.min(fromHz, toHz) / (fromHz * up))
    banks.set(key, bank)
  }
  return bank
}

// `lowRate` is the lower of the two rates as a fraction of the upsampled rate.
function designFilterBank(up: number, down: number, lowRate: number): FilterBank {
  if (up === 1 && down === 1) return layOutPhases(1, 1, 0, Float64Array.of(1))
  const cutoff = lowRate / 2
  const transitionRad = 2 * Math.PI * (STOPBAND_EDGE - PASSBAND_EDGE) * lowRate
  // Kaiser's length and beta formulas (Oppenheim & Schafer, 7.6).
  const minLength = Math.ceil((STOPBAND_ATTENUATION_DB - 7.95) / (2.285 * transitionRad)) + 1
  const beta = 0.1102 * (STOPBAND_ATTENUATION_DB - 8.7)
  // A centre that is a whole number of input and of output samples keeps the delay integral.
  const step = up * down
  const centre = Math.ceil((minLength - 1) / 2 / step) * step
  const length = 2 * centre + 1
  const prototype = new Float64Array(length)
  const i0Beta = besselI0(beta)
  for (let i = 0; i < length; i++) {
    const t = i - centre
    const x = 2 * cutoff * t
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)
    const r = t / centre
    prototype[i] = 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta)
  }
  return layOutPhases(up, down, centre, prototype)
}

interface PhaseLayout {
  /** Distances back from the newest input sample, oldest first, evenly spaced. */
  run: number[]
  runCoefficients: number[]
  stride: number
  solo: number
  soloCoefficient: number
}

function layOutPhases(up: number, down: number, centre: number, prototype: Float64Array): FilterBank {
  const layouts: PhaseLayout[] = []
  for (let phase = 0; phase < up; phase++) {
    // Tap k of a phase multiplies the input sample k steps back.
    const taps: { k: number; h: number }[] = []
    let sum = 0
    for (let k = 0, i = phase; i < prototype.length; k++, i += up) {
      // sin(pi * n) is not exactly 0 in floating point; these taps are zeros of the ideal sinc.
      if (Math.abs(prototype[i]!) > 1e-13) taps.push({ k, h: prototype[i]! })
      sum += prototype[i]!
    }
    // Each phase passes DC at exactly unit gain, so a constant input leaves no residual image.
    for (const tap of taps) tap.h /= sum
    const centreK = (centre - phase) / up
    layouts.push(splitPhase(taps, Number.isInteger(centreK) ? centreK : -1))
  }
  let history = 0
  for (const l of layouts) {
    while (l.run.length % 4 !== 0) {
      l.run.unshift(l.run[0]! + l.stride)
      l.runCoefficients.unshift(0)
    }
    history = Math.max(history, l.run[0] ?? 0, l.solo)
  }
  const runStart = new Int32Array(up)
  const runLength = new Int32Array(up)
  const runStride = new Int32Array(up)
  const runOffset = new Int32Array(up)
  const soloOffset = new Int32Array(up)
  const soloCoefficient = new Float64Array(up)
  const all: number[] = []
  layouts.forEach((l, phase) => {
    runStart[phase] = all.length
    runLength[phase] = l.run.length
    runStride[phase] = l.stride
    runOffset[phase] = history - (l.run[0] ?? 0)
    soloOffset[phase] = history - l.solo
    soloCoefficient[phase] = l.soloCoefficient
    all.push(...l.runCoefficients)
  })
  const coefficients = Float64Array.from(all)
  return { up, down, centre, history, runStart, runLength, runStride, runOffset, soloOffset, soloCoefficient, coefficients }
}

// Prefers an evenly spaced run of the non-zero taps, setting the centre tap apart if that makes one;
// otherwise a dense run over the whole span, zeros included.
function splitPhase(taps: readonly { k: number; h: number }[], centreK: number): PhaseLayout {
  const byAge = [...taps].sort((x, y) => y.k - x.k)
  const evenRun = (list: typeof byAge): number => {
    if (list.length < 2) return 1
    const stride = list[0]!.k - list[1]!.k
    for (let j = 2; j < list.length; j++) if (list[j - 1]!.k - list[j]!.k !== stride) return 0
    return stride
  }
  const asRun = (list: typeof byAge, stride: number, solo?: { k: number; h: number }): PhaseLayout => ({
    run: list.map((t) => t.k),
    runCoefficients: list.map((t) => t.h),
    stride,
    solo: solo?.k ?? 0,
    soloCoefficient: solo?.h ?? 0
  })
  if (byAge.length === 1) return asRun([], 1, byAge[0])
  const whole = evenRun(byAge)
  if (whole > 0) return asRun(byAge, whole)
  const centreTap = byAge.find((t) => t.k === centreK)
  if (centreTap !== undefined) {
    const rest = byAge.filter((t) => t !== centreTap)
    const stride = evenRun(rest)
    if (stride > 0) return asRun(rest, stride, centreTap)
  }
  const dense: { k: number; h: number }[] = []
  for (let k = byAge[0]!.k; k >= byAge[byAge.length - 1]!.k; k--) dense.push({ k, h: byAge.find((t) => t.k === k)?.h ?? 0 })
  return asRun(dense, 1)
}

function besselI0(x: number): number {
  let sum = 1
  let term = 1
  const half = x / 2
  for (let k = 1; k < 200; k++) {
    term *= (half / k) * (half / k)
    sum += term
    if (term < sum * 1e-17) break
  }
  return sum
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}
