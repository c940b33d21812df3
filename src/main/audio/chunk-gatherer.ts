/**
 * Gathers small audio chunks into pieces of at least `bytes`: each chunk is copied once, into a reused buffer.
 *
 * Each piece is a message, a system call and a TLS record, so bigger pieces cost less, as long as they never delay
 * what the service must act on promptly. With `quiet` or `speech` options (μ-law input only) the piece size follows
 * what the caller is doing:
 *
 * - Quiet: a caller who has been silent for a while (most of a call's caller audio is the silence while the agent
 *   talks) goes in `quiet.bytes` pieces. They start only `quiet.afterBytes` after the last sound (longer than the
 *   service waits to end a turn), and the first sound after a quiet spell is sent at once, with whatever was held
 *   before it, so a barge-in reaches the service sooner than it would at the normal piece size.
 * - Speech: while the owner allows it (nothing of the agent's playing or due, so no barge-in can happen and the
 *   service's speech-start timing does not matter), speech goes in `speech.bytes` pieces. The first frame without
 *   sound sends what is held at once: the end of the caller's turn is what the service acts on. A line whose noise
 *   is over the sound threshold may never have such a frame, so speech is held only on a line that was quiet lately.
 */
export interface QuietOptions {
  /** Piece size once the caller has been quiet for `afterBytes`. */
  readonly bytes: number
  /** Quiet time after the last sound before pieces grow, in bytes of input (μ-law: 8 a ms). */
  readonly afterBytes: number
}

export interface SpeechOptions {
  /** Piece size of speech while holding it is allowed (see `holdSpeech`). */
  readonly bytes: number
  /** Speech is held only while a chunk without sound came within this much input, bytes. */
  readonly quietWithinBytes: number
}

/**
 * A μ-law byte is a sound when its magnitude code (`~b & 0x7f`) reaches this: 13 decodes to ±104 of 32768, about
 * −50 dBFS, under quiet speech and over a line's idle noise. Silence (0xff / 0x7f) has code 0.
 */
const LOUD_CODE = 13
/** A sound after this much quiet (100 ms of μ-law) is an onset: flushed at once (quiet mode). */
const ONSET_AFTER_BYTES = 800

/** True when a μ-law chunk holds any sample at or above {@link LOUD_CODE}. */
export function ulawHasSound(chunk: Uint8Array): boolean {
  for (let i = 0; i < chunk.length; i++) if ((~chunk[i]! & 0x7f) >= LOUD_CODE) return true
  return false
}

export class ChunkGatherer {
  readonly bytes: number
  readonly #quiet: QuietOptions | undefined
  readonly #speech: SpeechOptions | undefined
  #buf: Uint8Array
  #length = 0
  /** The last chunk had sound (quiet or speech mode). */
  #sound = false
  /** Input since the last sound, bytes (quiet mode). */
  #sinceSound = 0
  /** Input since the last chunk without sound, bytes (speech mode); none seen yet counts as too long ago. */
  #sinceQuiet = Infinity
  #holdAllowed = false

  constructor(bytes: number, quiet?: QuietOptions, speech?: SpeechOptions) {
    this.bytes = Math.max(1, bytes)
    this.#quiet = quiet && quiet.bytes > this.bytes ? quiet : undefined
    this.#speech = speech && speech.bytes > this.bytes ? speech : undefined
    this.#buf = new Uint8Array(Math.max(this.bytes, this.#quiet?.bytes ?? 0, this.#speech?.bytes ?? 0) * 2)
  }

  get length(): number {
    return this.#length
  }

  /** True while the caller has been quiet long enough that pieces are `quiet.bytes`. */
  get quiet(): boolean {
    return this.#quiet !== undefined && this.#sinceSound >= this.#quiet.afterBytes
  }

  /** True while speech goes in `speech.bytes` pieces: allowed, and the line was quiet within `quietWithinBytes`. */
  get holdingSpeech(): boolean {
    return this.#holdAllowed && this.#speech !== undefined && this.#sinceQuiet < this.#speech.quietWithinBytes
  }

  /**
   * Allows holding speech in `speech.bytes` pieces, or stops it; true when what is held should go now (holding
   * stopped with a normal piece or more held), so a barge-in never waits behind it.
   */
  holdSpeech(allowed: boolean): boolean {
    this.#holdAllowed = allowed
    return this.#length >= this.#pieceBytes()
  }

  /** Adds a chunk (copied); true once the piece should go: its size is reached, or a sound after a quiet spell. */
  push(chunk: Uint8Array): boolean {
    const need = this.#length + chunk.byteLength
    if (need > this.#buf.length) {
      const grown = new Uint8Array(need * 2)
      grown.set(this.#buf.subarray(0, this.#length))
      this.#buf = grown
    }
    this.#buf.set(chunk, this.#length)
    this.#length = need
    if (this.#quiet === undefined && this.#speech === undefined) return need >= this.bytes
    this.#sound = ulawHasSound(chunk)
    if (!this.#sound) {
      this.#sinceSound += chunk.byteLength
      this.#sinceQuiet = 0
      return need >= this.#pieceBytes()
    }
    const onset = this.#quiet !== undefined && this.#sinceSound >= ONSET_AFTER_BYTES
    this.#sinceSound = 0
    this.#sinceQuiet += chunk.byteLength
    return onset || need >= this.#pieceBytes()
  }

  /** Everything held, as a view that is valid until the next `push`; the gatherer is empty after. */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#length)
    this.#length = 0
    return out
  }

  /** The size the piece being gathered goes at, by what its last chunk was. */
  #pieceBytes(): number {
    if (this.#sound) return this.holdingSpeech ? this.#speech!.bytes : this.bytes
    return this.quiet ? this.#quiet!.bytes : this.bytes
  }
}
