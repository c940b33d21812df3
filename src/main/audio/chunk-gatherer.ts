/**
 * Gathers small audio chunks into pieces of at least `bytes`: each chunk is copied once, into a reused buffer.
 *
 * With `quiet` options (μ-law input only), a caller who has been silent for a while is sent in bigger pieces:
 * each piece is a message, a system call and a TLS record, and most of a call's caller audio is the silence while
 * the agent talks. The bigger pieces never delay what the service's turn detection acts on: they start only
 * `quiet.afterBytes` after the last sound (longer than the service waits to end a turn), and the first sound after
 * a quiet spell is sent at once, with whatever was held before it, so a barge-in reaches the service sooner than it
 * would at the normal piece size.
 */
export interface QuietOptions {
  /** Piece size once the caller has been quiet for `afterBytes`. */
  readonly bytes: number
  /** Quiet time after the last sound before pieces grow, in bytes of input (μ-law: 8 a ms). */
  readonly afterBytes: number
}

/**
 * A μ-law byte is a sound when its magnitude code (`~b & 0x7f`) reaches this: 13 decodes to ±104 of 32768, about
 * −50 dBFS, under quiet speech and over a line's idle noise. Silence (0xff / 0x7f) has code 0.
 */
const LOUD_CODE = 13
/** A sound after this much quiet (100 ms of μ-law) is an onset: flushed at once. */
const ONSET_AFTER_BYTES = 800

/** True when a μ-law chunk holds any sample at or above {@link LOUD_CODE}. */
export function ulawHasSound(chunk: Uint8Array): boolean {
  for (let i = 0; i < chunk.length; i++) if ((~chunk[i]! & 0x7f) >= LOUD_CODE) return true
  return false
}

export class ChunkGatherer {
  readonly bytes: number
  readonly #quiet: QuietOptions | undefined
  #buf: Uint8Array
  #length = 0
  /** Input since the last sound, bytes (quiet mode only). */
  #sinceSound = 0

  constructor(bytes: number, quiet?: QuietOptions) {
    this.bytes = Math.max(1, bytes)
    this.#quiet = quiet && quiet.bytes > this.bytes ? quiet : undefined
    this.#buf = new Uint8Array(Math.max(this.bytes, this.#quiet?.bytes ?? 0) * 2)
  }

  get length(): number {
    return this.#length
  }

  /** True while the caller has been quiet long enough that pieces are `quiet.bytes`. */
  get quiet(): boolean {
    return this.#quiet !== undefined && this.#sinceSound >= this.#quiet.afterBytes
  }

  /** Adds a chunk (copied); true once the piece should go: `bytes` or more held, or a sound after a quiet spell. */
  push(chunk: Uint8Array): boolean {
    const need = this.#length + chunk.byteLength
    if (need > this.#buf.length) {
      const grown = new Uint8Array(need * 2)
      grown.set(this.#buf.subarray(0, this.#length))
      this.#buf = grown
    }
    this.#buf.set(chunk, this.#length)
    this.#length = need
    const quiet = this.#quiet
    if (quiet === undefined) return need >= this.bytes
    if (ulawHasSound(chunk)) {
      const onset = this.#sinceSound >= ONSET_AFTER_BYTES
      this.#sinceSound = 0
      return onset || need >= this.bytes
    }
    this.#sinceSound += chunk.byteLength
    return need >= (this.#sinceSound >= quiet.afterBytes ? quiet.bytes : this.bytes)
  }

  /** Everything held, as a view that is valid until the next `push`; the gatherer is empty after. */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#length)
    this.#length = 0
    return out
  }
}
