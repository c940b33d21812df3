// Microphone → Twilio frames: low-pass and decimate to 8 kHz, μ-law encode, cut into 160-byte (20 ms) frames.
import { linearToUlaw } from '../../../../shared/dsp/g711.js'
import { FRAME_BYTES, SAMPLE_RATE_HZ } from './media-protocol.js'
import { floatResampler, type FloatResampler } from './resampler.js'

/** Turns blocks of microphone samples at any rate into μ-law frames, state kept across blocks. */
export class CaptureEncoder {
  readonly #resampler: FloatResampler
  #scratch = new Float32Array(0)
  #frame = new Uint8Array(FRAME_BYTES)
  #fill = 0

  constructor(inputRateHz: number) {
    this.#resampler = floatResampler(inputRateHz, SAMPLE_RATE_HZ)
  }

  /** Feeds one block; calls `onFrame` with a fresh 160-byte μ-law frame for each 20 ms completed. */
  push(block: Float32Array, onFrame: (frame: Uint8Array) => void): void {
    const needed = this.#resampler.outputLengthFor(block.length)
    if (this.#scratch.length < needed) this.#scratch = new Float32Array(needed)
    const produced = this.#resampler.processFloatInto(block, this.#scratch)
    for (let i = 0; i < produced; i++) {
      this.#frame[this.#fill++] = linearToUlaw(this.#scratch[i]! * 32768)
      if (this.#fill === FRAME_BYTES) {
        onFrame(this.#frame)
        // A fresh buffer per frame: the last one was transferred to the main thread.
        this.#frame = new Uint8Array(FRAME_BYTES)
        this.#fill = 0
      }
    }
  }
}
