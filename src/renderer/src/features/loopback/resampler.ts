// Streaming rational resampler (Kaiser-windowed sinc, polyphase) for the loopback call's microphone and speaker.

/** Options for {@link PolyphaseResampler}. */
export interface ResamplerOptions {
  inputRateHz: number
  outputRateHz: number
  /** Stopband attenuation, dB. Default 70. */
  stopbandDb?: number
  /**
   * Width of the transition band below the lower Nyquist frequency, Hz. The stopband starts at
   * min(input, output) / 2, so nothing above it can alias. Default 600 (8 kHz telephony: flat to 3.4 kHz).
   */
  transitionHz?: number
}

/**
 * Converts a float signal between two rates, state carried across calls: feeding a signal block by block
 * gives the same samples as feeding it whole. Each output costs `tapsPerPhase` multiply-adds; nothing is
 * allocated after construction.
 */
export class PolyphaseResampler {
  readonly inputRateHz: number
  readonly outputRateHz: number
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
  #phase = 0

  constructor(opts: ResamplerOptions) {
    const { inputRateHz, outputRateHz } = opts
    if (!(Number.isInteger(inputRateHz) && Number.isInteger(outputRateHz) && inputRateHz > 0 && outputRateHz > 0)) {
      throw new RangeError('sample rates must be positive integers')
    }
    const g = gcd(inputRateHz, outputRateHz)
    this.inputRateHz = inputRateHz
    this.outputRateHz = outputRateHz
    this.up = outputRateHz / g
    this.down = inputRateHz / g
    const stopbandDb = opts.stopbandDb ?? 70
    const transitionHz = opts.transitionHz ?? 600
    const filterRateHz = inputRateHz * this.up
    const stopEdgeHz = Math.min(inputRateHz, outputRateHz) / 2
    const cutoffHz = stopEdgeHz - transitionHz / 2
    // Kaiser's estimate of the length for this attenuation and transition width.
    const estimate = Math.ceil((stopbandDb - 7.95) / (2.285 * 2 * Math.PI * (transitionHz / filterRateHz))) + 1
    const K = Math.max(1, Math.ceil(estimate / this.up))
    const N = K * this.up
    const prototype = kaiserLowpass(N, cutoffHz / filterRateHz, kaiserBeta(stopbandDb))
    this.tapsPerPhase = K
    this.#coeffs = new Float32Array(N)
    for (let p = 0; p < this.up; p++) {
      for (let k = 0; k < K; k++) this.#coeffs[p * K + (K - 1 - k)] = prototype[p + k * this.up]! * this.up
    }
    this.#history = new Float32Array(2 * K)
    this.delayOutputSamples = (N - 1) / 2 / this.down
  }

  /** Upper bound of the outputs `process` produces for `inputLength` inputs. */
  maxOutputFor(inputLength: number): number {
    return Math.ceil((inputLength * this.up) / this.down) + 1
  }

  /**
   * Resamples `inputLength` samples of `input` into `output` from `outputOffset`; returns how many
   * samples were written. `output` needs room for {@link maxOutputFor}.
   */
  process(input: Float32Array, output: Float32Array, inputLength = input.length, outputOffset = 0): number {
    let o = outputOffset
    for (let i = 0; i < inputLength; i++) o += this.push(input[i]!, output, o)
    return o - outputOffset
  }

  /** Feeds one input sample; writes the 0…⌈L/M⌉ outputs it completes at `output[offset…]`, returns their count. */
  push(sample: number, output: Float32Array, offset: number): number {
    const K = this.tapsPerPhase
    const history = this.#history
    const coeffs = this.#coeffs
    history[this.#pos] = sample
    history[this.#pos + K] = sample
    this.#pos = this.#pos + 1 === K ? 0 : this.#pos + 1
    const start = this.#pos
    let written = 0
    while (this.#phase < this.up) {
      const base = this.#phase * K
      let acc = 0
      for (let j = 0; j < K; j++) acc += coeffs[base + j]! * history[start + j]!
      output[offset + written++] = acc
      this.#phase += this.down
    }
    this.#phase -= this.up
    return written
  }

  /** Forgets all history (as after a clear). */
  reset(): void {
    this.#history.fill(0)
    this.#pos = 0
    this.#phase = 0
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

function kaiserBeta(stopbandDb: number): number {
  if (stopbandDb > 50) return 0.1102 * (stopbandDb - 8.7)
  if (stopbandDb >= 21) return 0.5842 * (stopbandDb - 21) ** 0.4 + 0.07886 * (stopbandDb - 21)
  return 0
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
