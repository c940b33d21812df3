// The heard-position estimate for Realtime replies, on a scripted clock.
import { describe, expect, it } from 'vitest'
import { PlaybackTracker } from '../../src/main/agents/openai-realtime-playback.js'

function setup(): { t: PlaybackTracker; at: (ms: number) => void } {
  let now = 0
  return { t: new PlaybackTracker(() => now), at: (ms) => (now = ms) }
}

describe('PlaybackTracker', () => {
  it('before any mark: time since the reply started, capped at the first chunk (its mark is not back)', () => {
    const { t, at } = setup()
    at(100)
    t.emitted('r1', 'resp1', 800) // 100 ms
    t.emitted('r1', 'resp1', 800)
    const r = t.get('r1')!
    at(160)
    expect(t.heardMs(r)).toBe(60)
    at(400)
    expect(t.heardMs(r)).toBe(100)
  })

  it('after a mark: the report plus the time since, capped at the next mark and at what was emitted', () => {
    const { t, at } = setup()
    for (let i = 0; i < 5; i++) t.emitted('r1', 'resp1', 800)
    const r = t.get('r1')!
    at(1000)
    t.played('r1', 300)
    at(1037)
    expect(t.heardMs(r)).toBe(337)
    at(2000)
    expect(t.heardMs(r)).toBe(400)
    t.played('r1', 500)
    at(9000)
    expect(t.heardMs(r)).toBe(500)
    expect(t.playing()).toEqual([])
  })

  it('marks on frame boundaries: a chunk ending mid-frame is marked at the frame before it', () => {
    const { t, at } = setup()
    t.emitted('r1', 'resp1', 820) // 102.5 ms: the bridge marks it at 100 ms
    t.emitted('r1', 'resp1', 820) // 205 ms: marked at 200 ms
    const r = t.get('r1')!
    at(10)
    t.played('r1', 100)
    at(60)
    expect(t.heardMs(r)).toBe(150)
  })

  it('a reply queued behind one still playing starts when that one is fully played', () => {
    const { t, at } = setup()
    t.emitted('r1', 'resp1', 800)
    at(20)
    t.emitted('r2', 'resp2', 1600)
    const r2 = t.get('r2')!
    at(80)
    expect(t.heardMs(r2)).toBe(0)
    expect(t.playing().map((r) => r.id)).toEqual(['r1', 'r2'])
    at(100)
    t.played('r1', 100)
    at(150)
    expect(t.heardMs(r2)).toBe(50)
    expect(t.playing().map((r) => r.id)).toEqual(['r2'])
  })

  it('cut replies are no longer playing; reports never move a position back', () => {
    const { t, at } = setup()
    t.emitted('r1', 'resp1', 1600)
    const r = t.get('r1')!
    at(50)
    t.played('r1', 100)
    t.played('r1', 60)
    expect(r.reportedMs).toBe(100)
    t.cut(r)
    expect(t.playing()).toEqual([])
    t.played('unknown', 10)
  })
})
