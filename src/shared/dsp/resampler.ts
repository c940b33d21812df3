/** Streaming windowed-sinc polyphase resampler between 8, 16, 24 and 48 kHz, state carried across frames. */
import { CallbenchError } from '../errors.js'
import { planBanks, type FilterBank } from './resampler-design.js'

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

const SUPPORTED_RATES_HZ: readonly number[] = [8000, 16000, 24000, 48000]

/** Whether the resampler has filters for this rate (an audio device's 44.1 kHz, for one, it has not). */
export function isResamplerRate(rateHz: number): rateHz is ResamplerRateHz {
  return SUPPORTED_RATES_HZ.includes(rateHz)
}

/**
 * Converts mono 16-bit (or float) audio between two rates. Feeding a signal frame by frame gives
 * exactly the samples that feeding it whole gives. Output lags input by {@link groupDelayMs}.
 * Filters (Kaiser-windowed sinc, ≥ 130 dB stopband) are designed once per process and shared.
 */
export class Resampler {
  readonly fromHz: ResamplerRateHz
  readonly toHz: ResamplerRateHz
  /** Delay through the filters, in output samples (an integer). */
  readonly groupDelayOutputSamples: number
  /** Delay through the filters, in input samples (an integer). */
  readonly groupDelayInputSamples: number
  readonly groupDelayMs: number

  readonly #stages: Stage[]
  readonly #maxChunk: number
  // Output of the last stage for one chunk, before conversion to the caller's type.
  readonly #result: Float64Array
  #scratchInt16: Int16Array = new Int16Array(0)
  #scratchInt16View: Int16Array = new Int16Array(0)
  #scratchFloat: Float32Array = new Float32Array(0)
  #scratchFloatView: Float32Array = new Float32Array(0)
  #zeros: Int16Array | undefined

  constructor(opts: ResamplerOptions) {
    for (const rate of [opts.fromHz, opts.toHz]) {
      if (!isResamplerRate(rate)) {
        throw new CallbenchError('unsupported', `Resampler does not support ${rate} Hz`, { field: 'sampleRateHz' })
      }
    }
    this.fromHz = opts.fromHz
    this.toHz = opts.toHz
    this.#maxChunk = Math.max(1, Math.floor(opts.maxChunkSamples ?? 960))
    const plan = planBanks(opts.fromHz, opts.toHz)
    this.#stages = []
    let chunk = this.#maxChunk
    for (const bank of plan.banks) {
      this.#stages.push(new Stage(bank, chunk))
      chunk = Math.ceil((chunk * bank.up) / bank.down) + 1
    }
    this.#result = new Float64Array(chunk)
    this.groupDelayOutputSamples = plan.delayOutputSamples
    this.groupDelayInputSamples = plan.delayInputSamples
    this.groupDelayMs = (this.groupDelayOutputSamples * 1000) / opts.toHz
  }

