// The agent's audio as Twilio queues it: samples and marks in order; a mark is played once everything before it was.

interface PendingMark {
  name: string
  /** Samples enqueued (absolute) when the mark arrived. */
  position: number
}

/**
 * A FIFO of 8 kHz float samples with marks between them. `pull` takes samples for the speaker and returns the
 * marks it passed; `clear` drops the audio and returns every pending mark, as Twilio echoes them on `clear`.
 */
export class PlaybackQueue {
  readonly #chunks: Float32Array[] = []
  #head = 0
  readonly #marks: PendingMark[] = []
  #enqueued = 0
  #played = 0

  /** Samples queued and not yet played. */
  get queuedSamples(): number {
    return this.#enqueued - this.#played
  }

  /** Real samples played since the start (silence filling an empty queue not counted). */
  get playedSamples(): number {
    return this.#played
  }

  /** Marks not yet played. */
  get pendingMarks(): number {
    return this.#marks.length
  }

  /** Queues samples; the queue keeps `samples` (the caller must not reuse it). */
  enqueue(samples: Float32Array): void {
    if (samples.length === 0) return
    this.#chunks.push(samples)
    this.#enqueued += samples.length
  }

  mark(name: string): void {
    this.#marks.push({ name, position: this.#enqueued })
  }

  /**
   * Writes `count` samples into `out` (silence once the queue runs dry), and the names of the marks played by
   * then into `playedMarks`. Returns the number of real (queued) samples written.
   */
  pull(out: Float32Array, count: number, playedMarks: string[]): number {
    let written = 0
    while (written < count && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!
      const take = Math.min(count - written, chunk.length - this.#head)
      out.set(chunk.subarray(this.#head, this.#head + take), written)
      written += take
      this.#head += take
      if (this.#head === chunk.length) {
        this.#chunks.shift()
        this.#head = 0
      }
    }
    if (written < count) out.fill(0, written, count)
    this.#played += written
    while (this.#marks.length > 0 && this.#marks[0]!.position <= this.#played)
      playedMarks.push(this.#marks.shift()!.name)
    return written
  }

  /** Drops the queued audio; returns the pending marks in order (all echoed at once, none of them played). */
  clear(): string[] {
    this.#chunks.length = 0
    this.#head = 0
    this.#enqueued = this.#played
    return this.#marks.splice(0).map((m) => m.name)
  }
}
