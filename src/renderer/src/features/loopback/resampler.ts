// Resamplers for the loopback worklets: the shared one where it has filters, a general one for other device rates.
import { isResamplerRate, Resampler } from '../../../../shared/dsp/resampler.js'

/** What the worklets need of a resampler; the shared {@link Resampler} has it. */
export interface FloatResampler {
  readonly fromHz: number
  readonly toHz: number
  outputLengthFor(inputLength: number): number
  processFloatInto(input: Float32Array, output: Float32Array, outputOffset?: number, inputLength?: number): number
}

/**
 * The shared resampler (the core's, 130 dB) between 8, 16, 24 and 48 kHz. The audio context runs at the
 * device's rate, and the shared one has no filters for 44.1 kHz, 96 kHz and the like: those get
 * {@link AnyRateResampler}.
 */
export function floatResampler(fromHz: number, toHz: number): FloatResampler {
  return isResamplerRate(fromHz) && isResamplerRate(toHz)
    ? new Resampler({ fromHz, toHz })
    : new AnyRateResampler(fromHz, toHz)
}

const STOPBAND_DB = 70
// The stopband starts at the lower Nyquist frequency, so nothing above it can alias; at 8 kHz the band is flat
// to 3.4 kHz.
const TRANSITION_HZ = 600

/**
 * Converts a float signal between any two integer rates (Kaiser-windowed sinc, polyphase), state carried
 * across calls: block by block gives the same samples as whole. Each output costs `tapsPerPhase`
 * multiply-adds; nothing is allocated after construction.
 */
export class AnyRateResampler implements FloatResampler {
  readonly fromHz: number
  readonly toHz: number
  /** Upsampling factor L of L/M. */
  readonly up: number
  /** Downsampling factor M of L/M. */
  readonly down: number
  readonly tapsPerPhase: number
  /** Delay through the filter, in output samples. */
  readonly delayOutputSamples: number
  // coeffs[p * K + j] multiplies history[pos + j] (oldest first) for phase p.
  readonly #coeffs: Float32Array
  // Each sample is written twice, K apart, so the window history[pos .. pos + K) is always contiguous.
  readonly #history: Float32Array
  #pos = 0
  // Upsampled time of the next output, counted from the next input sample.
  #phase = 0

  constructor(fromHz: number, toHz: number) {
    if (!(Number.isInteger(fromHz) && Number.isInteger(toHz) && fromHz > 0 && toHz > 0)) {
      throw new RangeError('sample rates must be positive integers')
    }
    const g = gcd(fromHz, toHz)
    this.fromHz = fromHz
    this.toHz = toHz
    this.up = toHz / g
    this.down = fromHz / g
    const filterRateHz = fromHz * this.up
    const cutoffHz = Math.min(fromHz, toHz) / 2 - TRANSITION_HZ / 2
    // Kaiser's estimate of the length for this attenuation and transition width.
    const estimate = Math.ceil((STOPBAND_DB - 7.95) / (2.285 * 2 * Math.PI * (TRANSITION_HZ / filterRateHz))) + 1
    const K = Math.max(1, Math.ceil(estimate / this.up))
    const N = K * this.up
    const prototype = kaiserLowpass(N, cutoffHz / filterRateHz, 0.1102 * (STOPBAND_DB - 8.7))
    this.tapsPerPhase = K
    this.#coeffs = new Float32Array(N)
    for (let p = 0; p < this.up; p++) {
      for (let k = 0; k < K; k++) this.#coeffs[p * K + (K - 1 - k)] = prototype[p + k * this.up]! * this.up
    }
    this.#history = new Float32Array(2 * K)
    this.delayOutputSamples = (N - 1) / 2 / this.down
  }

  /** Number of samples the next call produces for `inputLength` input samples. */
  outputLengthFor(inputLength: number): number {
    const span = inputLength * this.up - this.#phase
    return span > 0 ? Math.ceil(span / this.down) : 0
  }

  /**
   * Resamples the first `inputLength` samples of `input` into `output` from `outputOffset` (room for
   * {@link outputLengthFor} samples); returns how many were written.
   */
  processFloatInto(input: Float32Array, output: Float32Array, outputOffset = 0, inputLength = input.length): number {
    if (output.length - outputOffset < this.outputLengthFor(inputLength)) {
      throw new RangeError(`resampler output needs ${this.outputLengthFor(inputLength)} samples`)
    }
    const K = this.tapsPerPhase
    const { up, down } = this
    const history = this.#history
    const coeffs = this.#coeffs
    let o = outputOffset
    for (let i = 0; i < inputLength; i++) {
      const sample = input[i]!
      history[this.#pos] = sample
      history[this.#pos + K] = sample
      this.#pos = this.#pos + 1 === K ? 0 : this.#pos + 1
      const start = this.#pos
      while (this.#phase < up) {
        const base = this.#phase * K
        let acc = 0
        for (let j = 0; j < K; j++) acc += coeffs[base + j]! * history[start + j]!
        output[o++] = acc
        this.#phase += down
      }
      this.#phase -= up
    }
    return o - outputOffset
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1
  let term = 1
  const half = x / 2
  for (let k = 1; k < 50; k++) {
    term *= (half / k) ** 2
    sum += term
    if (term < sum * 1e-12) break
  }
  return sum
}

/** A linear-phase low-pass of `length` taps with unity DC gain; `cutoff` is a fraction of the sample rate. */
function kaiserLowpass(length: number, cutoff: number, beta: number): Float64Array {
  const h = new Float64Array(length)
  const centre = (length - 1) / 2
  const i0Beta = besselI0(beta)
  let sum = 0
  for (let n = 0; n < length; n++) {
    const t = n - centre
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t)
    const r = centre === 0 ? 0 : t / centre
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta
    h[n] = sinc * window
    sum += h[n]!
  }
  for (let n = 0; n < length; n++) h[n] = h[n]! / sum
  return h
}
