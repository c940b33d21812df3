// WriteQueue: timed commits in bounded batches, in order; flush() commits everything.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WriteQueue } from '../../src/main/storage/write-queue.js'

/** A queue of numbers recording its commits; `canCommit` says whether the database is open. */
function recorded(intervalMs: number, maxBatch: number, canCommit: () => boolean = () => true) {
  const commits: number[][] = []
  const q = new WriteQueue<number>({ intervalMs, maxBatch, commit: (ops) => commits.push(ops), canCommit })
  return { q, commits }
}

describe('WriteQueue', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('commits a burst in batches of at most maxBatch, one per turn, in the order queued', () => {
    const { q, commits } = recorded(200, 300)
    for (let i = 0; i < 1000; i++) q.push(i)
    vi.advanceTimersByTime(199)
    expect(commits).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(commits.map((c) => c.length)).toEqual([300])
    vi.advanceTimersByTime(1)
    vi.advanceTimersByTime(1)
    vi.advanceTimersByTime(1)
    expect(commits.map((c) => c.length)).toEqual([300, 300, 300, 100])
    expect(commits.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  it('weighs ops: a timed commit stops at maxBatch in weight, and takes at least one op', () => {
    const commits: number[][] = []
    // Each op weighs its own value (a call's marks weigh their number).
    const q = new WriteQueue<number>({
      intervalMs: 200,
      maxBatch: 10,
      weight: (op) => op,
      commit: (ops) => commits.push(ops),
      canCommit: () => true
    })
    for (const op of [3, 3, 3, 3, 25, 1, 1]) q.push(op)
    vi.advanceTimersByTime(200)
    for (let i = 0; i < 3; i++) vi.advanceTimersByTime(1)
    expect(commits).toEqual([[3, 3, 3], [3], [25], [1, 1]])
  })

  it('flush() commits everything queued at once (reads see every write)', () => {
    const { q, commits } = recorded(200, 10)
    for (let i = 0; i < 25; i++) q.push(i)
    q.flush()
    expect(commits.map((c) => c.length)).toEqual([25])
    vi.advanceTimersByTime(1000)
    expect(commits).toHaveLength(1)
  })

  it('keeps ops queued while it cannot commit', () => {
    let open = false
    const { q, commits } = recorded(50, 2, () => open)
    for (let i = 0; i < 5; i++) q.push(i)
    vi.advanceTimersByTime(100)
    expect(commits).toHaveLength(0)
    open = true
    q.push(5)
    vi.advanceTimersByTime(50)
    vi.advanceTimersByTime(1)
    vi.advanceTimersByTime(1)
    expect(commits.flat()).toEqual([0, 1, 2, 3, 4, 5])
    expect(commits.every((c) => c.length <= 2)).toBe(true)
  })
})
