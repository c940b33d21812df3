/** RMS and peak levels in dBFS over a stretch of audio (one 20 ms frame or more), μ-law or 16-bit. */
import { ALAW_DECODE_TABLE, ULAW_DECODE_TABLE } from './g711.js'

/** Level reported for digital silence, and the lowest level ever reported. */
export const SILENCE_DBFS = -100

/** Levels in dBFS, where 0 dBFS is a full-scale square wave (a full-scale sine has an RMS of -3.01 dBFS). */
export interface Levels {
  readonly rmsDbfs: number
  readonly peakDbfs: number
}

const FULL_SCALE = 32768
const ULAW_SQUARES = squaresOf(ULAW_DECODE_TABLE)
const ULAW_MAGNITUDES = magnitudesOf(ULAW_DECODE_TABLE)
const ALAW_SQUARES = squaresOf(ALAW_DECODE_TABLE)
const ALAW_MAGNITUDES = magnitudesOf(ALAW_DECODE_TABLE)

/** A linear amplitude (0..32768) in dBFS, floored at {@link SILENCE_DBFS}. */
export function amplitudeToDbfs(amplitude: number): number {
  if (amplitude <= 0) return SILENCE_DBFS
  return Math.max(SILENCE_DBFS, 20 * Math.log10(amplitude / FULL_SCALE))
}

/**
 * Accumulates samples until {@link read}, which returns their levels and starts over. Adding
 * allocates nothing; μ-law and A-law bytes go through precomputed tables without decoding.
 */
export class LevelMeter {
  #sumSquares = 0
  #peak = 0
  #samples = 0

  /** Samples accumulated since the last read. */
  get samples(): number {
    return this.#samples
  }

  addUlaw(bytes: Uint8Array): void {
    this.#addCoded(bytes, ULAW_SQUARES, ULAW_MAGNITUDES)
  }

  addAlaw(bytes: Uint8Array): void {
    this.#addCoded(bytes, ALAW_SQUARES, ALAW_MAGNITUDES)
  }

  addPcm16(samples: Int16Array): void {
    let sum = 0
    let peak = this.#peak
    const n = samples.length
    for (let i = 0; i < n; i++) {
      const s = samples[i]!
      sum += s * s
      const m = s < 0 ? -s : s
      if (m > peak) peak = m
    }
    this.#sumSquares += sum
    this.#peak = peak
    this.#samples += n
  }

  /** Counts `samples` of digital silence (a stretch where nothing was played). */
  addSilence(samples: number): void {
    this.#samples += samples
  }

  /** Levels since the last read (silence if nothing was added), then starts over. */
  read(): Levels {
    const levels = this.peek()
    this.reset()
    return levels
  }

  /** Levels since the last read, without starting over. */
  peek(): Levels {
    const rms = this.#samples === 0 ? 0 : Math.sqrt(this.#sumSquares / this.#samples)
    return { rmsDbfs: amplitudeToDbfs(rms), peakDbfs: amplitudeToDbfs(this.#peak) }
  }

  reset(): void {
    this.#sumSquares = 0
    this.#peak = 0
    this.#samples = 0
  }

  #addCoded(bytes: Uint8Array, squares: Float64Array, magnitudes: Uint16Array): void {
    let sum = 0
    let peak = this.#peak
    const n = bytes.length
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!
      sum += squares[b]!
      const m = magnitudes[b]!
      if (m > peak) peak = m
    }
    this.#sumSquares += sum
    this.#peak = peak
    this.#samples += n
  }
}

/** Levels of one buffer of μ-law bytes. */
export function ulawLevels(bytes: Uint8Array): Levels {
  const meter = new LevelMeter()
  meter.addUlaw(bytes)
  return meter.read()
}

/** Levels of one buffer of 16-bit samples. */
export function pcm16Levels(samples: Int16Array): Levels {
  const meter = new LevelMeter()
  meter.addPcm16(samples)
  return meter.read()
}

function squaresOf(table: Readonly<Int16Array>): Float64Array {
  return Float64Array.from(table, (s) => s * s)
}

function magnitudesOf(table: Readonly<Int16Array>): Uint16Array {
  return Uint16Array.from(table, (s) => Math.abs(s))
}
