// Agent audio → speaker: the Twilio-like queue at 8 kHz, upsampled to the audio context's rate block by block.
import { SAMPLE_RATE_HZ } from './media-protocol.js'
import { PlaybackQueue } from './playback-queue.js'
import { floatResampler, type FloatResampler } from './resampler.js'

/** Largest render block supported (Web Audio renders 128 frames; a render size hint may raise it). */
const MAX_BLOCK = 4096

export class PlaybackRenderer {
  readonly queue = new PlaybackQueue()
  readonly #resampler: FloatResampler
  readonly #input: Float32Array
  readonly #fifo: Float32Array
  #fifoLength = 0

  constructor(outputRateHz: number) {
    this.#resampler = floatResampler(SAMPLE_RATE_HZ, outputRateHz)
    const maxInput = Math.ceil((MAX_BLOCK * SAMPLE_RATE_HZ) / outputRateHz) + 1
    this.#input = new Float32Array(maxInput)
    // What is left of the last block, and at most ⌈maxInput · out / in⌉ + 1 samples from one call.
    this.#fifo = new Float32Array(MAX_BLOCK + Math.ceil((maxInput * outputRateHz) / SAMPLE_RATE_HZ) + 1)
  }

  /**
   * Fills `out` with the next block for the speaker (silence when nothing is queued) and pushes the names of
   * the marks played by then onto `playedMarks`. Returns the real 8 kHz samples consumed.
   */
  render(out: Float32Array, playedMarks: string[]): number {
    const n = Math.min(out.length, MAX_BLOCK)
    const { fromHz, toHz } = this.#resampler
    let consumed = 0
    while (this.#fifoLength < n) {
      const need = Math.max(1, Math.ceil(((n - this.#fifoLength) * fromHz) / toHz))
      consumed += this.queue.pull(this.#input, need, playedMarks)
      this.#fifoLength += this.#resampler.processFloatInto(this.#input, this.#fifo, this.#fifoLength, need)
    }
    out.set(this.#fifo.subarray(0, n))
    this.#fifo.copyWithin(0, n, this.#fifoLength)
    this.#fifoLength -= n
    return consumed
  }

  /** Drops queued audio (Twilio `clear`); returns the pending marks to echo at once. */
  clear(): string[] {
    return this.queue.clear()
  }
}
