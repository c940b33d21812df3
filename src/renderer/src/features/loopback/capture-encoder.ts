// Microphone → Twilio frames: low-pass and decimate to 8 kHz, μ-law encode, cut into 160-byte (20 ms) frames.
import { encodeFloatsToUlaw } from './g711.js'
import { FRAME_BYTES, SAMPLE_RATE_HZ } from './media-protocol.js'
import { PolyphaseResampler } from './resampler.js'

/** Turns blocks of microphone samples at any rate into μ-law frames, state kept across blocks. */
export class CaptureEncoder {
  readonly #resampler: PolyphaseResampler
  #scratch: Float32Array
  readonly #frame = new Float32Array(FRAME_BYTES)
  #fill = 0

  constructor(inputRateHz: number) {
    this.#resampler = new PolyphaseResampler({ inputRateHz, outputRateHz: SAMPLE_RATE_HZ })
    this.#scratch = new Float32Array(this.#resampler.maxOutputFor(128))
  }

  /** Feeds one block; calls `onFrame` with a fresh 160-byte μ-law frame for each 20 ms completed. */
  push(block: Float32Array, onFrame: (frame: Uint8Array) => void): void {
    const needed = this.#resampler.maxOutputFor(block.length)
    if (this.#scratch.length < needed) this.#scratch = new Float32Array(needed)
    const produced = this.#resampler.process(block, this.#scratch)
    for (let i = 0; i < produced;) {
      const take = Math.min(FRAME_BYTES - this.#fill, produced - i)
      this.#frame.set(this.#scratch.subarray(i, i + take), this.#fill)
      this.#fill += take
      i += take
      if (this.#fill === FRAME_BYTES) {
        // A fresh buffer per frame: it is transferred to the main thread.
        const out = new Uint8Array(FRAME_BYTES)
        encodeFloatsToUlaw(this.#frame, out)
        this.#fill = 0
        onFrame(out)
      }
    }
  }
}
