/** Writes held and committed in batches: one commit per interval, never on the stack of the code that queued them. */

export interface WriteQueueOptions<Op> {
  /** Queued writes are committed this often, ms. */
  intervalMs: number
  /** Commits one batch (one transaction), the ops in the order they were queued. */
  commit: (ops: Op[]) => void
  /** False keeps the ops queued (the database is not open). */
  canCommit: () => boolean
  /**
   * Most ops a timed commit takes (default 300); the rest follow at the next turn of the event loop. A burst (a
   * hundred calls ending at once, each with its hundreds of marks) then never holds the event loop, and the audio
   * of the calls still live, for more than a few milliseconds. `flush()` still commits everything.
   */
  maxBatch?: number
  /** How much of maxBatch one op takes (default 1): an op that writes many entries at once weighs their number. */
  weight?: (op: Op) => number
}

export class WriteQueue<Op> {
  readonly #opts: WriteQueueOptions<Op>
  #ops: Op[] = []
  /** Ops before this index are committed (a burst is committed in batches from the front). */
  #head = 0
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(opts: WriteQueueOptions<Op>) {
    this.#opts = opts
  }

  /** Queues a write for the next batch; `soon` commits the batch at the next turn of the event loop instead. */
  push(op: Op, soon = false): void {
    if (this.#closed) return
    this.#ops.push(op)
    this.#schedule(soon ? 0 : this.#opts.intervalMs)
  }

  /** Commits what is queued now. */
  flush(): void {
    if (this.#ops.length === this.#head || !this.#opts.canCommit()) return
    const ops = this.#head === 0 ? this.#ops : this.#ops.slice(this.#head)
    this.#ops = []
    this.#head = 0
    this.#opts.commit(ops)
  }

  #flushSome(): void {
    const end = this.#batchEnd()
    if (end === this.#ops.length) return this.flush()
    if (!this.#opts.canCommit()) return
    const ops = this.#ops.slice(this.#head, end)
    this.#head = end
    this.#opts.commit(ops)
    this.#schedule(0)
  }

  /** Where the next timed commit stops: ops from the head up to maxBatch in weight, and at least one. */
  #batchEnd(): number {
    const max = this.#opts.maxBatch ?? 300
    const weight = this.#opts.weight
    if (!weight) return Math.min(this.#ops.length, this.#head + max)
    let end = this.#head
    let total = 0
    while (end < this.#ops.length) {
      total += weight(this.#ops[end]!)
      if (total > max && end > this.#head) break
      end++
    }
    return end
  }

  /** Stops the timer and takes no more writes; what is queued stays for a last `flush()`. */
  close(): void {
    clearTimeout(this.#timer)
    this.#closed = true
  }

  #schedule(delayMs: number): void {
    if (this.#timer && delayMs > 0) return
    clearTimeout(this.#timer)
    // Even "now" is a timer: call.ended is published from inside the session, never write on its stack.
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#flushSome()
    }, delayMs)
    this.#timer.unref()
  }
}
