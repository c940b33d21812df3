// Agent audio → speaker: the Twilio-like queue at 8 kHz, upsampled to the audio context's rate block by block.
import { SAMPLE_RATE_HZ } from './media-protocol.js'
import { PlaybackQueue } from './playback-queue.js'
import { PolyphaseResampler } from './resampler.js'

/** Largest render block supported (Web Audio renders 128 frames; a render size hint may raise it). */
const MAX_BLOCK = 4096

export class PlaybackRenderer {
  readonly queue = new PlaybackQueue()
  readonly #resampler: PolyphaseResampler
  readonly #input: Float32Array
  readonly #fifo: Float32Array
  #fifoLength = 0

  constructor(outputRateHz: number) {
    this.#resampler = new PolyphaseResampler({ inputRateHz: SAMPLE_RATE_HZ, outputRateHz })
    const maxInput = Math.ceil((MAX_BLOCK * this.#resampler.down) / this.#resampler.up) + 1
    this.#input = new Float32Array(maxInput)
    this.#fifo = new Float32Array(MAX_BLOCK + this.#resampler.maxOutputFor(maxInput))
  }

  /**
   * Fills `out` with the next block for the speaker (silence when nothing is queued) and pushes the names of
   * the marks played by then onto `playedMarks`. Returns the real 8 kHz samples consumed.
   */
  render(out: Float32Array, playedMarks: string[]): number {
    const n = Math.min(out.length, MAX_BLOCK)
    const { up, down } = this.#resampler
    let consumed = 0
    while (this.#fifoLength < n) {
      const need = Math.max(1, Math.ceil(((n - this.#fifoLength) * down) / up))
      consumed += this.queue.pull(this.#input, need, playedMarks)
      this.#fifoLength += this.#resampler.process(this.#input, this.#fifo, need, this.#fifoLength)
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
