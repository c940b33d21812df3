// Playout: sent pieces of whole frames in, one 20 ms frame out per take, in order, nothing after a clear.
import { describe, expect, it } from 'vitest'
import { Playout } from '../../src/main/calls/playout.js'

const frames = (n: number, first: number): Uint8Array => {
  const out = new Uint8Array(n * 160)
  for (let i = 0; i < n; i++) out.fill(first + i, i * 160, (i + 1) * 160)
  return out
}

describe('Playout', () => {
  it('plays the frames of every piece in order, one per take, then nothing', () => {
    const p = new Playout()
    p.push(frames(3, 1))
    p.push(frames(1, 4))
    p.push(new Uint8Array(0))
    p.push(frames(2, 5))
    expect(p.queuedFrames).toBe(6)
    expect(p.queuedMs).toBe(120)
    const seen: number[] = []
    for (let f = p.take(); f; f = p.take()) {
      expect(f.length).toBe(160)
      expect(f.every((b) => b === f[0])).toBe(true)
      seen.push(f[0]!)
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6])
    expect(p.queuedFrames).toBe(0)
    expect(p.take()).toBeUndefined()
  })

  it('drops everything queued on clear, mid-piece included', () => {
    const p = new Playout()
    p.push(frames(3, 1))
    expect(p.take()![0]).toBe(1)
    p.clear()
    expect(p.queuedFrames).toBe(0)
    expect(p.take()).toBeUndefined()
    p.push(frames(1, 9))
    expect(p.take()![0]).toBe(9)
  })

  it('keeps order over a long call of many pieces (the played ones are dropped as it goes)', () => {
    const p = new Playout()
    let next = 0
    let expected = 0
    for (let round = 0; round < 2000; round++) {
      p.push(frames(2, next & 0xff))
      next += 2
      const f = p.take()!
      expect(f[0]).toBe(expected & 0xff)
      expected++
    }
    expect(p.queuedFrames).toBe(2000)
    while (p.take()) expected++
    expect(expected).toBe(4000)
  })
})
