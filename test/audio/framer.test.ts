// Framer: any chunking in, the same fixed frames out; remainder padded on flush, dropped on reset.
import { describe, expect, it } from 'vitest'
import { Framer } from '../../src/main/audio/framer.js'

function collect(framer: Framer, chunks: Uint8Array[]): number[][] {
  const frames: number[][] = []
  for (const c of chunks) framer.push(c, (f) => frames.push(Array.from(f)))
  return frames
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
      expect(collect(framer, chunks), `sizes ${sizes.slice(0, 4).join(',')}`).toEqual(expected)
      expect(framer.pendingBytes).toBe(40)
    }
  })

  it('hands out aligned frames as views of the chunk, without copying', () => {
    const chunk = bytes(480)
    const seen: Uint8Array[] = []
    new Framer().push(chunk, (f) => seen.push(f))
    expect(seen).toHaveLength(3)
    for (const [i, f] of seen.entries()) {
      expect(f.buffer).toBe(chunk.buffer)
      expect(f.byteOffset).toBe(i * 160)
    }
    const exact = bytes(160)
    new Framer().push(exact, (f) => expect(f).toBe(exact))
  })

  it('pads the remainder with the given byte on flush, once', () => {
    const framer = new Framer(4)
    framer.push(Uint8Array.of(1, 2, 3, 4, 5, 6), () => {})
    const flushed: number[][] = []
    expect(framer.flush(0xff, (f) => flushed.push(Array.from(f)))).toBe(true)
    expect(flushed).toEqual([[5, 6, 0xff, 0xff]])
    expect(framer.flush(0xff, (f) => flushed.push(Array.from(f)))).toBe(false)
    expect(framer.pendingBytes).toBe(0)
  })

  it('drops the remainder on reset, so the next push starts a fresh frame', () => {
    const framer = new Framer(4)
    const frames = collect(framer, [Uint8Array.of(1, 2, 3)])
    framer.reset()
    frames.push(...collect(framer, [Uint8Array.of(9, 8, 7, 6)]))
    expect(frames).toEqual([[9, 8, 7, 6]])
  })

  it('keeps the remainder apart from the chunk, which the caller may reuse', () => {
    const framer = new Framer(4)
    const reused = Uint8Array.of(1, 2)
    const frames = collect(framer, [reused])
    reused.set([7, 7])
    frames.push(...collect(framer, [reused]))
    expect(frames).toEqual([[1, 2, 7, 7]])
  })

  it('refuses a frame size that is not a positive integer', () => {
    expect(() => new Framer(0)).toThrow()
    expect(() => new Framer(1.5)).toThrow()
  })
})
