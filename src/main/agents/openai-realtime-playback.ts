/** What the caller has heard of each Realtime reply: the bridge's played() reports, extrapolated between marks. */

/** μ-law 8 kHz: 8 bytes per ms. */
const BYTES_PER_MS = 8
/** The bridge sends whole 20 ms frames, so its marks sit on frame boundaries. */
const FRAME_MS = 20
/** Replies remembered: the one playing, the one queued behind it, and a late mark or two of the previous. */
const KEEP_REPLIES = 4

export interface ReplyPlayback {
  /** The assistant item id (the `replyId` of our `audio` events). */
  readonly id: string
  readonly responseId: string
  /** Audio handed to the bridge so far, ms. */
  emittedMs: number
  /** What the bridge last reported as played, ms, and when (tracker clock). */
  reportedMs: number
  reportedAtMs: number | undefined
  /** When playback of this reply began (tracker clock), if known. */
  startedAtMs: number | undefined
  /** Cut by a barge-in or a cancel: nothing more of it is emitted or truncated. */
  cut: boolean
  /** Where each emitted chunk ends, ms: the bridge marks each one. */
  readonly chunkEndsMs: number[]
  nextChunk: number
}

export class PlaybackTracker {
  readonly #now: () => number
  readonly #replies: ReplyPlayback[] = []

  constructor(now: () => number) {
    this.#now = now
  }

  /** The agent handed `bytes` of reply `id` to the bridge. */
  emitted(id: string, responseId: string, bytes: number): void {
    let r = this.#last()
    if (!r || r.id !== id) {
      r = this.#find(id)
      if (!r) {
        const prev = this.#last()
        const queued = prev !== undefined && !prev.cut && prev.reportedMs < prev.emittedMs
        r = {
          id,
          responseId,
          emittedMs: 0,
          reportedMs: 0,
          reportedAtMs: undefined,
          // Queued behind a reply still playing: it starts when that one's last mark comes back.
          startedAtMs: queued ? undefined : this.#now(),
          cut: false,
          chunkEndsMs: [],
          nextChunk: 0
        }
        this.#replies.push(r)
        if (this.#replies.length > KEEP_REPLIES) this.#replies.shift()
      }
    }
    r.emittedMs += bytes / BYTES_PER_MS
    r.chunkEndsMs.push(r.emittedMs)
  }

  /** The bridge says the caller has heard `ms` of reply `id`. */
  played(id: string, ms: number): void {
    const r = this.#find(id)
    if (!r || ms <= r.reportedMs) return
    const now = this.#now()
    r.reportedMs = ms
    r.reportedAtMs = now
    if (ms >= r.emittedMs) {
      const next = this.#replies[this.#replies.indexOf(r) + 1]
      if (next && next.startedAtMs === undefined) next.startedAtMs = now
    }
  }

  /** Whether the caller may still be hearing a reply (`playing()` not empty), without allocating: asked per frame. */
  anyPlaying(): boolean {
    for (const r of this.#replies) if (!r.cut && r.reportedMs < r.emittedMs) return true
    return false
  }

  /** Replies the caller may still be hearing: emitted more than the bridge has reported played, not cut. */
  playing(): ReplyPlayback[] {
    return this.#replies.filter((r) => !r.cut && r.reportedMs < r.emittedMs)
  }

  /**
   * What the caller has heard of `r` now, whole ms: the last report plus the time since (audio plays
   * continuously between marks), never past the next mark not yet echoed, nor past the audio emitted.
   */
  heardMs(r: ReplyPlayback): number {
    return this.heard(r).ms
  }

  /**
   * `heardMs`, and whether it counts from an echoed mark. A mark's echo took its trip back to reach us, and a
   * `clear` sent now takes its trip out: from a mark the caller will have heard one round trip more by the time the
   * clear stops playback. From the start of playback the two trips cancel (our first frame also took its trip out).
   */
  heard(r: ReplyPlayback): { ms: number; fromMark: boolean } {
    const fromMark = r.reportedAtMs !== undefined
    const since = r.reportedAtMs ?? r.startedAtMs
    if (since === undefined) return { ms: Math.floor(Math.min(r.reportedMs, r.emittedMs)), fromMark }
    const estimate = r.reportedMs + (this.#now() - since)
    return { ms: Math.floor(Math.max(r.reportedMs, Math.min(estimate, this.#nextMarkMs(r), r.emittedMs))), fromMark }
  }

  cut(r: ReplyPlayback): void {
    r.cut = true
  }

  get(id: string): ReplyPlayback | undefined {
    return this.#find(id)
  }

  #nextMarkMs(r: ReplyPlayback): number {
    const ends = r.chunkEndsMs
    // A chunk whose frame-aligned mark is at or before the reported position has been echoed already.
    while (r.nextChunk < ends.length && Math.floor(ends[r.nextChunk]! / FRAME_MS) * FRAME_MS <= r.reportedMs)
      r.nextChunk++
    return r.nextChunk < ends.length ? ends[r.nextChunk]! : r.emittedMs
  }

  #last(): ReplyPlayback | undefined {
    return this.#replies[this.#replies.length - 1]
  }

  #find(id: string): ReplyPlayback | undefined {
    for (let i = this.#replies.length - 1; i >= 0; i--) if (this.#replies[i]!.id === id) return this.#replies[i]
    return undefined
  }
}
