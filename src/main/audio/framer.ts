/** Re-chunks a byte stream of any chunk sizes into whole fixed-size frames (20 ms of μ-law by default). */
import { CallbenchError } from '../../shared/errors.js'
import { TWILIO_FRAME_BYTES } from './format.js'

/** Frames handed out are carved from shared slabs of this size: one ArrayBuffer per 64 KB, not one per chunk. */
const SLAB_BYTES = 64 * 1024
let slab = new ArrayBuffer(SLAB_BYTES)
let slabUsed = 0

/**
 * A new plain Uint8Array of `n` bytes, a view of a shared slab when small (each byte is handed out once). Plain,
 * not a Buffer: `subarray` of a Buffer goes through its species constructor, and the playout takes one per frame.
 */
function allocFrames(n: number): Uint8Array {
  if (n > SLAB_BYTES / 4) return new Uint8Array(n)
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    slabUsed = 0
  }
  const out = new Uint8Array(slab, slabUsed, n)
  slabUsed += n
  return out
}

/**
 * Hands out whole frames a chunk at a time: what a pushed chunk completes comes back as one buffer of whole frames
 * (one allocation and one copy per chunk, not per frame), the rest waits for the next push.
 */
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

  /**
   * The whole frames `chunk` completes (held-back bytes first), in a new buffer the caller owns, or undefined when
   * it completes none; keeps the rest. `chunk` is not kept: the caller may reuse it.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const held = this.#partialBytes
    const total = held + chunk.length
    const whole = total - (total % this.frameBytes)
    if (whole === 0) {
      this.#partial.set(chunk, held)
      this.#partialBytes = total
      return undefined
    }
    const out = allocFrames(whole)
    if (held > 0) out.set(this.#partial.subarray(0, held), 0)
    const used = whole - held
    out.set(used === chunk.length ? chunk : chunk.subarray(0, used), held)
    if (used < chunk.length) this.#partial.set(chunk.subarray(used), 0)
    this.#partialBytes = chunk.length - used
    return out
  }

  /** The held-back bytes as one last frame padded with `padByte` (0xff is μ-law silence), or undefined if none. */
  flush(padByte: number): Uint8Array | undefined {
    const held = this.#partialBytes
    if (held === 0) return undefined
    this.#partialBytes = 0
    const out = allocFrames(this.frameBytes)
    out.set(this.#partial.subarray(0, held), 0)
    out.fill(padByte, held)
    return out
  }

  /** Drops the held-back bytes (on barge-in, the rest of the reply must not be played). */
  reset(): void {
    this.#partialBytes = 0
  }
}
