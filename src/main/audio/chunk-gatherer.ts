/** Gathers small audio chunks into pieces of at least `bytes`: each chunk is copied once, into a reused buffer. */
export class ChunkGatherer {
  readonly bytes: number
  #buf: Uint8Array
  #length = 0

  constructor(bytes: number) {
    this.bytes = Math.max(1, bytes)
    this.#buf = new Uint8Array(this.bytes * 2)
  }

  get length(): number {
    return this.#length
  }

  /** Adds a chunk (copied); true once `bytes` or more are held. */
  push(chunk: Uint8Array): boolean {
    const need = this.#length + chunk.byteLength
    if (need > this.#buf.length) {
      const grown = new Uint8Array(need * 2)
      grown.set(this.#buf.subarray(0, this.#length))
      this.#buf = grown
    }
    this.#buf.set(chunk, this.#length)
    this.#length = need
    return need >= this.bytes
  }

  /** Everything held, as a view that is valid until the next `push`; the gatherer is empty after. */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#length)
    this.#length = 0
    return out
  }
}
