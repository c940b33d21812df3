/** Re-chunks a byte stream of any chunk sizes into fixed-size frames (20 ms of μ-law by default). */
import { CallbenchError } from '../../shared/errors.js'
import { TWILIO_FRAME_BYTES } from './format.js'

/**
 * Receives each frame. The frame is only valid during the call: it is either a view of the pushed
 * chunk or the framer's own buffer, reused for the next frame. Copy it to keep it.
 */
export type FrameHandler = (frame: Uint8Array) => void

export class Framer {
  readonly frameBytes: number
  readonly #partial: Uint8Array
  #partialBytes = 0

  constructor(frameBytes: number = TWILIO_FRAME_BYTES) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new CallbenchError('internal', 'Frame size must be a positive integer', { field: 'frameBytes' })
    }
    this.frameBytes = frameBytes
    this.#partial = new Uint8Array(frameBytes)
  }

  /** Bytes held back until the next push completes a frame. */
  get pendingBytes(): number {
    return this.#partialBytes
  }

  /** Emits every frame that `chunk` completes; keeps the rest for later. */
  push(chunk: Uint8Array, onFrame: FrameHandler): void {
    const size = this.frameBytes
    let offset = 0
    if (this.#partialBytes > 0) {
      const take = Math.min(size - this.#partialBytes, chunk.length)
      this.#partial.set(chunk.subarray(0, take), this.#partialBytes)
      this.#partialBytes += take
      offset = take
      if (this.#partialBytes < size) return
      this.#partialBytes = 0
      onFrame(this.#partial)
    }
    // Whole frames straight out of the chunk, without a copy.
    while (chunk.length - offset >= size) {
      onFrame(offset === 0 && chunk.length === size ? chunk : chunk.subarray(offset, offset + size))
      offset += size
    }
    if (offset < chunk.length) {
      this.#partial.set(chunk.subarray(offset), 0)
      this.#partialBytes = chunk.length - offset
    }
  }

  /**
   * Emits the held-back bytes as one last frame padded with `padByte` (0xff is μ-law silence).
   * Returns whether a frame was emitted.
   */
  flush(padByte: number, onFrame: FrameHandler): boolean {
    if (this.#partialBytes === 0) return false
    this.#partial.fill(padByte, this.#partialBytes)
    this.#partialBytes = 0
    onFrame(this.#partial)
    return true
  }

  /** Drops the held-back bytes (on barge-in, the rest of the reply must not be played). */
  reset(): void {
    this.#partialBytes = 0
  }
}
