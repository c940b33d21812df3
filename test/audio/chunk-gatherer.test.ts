// ChunkGatherer: fixed pieces, the bigger pieces of a quiet spell with the onset sent at once, and held speech.
import { describe, expect, it } from 'vitest'
import { ChunkGatherer, ulawHasSound } from '../../src/main/audio/chunk-gatherer.js'
import { linearToUlaw } from '../../src/main/audio/g711.js'

const FRAME = 160
const quietFrame = (): Uint8Array => new Uint8Array(FRAME).fill(0xff)
const soundFrame = (amp: number): Uint8Array =>
  Uint8Array.from({ length: FRAME }, (_, i) => linearToUlaw(amp * Math.sin(i / 3)))
const sounds = (n: number): Uint8Array[] => Array.from({ length: n }, () => soundFrame(3000))

/** Pushes frames, returning the sizes of the pieces taken whenever push says a piece should go. */
function run(g: ChunkGatherer, frames: Uint8Array[]): number[] {
  const pieces: number[] = []
  for (const f of frames) if (g.push(f)) pieces.push(g.take().length)
  return pieces
}

describe('ChunkGatherer', () => {
  it('gathers frames into pieces of at least `bytes`, copying them', () => {
    const g = new ChunkGatherer(2 * FRAME)
    const a = Uint8Array.from({ length: FRAME }, (_, i) => i)
    expect(g.push(a)).toBe(false)
    a.fill(0) // the caller may reuse its buffer
    expect(g.push(quietFrame())).toBe(true)
    const piece = g.take()
    expect(piece.length).toBe(2 * FRAME)
    expect(piece[5]).toBe(5)
    expect(g.length).toBe(0)
  })

  it('without quiet options, silence is gathered like anything else', () => {
    const g = new ChunkGatherer(2 * FRAME)
    expect(run(g, Array.from({ length: 200 }, quietFrame))).toEqual(new Array(100).fill(2 * FRAME))
  })

  it('grows pieces after `afterBytes` of quiet and sends the first sound after a quiet spell at once', () => {
    const g = new ChunkGatherer(2 * FRAME, { bytes: 10 * FRAME, afterBytes: 20 * FRAME })
    // 18 quiet frames: normal pieces. The 20th reaches `afterBytes`: from then on, pieces of 10.
    expect(run(g, Array.from({ length: 18 }, quietFrame))).toEqual(new Array(9).fill(2 * FRAME))
    expect(run(g, [quietFrame(), quietFrame()])).toEqual([])
    expect(g.quiet).toBe(true)
    expect(run(g, Array.from({ length: 28 }, quietFrame))).toEqual([10 * FRAME, 10 * FRAME, 10 * FRAME])
    // 3 held, then a sound: all four go.
    expect(run(g, [quietFrame(), quietFrame(), quietFrame(), soundFrame(3000)])).toEqual([4 * FRAME])
    expect(g.quiet).toBe(false)
    // Speech: normal pieces again.
    expect(
      run(
        g,
        Array.from({ length: 6 }, () => soundFrame(3000))
      )
    ).toEqual([2 * FRAME, 2 * FRAME, 2 * FRAME])
  })

  it('a sound after a short pause (under 100 ms) waits for its piece like any frame', () => {
    const g = new ChunkGatherer(2 * FRAME, { bytes: 10 * FRAME, afterBytes: 20 * FRAME })
    expect(run(g, [soundFrame(3000), quietFrame(), quietFrame()])).toEqual([2 * FRAME])
    // One frame held; the sound after 40 ms of quiet makes the piece whole, no earlier.
    expect(g.push(soundFrame(3000))).toBe(true)
    expect(g.take().length).toBe(2 * FRAME)
    expect(g.push(quietFrame())).toBe(false)
  })

  it('holds speech in `speech.bytes` pieces only once allowed; a frame without sound sends it at once', () => {
    const speech = { bytes: 5 * FRAME, quietWithinBytes: 250 * FRAME }
    const g = new ChunkGatherer(2 * FRAME, { bytes: 10 * FRAME, afterBytes: 20 * FRAME }, speech)
    // Not allowed yet: normal pieces.
    expect(run(g, [quietFrame(), ...sounds(5)])).toEqual([2 * FRAME, 2 * FRAME, 2 * FRAME])
    expect(g.holdSpeech(true)).toBe(false)
    expect(run(g, sounds(12))).toEqual([5 * FRAME, 5 * FRAME])
    expect(g.holdingSpeech).toBe(true)
    // Two frames of speech held; the quiet frame after them goes with them at once.
    expect(run(g, [quietFrame()])).toEqual([3 * FRAME])
    // The onset after 100 ms of quiet still goes at once, and the speech after it is held again.
    expect(run(g, Array.from({ length: 5 }, quietFrame))).toEqual([2 * FRAME, 2 * FRAME])
    expect(run(g, [soundFrame(3000)])).toEqual([2 * FRAME])
    expect(run(g, sounds(5))).toEqual([5 * FRAME])
  })

  it('stopping the hold sends a normal piece or more at once, then speech goes in normal pieces', () => {
    const g = new ChunkGatherer(2 * FRAME, undefined, { bytes: 5 * FRAME, quietWithinBytes: 250 * FRAME })
    g.holdSpeech(true)
    expect(run(g, [quietFrame(), soundFrame(3000), soundFrame(3000)])).toEqual([])
    expect(g.holdSpeech(false)).toBe(true)
    expect(g.take().length).toBe(3 * FRAME)
    expect(run(g, sounds(5))).toEqual([2 * FRAME, 2 * FRAME])
    // Less than a normal piece waits for its piece, as it would have without the hold; so does asking again.
    expect(g.holdSpeech(false)).toBe(false)
    expect(g.length).toBe(FRAME)
  })

  it('holds speech only on a line that had a frame without sound lately: a noisy line gets normal pieces', () => {
    const g = new ChunkGatherer(2 * FRAME, undefined, { bytes: 5 * FRAME, quietWithinBytes: 10 * FRAME })
    g.holdSpeech(true)
    // Never quiet (noise over the sound threshold): exactly the normal pieces.
    expect(run(g, sounds(20))).toEqual(new Array(10).fill(2 * FRAME))
    expect(g.holdingSpeech).toBe(false)
    // One quiet frame: speech is held until 10 frames of input have gone by without another.
    expect(run(g, [quietFrame(), ...sounds(11)])).toEqual([5 * FRAME, 5 * FRAME, 2 * FRAME])
    expect(g.holdingSpeech).toBe(false)
  })

  it("counts about -50 dBFS and louder as sound, the line's idle noise not", () => {
    expect(ulawHasSound(quietFrame())).toBe(false)
    expect(ulawHasSound(new Uint8Array(FRAME).fill(0x7f))).toBe(false)
    expect(ulawHasSound(soundFrame(60))).toBe(false) // about -55 dBFS peak
    expect(ulawHasSound(soundFrame(160))).toBe(true) // about -46 dBFS peak
    expect(ulawHasSound(soundFrame(-3000))).toBe(true)
  })
})
