/**
 * Emulates Twilio's playback buffer: agent audio queued as sent, one frame taken per 20 ms caller frame, dropped on
 * clear.
 */
import { TWILIO_FRAME_BYTES } from '../audio/format.js'

/** Once this many sent pieces have played out, the queue's array is compacted. */
const COMPACT_AFTER = 256
/** Stands in for a played piece, so the queue does not keep its bytes (or the slab they are in) alive. */
const PLAYED = new Uint8Array(0)

/**
 * A FIFO of agent audio in whole 160-byte frames, queued a sent piece at a time (one `media` message's frames).
 * The session takes one frame for every caller frame it receives (both sides run at 8 kHz in real time), which
 * says what the caller hears at that moment: the recorder's agent channel and the agent level meter follow it, so
 * both sit where the caller heard the audio and stop where a barge-in cut it.
 */
export class Playout {
  #pieces: Uint8Array[] = []
  #head = 0
  /** Byte offset of the next frame in the head piece. */
  #offset = 0
  #queuedBytes = 0

  /** Queues `frames` (whole frames; kept, not copied: the caller must not change them). */
  push(frames: Uint8Array): void {
    if (frames.length === 0) return
    this.#pieces.push(frames)
    this.#queuedBytes += frames.length
  }

  /** The frame playing now (a view of a queued piece), or undefined when nothing is queued. */
  take(): Uint8Array | undefined {
    if (this.#queuedBytes <= 0) return undefined
    const piece = this.#pieces[this.#head]!
    const at = this.#offset
    const frame = piece.subarray(at, at + TWILIO_FRAME_BYTES)
    this.#queuedBytes -= frame.length
    if (at + TWILIO_FRAME_BYTES < piece.length) this.#offset = at + TWILIO_FRAME_BYTES
    else {
      this.#offset = 0
      this.#pieces[this.#head++] = PLAYED
      if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#pieces.length) {
        this.#pieces = this.#pieces.slice(this.#head)
        this.#head = 0
      }
    }
    return frame
  }

  clear(): void {
    this.#pieces = []
    this.#head = 0
    this.#offset = 0
    this.#queuedBytes = 0
  }

  get queuedFrames(): number {
    return Math.ceil(this.#queuedBytes / TWILIO_FRAME_BYTES)
  }

  get queuedMs(): number {
    return this.#queuedBytes / 8
  }
}
