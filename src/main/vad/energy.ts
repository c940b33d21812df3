/** Energy VAD: window RMS in dBFS against a tracked noise floor, turned into a speech probability. */

/** Options of the energy VAD; levels are RMS in dBFS (0 dBFS = a full-scale square wave). */
export interface EnergyVadOptions {
  /** How far above the noise floor a window must be to count as speech (the soft threshold's midpoint). Default 12 dB. */
  marginDb?: number
  /** Softness of both thresholds: each factor goes from 0.27 to 0.73 across ±this. Default 3 dB. */
  slopeDb?: number
  /** Windows much quieter than this are never speech, whatever the floor (soft gate midpoint). Default -55 dBFS. */
  minSpeechDbfs?: number
  /** Noise floor before any audio. Default -65 dBFS (a quiet phone line). */
  initialFloorDbfs?: number
  /** How fast the floor may rise during sound, so steady noise is learnt but speech is not. Default 3 dB/s. */
  floorRiseDbPerS?: number
  sampleRateHz?: number
}

const FULL_SCALE = 32768
// Below this the window is digital silence; keeps log10 finite.
const LEVEL_FLOOR_DBFS = -100
// Fraction of the gap closed per window when the level drops below the floor (the floor falls fast).
const FLOOR_FALL_RATE = 0.5

/** One per call: it learns that call's noise floor. Synchronous and allocation-free per window. */
export class EnergyVad {
  readonly #marginDb: number
  readonly #slopeDb: number
  readonly #minSpeechDbfs: number
  readonly #floorRiseDbPerS: number
  readonly #sampleRateHz: number
  #floorDbfs: number
  #lastLevelDbfs = LEVEL_FLOOR_DBFS

  constructor(opts: EnergyVadOptions = {}) {
    this.#marginDb = opts.marginDb ?? 12
    this.#slopeDb = opts.slopeDb ?? 3
    this.#minSpeechDbfs = opts.minSpeechDbfs ?? -55
    this.#floorRiseDbPerS = opts.floorRiseDbPerS ?? 3
    this.#sampleRateHz = opts.sampleRateHz ?? 8000
    this.#floorDbfs = opts.initialFloorDbfs ?? -65
  }

  /** The noise floor learnt so far, dBFS. */
  get floorDbfs(): number {
    return this.#floorDbfs
  }

  /** The level of the last window, dBFS. */
  get levelDbfs(): number {
    return this.#lastLevelDbfs
  }

  /** Speech probability of one window: `length` samples of `samples` from `offset`. */
  process(samples: Int16Array, offset = 0, length = samples.length - offset): number {
    if (length <= 0) return 0
    let sumSquares = 0
    const end = offset + length
    for (let i = offset; i < end; i++) {
      const s = samples[i]!
      sumSquares += s * s
    }
    const meanSquare = sumSquares / (length * FULL_SCALE * FULL_SCALE)
    const levelDbfs = meanSquare > 0 ? Math.max(LEVEL_FLOOR_DBFS, 10 * Math.log10(meanSquare)) : LEVEL_FLOOR_DBFS
    this.#lastLevelDbfs = levelDbfs

    // Judge against the floor as it was before this window, then let the window move it.
    const probability =
      sigmoid((levelDbfs - this.#floorDbfs - this.#marginDb) / this.#slopeDb) *
      sigmoid((levelDbfs - this.#minSpeechDbfs) / this.#slopeDb)

    if (levelDbfs < this.#floorDbfs) {
      this.#floorDbfs += (levelDbfs - this.#floorDbfs) * FLOOR_FALL_RATE
    } else {
      const maxRiseDb = (this.#floorRiseDbPerS * length) / this.#sampleRateHz
      this.#floorDbfs += Math.min(levelDbfs - this.#floorDbfs, maxRiseDb)
    }
    return probability
  }

  reset(floorDbfs = -65): void {
    this.#floorDbfs = floorDbfs
    this.#lastLevelDbfs = LEVEL_FLOOR_DBFS
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x))
}
