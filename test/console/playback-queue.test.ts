// The loopback's playback queue: marks come back once the audio before them has played; clear drops and releases.
import { describe, expect, it } from 'vitest'
import { PlaybackQueue } from '../../src/renderer/src/features/loopback/playback-queue.js'
import { PlaybackRenderer } from '../../src/renderer/src/features/loopback/playback-renderer.js'

const ones = (n: number) => new Float32Array(n).fill(0.5)

describe('PlaybackQueue', () => {
  it('returns a mark only when every sample queued before it has been pulled', () => {
    const q = new PlaybackQueue()
    const out = new Float32Array(400)
    const played: string[] = []
    q.enqueue(ones(160))
    q.mark('a')
    q.enqueue(ones(160))
    q.mark('b')
    expect(q.pull(out, 100, played)).toBe(100)
    expect(played).toEqual([])
    expect(q.pull(out, 60, played)).toBe(60)
    expect(played).toEqual(['a'])
    expect(q.pull(out, 400, played)).toBe(160)
    expect(played).toEqual(['a', 'b'])
    // Past the end: silence, not counted as played.
    expect(out[160]).toBe(0)
    expect(q.playedSamples).toBe(320)
    expect(q.queuedSamples).toBe(0)
  })

  it('returns a mark sent with nothing queued on the next pull', () => {
    const q = new PlaybackQueue()
    const played: string[] = []
    q.mark('now')
    q.pull(new Float32Array(10), 10, played)
    expect(played).toEqual(['now'])
  })

  it('on clear drops the queued audio and releases every pending mark in order', () => {
    const q = new PlaybackQueue()
    const played: string[] = []
    q.enqueue(ones(800))
    q.mark('x')
    q.enqueue(ones(800))
    q.mark('y')
    q.pull(new Float32Array(100), 100, played)
    expect(q.clear()).toEqual(['x', 'y'])
    expect(q.queuedSamples).toBe(0)
    const out = new Float32Array(50)
    expect(q.pull(out, 50, played)).toBe(0)
    expect(out.every((v) => v === 0)).toBe(true)
    expect(played).toEqual([])
    // New audio after a clear plays from where playback is.
    q.enqueue(ones(20))
    q.mark('z')
    expect(q.pull(out, 50, played)).toBe(20)
    expect(played).toEqual(['z'])
  })
})

describe('PlaybackRenderer', () => {
  it('plays 8 kHz audio at 48 kHz in 128-frame quanta, six output samples per input, marks on time', () => {
    const r = new PlaybackRenderer(48_000)
    r.queue.enqueue(ones(160))
    r.queue.mark('frame1')
    const block = new Float32Array(128)
    const played: string[] = []
    let consumed = 0
    let blocks = 0
    while (played.length === 0 && blocks < 20) {
      consumed += r.render(block, played)
      blocks++
    }
    expect(played).toEqual(['frame1'])
    expect(consumed).toBe(160)
    // 160 samples at 8 kHz are 960 at 48 kHz: the mark passes during the 8th block.
    expect(blocks).toBe(8)
  })

  // 48 kHz goes through the shared resampler, 44.1 kHz through the console's general one.
  it.each([48_000, 44_100])('keeps a steady level across quanta at %i Hz (no clicks at block edges)', (rateHz) => {
    const r = new PlaybackRenderer(rateHz)
    const tone = Float32Array.from({ length: 8000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 500 * i) / 8000))
    r.queue.enqueue(tone)
    const out = new Float32Array(rateHz)
    const block = new Float32Array(128)
    for (let i = 0; i + 128 <= out.length; i += 128) {
      r.render(block, [])
      out.set(block, i)
    }
    // A 500 Hz sine changes by at most 2π·500/rate·0.5 per sample (0.033 at 48 kHz); a click would jump further.
    const steepest = (2 * Math.PI * 500 * 0.5) / rateHz
    let maxStep = 0
    for (let i = 2000; i < rateHz - 2000; i++) maxStep = Math.max(maxStep, Math.abs(out[i]! - out[i - 1]!))
    expect(maxStep).toBeLessThan(1.06 * steepest)
    expect(maxStep).toBeGreaterThan(0.92 * steepest)
  })
})
