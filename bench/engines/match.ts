/** Pairs the fakes' send times with what the simulated Twilio received (both performance.now() in this process). */
import type { SimStats } from '../../test/fakes/twilio-media-sim.js'

/** Longest gap still read as cause and effect (audio sent → first frame, barge-in event → clear), ms. */
export const MATCH_WINDOW_MS = 1_000

/**
 * The frames the simulator knows the arrival of: each reply's first (after an utterance ended) and each
 * generation's first (the greeting, the first after a clear). Sorted.
 */
export function firstFrameTimes(sim: SimStats): number[] {
  const out: number[] = []
  for (const g of sim.generations) if (g.firstMediaAtMs !== undefined) out.push(g.firstMediaAtMs)
  for (const s of sim.speech) if (s.firstAgentMediaAtMs !== undefined) out.push(s.firstAgentMediaAtMs)
  return out.sort((a, b) => a - b)
}

/**
 * For each reply's first audio sent by a fake (sorted), the first frame that reached the caller after it and
 * before the next reply's: pushes the gap to `into`; returns how many replies had no such frame.
 */
export function matchFirstFrames(sentAtMs: readonly number[], frames: readonly number[], into: number[]): number {
  let unmatched = 0
  for (let i = 0; i < sentAtMs.length; i++) {
    const t = sentAtMs[i]!
    const limit = Math.min(t + MATCH_WINDOW_MS, sentAtMs[i + 1] ?? Infinity)
    const frame = frames.find((f) => f >= t && f < limit)
    if (frame === undefined) unmatched++
    else into.push(frame - t)
  }
  return unmatched
}

/** For each `clear` the caller received, the gap from the latest cause (sorted send times) before it. */
export function clearsAfterCause(causesAtMs: readonly number[], clears: readonly number[], into: number[]): void {
  for (const c of clears) {
    let cause: number | undefined
    for (const t of causesAtMs) if (t <= c) cause = t
    if (cause !== undefined && c - cause < MATCH_WINDOW_MS) into.push(c - cause)
  }
}

/** Agent frames that reached the caller after a clear and before the caller's next utterance ended. */
export function framesAfterClear(sim: SimStats): number {
  let n = 0
  for (const g of sim.generations) n += g.staleFrames
  return n
}

/** Waits for the promises (sockets closing), at most `timeoutMs`. */
export async function settled(waits: Array<Promise<unknown>>, timeoutMs = 3_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.all(waits),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
  ])
  clearTimeout(timer)
}