  /** Number of samples the next `process` call will produce for `inputLength` input samples. */
  outputLengthFor(inputLength: number): number {
    let n = inputLength
    for (const stage of this.#stages) n = stage.outputLengthFor(n)
    return n
  }

  /**
   * Resamples `input` and returns the samples produced, rounded and clipped to 16 bits. Without
   * `output`, the result is a view of a buffer owned by this resampler, valid until the next call.
   * With `output` (which must hold {@link outputLengthFor} samples), `output` itself is returned
   * when it is filled exactly, so fixed-size frames allocate nothing.
   */
  process(input: Int16Array, output?: Int16Array): Int16Array {
    const count = this.outputLengthFor(input.length)
    let out: Int16Array
    if (output !== undefined) {
      checkRoom(output.length, count)
      out = output
    } else {
      if (this.#scratchInt16.length < count)
        this.#scratchInt16 = new Int16Array(Math.max(count, 2 * this.#scratchInt16.length))
      out = this.#scratchInt16
    }
    const result = this.#result
    let written = 0
    for (let start = 0; start < input.length; start += this.#maxChunk) {
      const end = Math.min(input.length, start + this.#maxChunk)
      const into = this.#stages[0]!.input
      for (let i = start; i < end; i++) into[i - start] = input[i]!
      const n = this.#runStages(end - start)
      for (let i = 0; i < n; i++) {
        const v = result[i]!
        const rounded = v < 0 ? v - 0.5 : v + 0.5
        out[written++] = rounded >= 32767 ? 32767 : rounded <= -32768 ? -32768 : rounded | 0
      }
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
    let out = output
    if (out === undefined) {
      const count = this.outputLengthFor(input.length)
      if (this.#scratchFloat.length < count)
        this.#scratchFloat = new Float32Array(Math.max(count, 2 * this.#scratchFloat.length))
      out = this.#scratchFloat
    }
    const written = this.processFloatInto(input, out)
    if (out.length === written) return out
    if (output !== undefined) return out.subarray(0, written)
    if (this.#scratchFloatView.buffer !== out.buffer || this.#scratchFloatView.length !== written) {
      this.#scratchFloatView = out.subarray(0, written)
    }
    return this.#scratchFloatView
  }

  /**
   * Like {@link processFloat} on the first `inputLength` samples of `input`, written to `output` from
   * `outputOffset` (room for {@link outputLengthFor} samples); returns how many were written. For
   * callers that gather output of varying length in one buffer: nothing is allocated, not even a view.
   */
  processFloatInto(input: Float32Array, output: Float32Array, outputOffset = 0, inputLength = input.length): number {
    checkRoom(output.length - outputOffset, this.outputLengthFor(inputLength))
    const result = this.#result
    let written = outputOffset
    for (let start = 0; start < inputLength; start += this.#maxChunk) {
      const end = Math.min(inputLength, start + this.#maxChunk)
      const into = this.#stages[0]!.input
      for (let i = start; i < end; i++) into[i - start] = input[i]!
      const n = this.#runStages(end - start)
      for (let i = 0; i < n; i++) output[written++] = result[i]!
    }
    return written - outputOffset
  }

  /**
   * Pushes out the last {@link groupDelayOutputSamples} samples still inside the filters (by
   * feeding silence), then resets. Returns a new array.
   */
  flush(): Int16Array {
    this.#zeros ??= new Int16Array(this.groupDelayInputSamples)
    const tail = this.process(this.#zeros).slice()
    this.reset()
    return tail
  }

  /** Forgets all history, as if newly constructed. */
  reset(): void {
    for (const stage of this.#stages) stage.reset()
  }

  // Runs `n` samples already in the first stage's input through every stage into #result.
  #runStages(n: number): number {
    const stages = this.#stages
    for (let s = 0; s < stages.length; s++) {
      const next = s + 1 < stages.length ? stages[s + 1]!.input : this.#result
      n = stages[s]!.run(n, next)
    }
    return n
  }
}

/** One polyphase filter with its history. */
class Stage {
  readonly #bank: FilterBank
  // The last `history` input samples, then room for one chunk of new input.
  readonly #window: Float64Array
  /** Where the next chunk of input goes. */
  readonly input: Float64Array
  // Upsampled time of the next output, counted from the first sample of the next input.
  #nextTime = 0

  constructor(bank: FilterBank, maxChunk: number) {
    this.#bank = bank
    this.#window = new Float64Array(bank.history + maxChunk)
    this.input = this.#window.subarray(bank.history)
  }

  outputLengthFor(inputLength: number): number {
    const span = inputLength * this.#bank.up - this.#nextTime
    return span > 0 ? Math.ceil(span / this.#bank.down) : 0
  }

  // Filters `n` samples placed in `input`; writes the outputs to `out` from 0 and returns their count.
  run(n: number, out: Float64Array): number {
    const bank = this.#bank
    const { up, down } = bank
    const window = this.#window
    const limit = n * up
    let time = this.#nextTime
    let o = 0
    if (bank.folded) {
      while (time < limit) {
        out[o++] = foldedAt(bank, window, time)
        time += down
      }
    } else if (time < limit) {
      let base = (time / up) | 0
      let phase = time - base * up
      while (time < limit) {
        out[o++] = phaseAt(bank, phase, window, base)
        time += down
        phase += down
        while (phase >= up) {
          phase -= up
          base++
        }
      }
    }
    window.copyWithin(0, n, n + bank.history)
    this.#nextTime = time - limit
    return o
  }

  reset(): void {
    this.#window.fill(0)
    this.#nextTime = 0
  }
}

// One output of a phase; `base` is the window index of the oldest history sample it reads.
// Four accumulators break the add-latency chain. The order of the additions depends only on the
// tap, so how the input was chunked never changes a result.
function phaseAt(bank: FilterBank, phase: number, window: Float64Array, base: number): number {
  const coefficients = bank.coefficients
  const stride = bank.runStride[phase]!
  let c = bank.runStart[phase]!
  let w = base + bank.runOffset[phase]!
  const end = c + bank.runLength[phase]!
  let a0 = 0
  let a1 = 0
  let a2 = 0
  let a3 = 0
  if (stride === 1) {
    for (; c < end; c += 4, w += 4) {
      a0 += coefficients[c]! * window[w]!
      a1 += coefficients[c + 1]! * window[w + 1]!
      a2 += coefficients[c + 2]! * window[w + 2]!
      a3 += coefficients[c + 3]! * window[w + 3]!
    }
  } else {
    for (; c < end; c += 4, w += 4 * stride) {
      a0 += coefficients[c]! * window[w]!
      a1 += coefficients[c + 1]! * window[w + stride]!
      a2 += coefficients[c + 2]! * window[w + 2 * stride]!
      a3 += coefficients[c + 3]! * window[w + 3 * stride]!
    }
  }
  return bank.soloCoefficient[phase]! * window[base + bank.soloOffset[phase]!]! + (a0 + a1 + (a2 + a3))
}

// One output of a folded (single-phase, symmetric) bank: each coefficient takes a mirrored pair.
// With up === 1 the upsampled time is the input index.
function foldedAt(bank: FilterBank, window: Float64Array, base: number): number {
  const coefficients = bank.coefficients
  const stride = bank.runStride[0]!
  let c = 0
  let x = base + bank.runOffset[0]!
  let y = base + bank.runMirror[0]!
  const end = bank.runLength[0]!
  let a0 = 0
  let a1 = 0
  let a2 = 0
  let a3 = 0
  if (stride === 1) {
    for (; c < end; c += 4, x += 4, y -= 4) {
      a0 += coefficients[c]! * (window[x]! + window[y]!)
      a1 += coefficients[c + 1]! * (window[x + 1]! + window[y - 1]!)
      a2 += coefficients[c + 2]! * (window[x + 2]! + window[y - 2]!)
      a3 += coefficients[c + 3]! * (window[x + 3]! + window[y - 3]!)
    }
  } else {
    for (; c < end; c += 4, x += 4 * stride, y -= 4 * stride) {
      a0 += coefficients[c]! * (window[x]! + window[y]!)
      a1 += coefficients[c + 1]! * (window[x + stride]! + window[y - stride]!)
      a2 += coefficients[c + 2]! * (window[x + 2 * stride]! + window[y - 2 * stride]!)
      a3 += coefficients[c + 3]! * (window[x + 3 * stride]! + window[y - 3 * stride]!)
    }
  }
  return bank.soloCoefficient[0]! * window[base + bank.soloOffset[0]!]! + (a0 + a1 + (a2 + a3))
}

function checkRoom(available: number, needed: number): void {
  if (available < needed)
    throw new CallbenchError('internal', `Resampler output holds ${available} samples, needs ${needed}`)
}
