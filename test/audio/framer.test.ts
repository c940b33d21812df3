// Framer: any chunking in, the same whole frames out, a chunk's at a time; remainder padded on flush, dropped on reset.
import { describe, expect, it } from 'vitest'
import { Framer } from '../../src/main/audio/framer.js'

/** Every frame the framer hands out, split back into frames; and how many buffers it handed out. */
function collect(framer: Framer, chunks: Uint8Array[]): { frames: number[][]; pieces: number } {
  const frames: number[][] = []
  let pieces = 0
  for (const c of chunks) {
    const out = framer.push(c)
    if (!out) continue
    pieces++
    expect(out.length % framer.frameBytes).toBe(0)
    for (let at = 0; at < out.length; at += framer.frameBytes)
      frames.push(Array.from(out.subarray(at, at + framer.frameBytes)))
  }
  return { frames, pieces }
}

const bytes = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff)

describe('Framer', () => {
  it('defaults to 160-byte frames (20 ms of μ-law)', () => {
    expect(new Framer().frameBytes).toBe(160)
  })

  it('yields the same frames whatever the chunk sizes', () => {
    const stream = bytes(1000)
    const expected: number[][] = []
    for (let i = 0; i + 160 <= 1000; i += 160) expected.push(Array.from(stream.subarray(i, i + 160)))
    for (const sizes of [
      [1000],
      [1, 159, 160, 680],
      [7, 7, 7, 979],
      [320, 320, 360],
      Array(1000).fill(1) as number[]
    ]) {
      const chunks: Uint8Array[] = []
      let at = 0
      for (const s of sizes) {
        chunks.push(stream.subarray(at, at + s))
        at += s
      }
      const framer = new Framer()
      expect(collect(framer, chunks).frames, `sizes ${sizes.slice(0, 4).join(',')}`).toEqual(expected)
      expect(framer.pendingBytes).toBe(40)
    }
  })

  it('hands out all the frames a chunk completes as one buffer, a copy the caller owns', () => {
    const framer = new Framer()
    const chunk = bytes(500)
    const out = framer.push(chunk)!
    expect(out.length).toBe(480)
    expect(out.buffer).not.toBe(chunk.buffer)
    chunk.fill(0)
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 1, 2])
    // The 20 held back lead the next buffer.
    const next = framer.push(bytes(140, 7))!
    expect(next.length).toBe(160)
    expect(next[0]).toBe(480 & 0xff)
    expect(next[20]).toBe(7)
    expect(framer.push(bytes(10))).toBeUndefined()
    expect(collect(new Framer(), [bytes(160), bytes(320)]).pieces).toBe(2)
  })

  it('never hands out the same bytes twice: earlier buffers stay intact over many chunks', () => {
    const framer = new Framer()
    const outs: Uint8Array[] = []
    for (let i = 0; i < 1000; i++) outs.push(framer.push(new Uint8Array(480).fill(i & 0xff))!)
    for (const [i, out] of outs.entries()) {
      expect(out.length).toBe(480)
      expect(out.every((b) => b === (i & 0xff))).toBe(true)
    }
  })

  it('pads the remainder with the given byte on flush, once', () => {
    const framer = new Framer(4)
    framer.push(Uint8Array.of(1, 2, 3, 4, 5, 6))
    expect(Array.from(framer.flush(0xff)!)).toEqual([5, 6, 0xff, 0xff])
    expect(framer.flush(0xff)).toBeUndefined()
    expect(framer.pendingBytes).toBe(0)
  })

  it('drops the remainder on reset, so the next push starts a fresh frame', () => {
    const framer = new Framer(4)
    const frames = collect(framer, [Uint8Array.of(1, 2, 3)]).frames
    framer.reset()
    frames.push(...collect(framer, [Uint8Array.of(9, 8, 7, 6)]).frames)
    expect(frames).toEqual([[9, 8, 7, 6]])
  })

  it('keeps the remainder apart from the chunk, which the caller may reuse', () => {
    const framer = new Framer(4)
    const reused = Uint8Array.of(1, 2)
    const frames = collect(framer, [reused]).frames
    reused.set([7, 7])
    frames.push(...collect(framer, [reused]).frames)
    expect(frames).toEqual([[1, 2, 7, 7]])
  })

  it('refuses a frame size that is not a positive integer', () => {
    expect(() => new Framer(0)).toThrow()
    expect(() => new Framer(1.5)).toThrow()
  })
})
