/** Emulates Twilio's playback buffer: agent frames queued as sent, one taken per 20 ms caller frame, dropped on clear. */
import { TWILIO_FRAME_BYTES } from '../audio/format.js'

/**
 * A FIFO of 160-byte agent frames. The session takes one frame for every caller frame it receives (both sides
 * run at 8 kHz in real time), which says what the caller hears at that moment: the recorder's agent channel
 * and the agent level meter follow it, so both sit where the caller heard the audio and stop where a barge-in
 * cut it.
 */
export class Playout {
  #frames: Uint8Array[] = []
  #head = 0

  push(frame: Uint8Array): void {
    this.#frames.push(frame)
  }

  /** The frame playing now, or undefined when nothing is queued. */
  take(): Uint8Array | undefined {
    if (this.#head >= this.#frames.length) return undefined
    const frame = this.#frames[this.#head++]
    if (this.#head > 256 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head)
      this.#head = 0
    }
    return frame
  }

  clear(): void {
    this.#frames = []
    this.#head = 0
  }

  get queuedFrames(): number {
    return this.#frames.length - this.#head
  }

  get queuedMs(): number {
    return (this.queuedFrames * TWILIO_FRAME_BYTES) / 8
  }
}
