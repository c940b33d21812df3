// How a level meter moves: instant attack, steady release, and a peak marker held a while before it falls.

/** Lowest level shown, dBFS (the core reports -100 for digital silence). */
export const METER_FLOOR_DBFS = -100

export interface MeterBallisticsOptions {
  /** How fast the bar falls, dB per second. Default 30. */
  releaseDbPerS?: number
  /** How long a peak stays put, ms. Default 1500. */
  holdMs?: number
  /** How fast a held peak falls afterwards, dB per second. Default 20. */
  peakFallDbPerS?: number
}

export class MeterBallistics {
  /** The bar: the RMS level as shown, dBFS. */
  barDbfs = METER_FLOOR_DBFS
  /** The peak-hold marker, dBFS. */
  holdDbfs = METER_FLOOR_DBFS
  readonly #releaseDbPerMs: number
  readonly #holdMs: number
  readonly #peakFallDbPerMs: number
  #targetDbfs = METER_FLOOR_DBFS
  #holdSinceMs = 0
  #lastTickMs: number | undefined

  constructor(opts: MeterBallisticsOptions = {}) {
    this.#releaseDbPerMs = (opts.releaseDbPerS ?? 30) / 1000
    this.#holdMs = opts.holdMs ?? 1500
    this.#peakFallDbPerMs = (opts.peakFallDbPerS ?? 20) / 1000
  }

  /** A new reading (RMS and peak of the last window). */
  update(rmsDbfs: number, peakDbfs: number, nowMs: number): void {
    this.#targetDbfs = Math.max(METER_FLOOR_DBFS, rmsDbfs)
    if (this.#targetDbfs > this.barDbfs) this.barDbfs = this.#targetDbfs
    if (peakDbfs >= this.holdDbfs) {
      this.holdDbfs = Math.max(METER_FLOOR_DBFS, peakDbfs)
      this.#holdSinceMs = nowMs
    }
  }

  /** Moves the bar and the marker to `nowMs`; returns true when anything changed (redraw). */
  tick(nowMs: number): boolean {
    const dt = this.#lastTickMs === undefined ? 0 : Math.max(0, nowMs - this.#lastTickMs)
    this.#lastTickMs = nowMs
    const bar = this.barDbfs
    const hold = this.holdDbfs
    if (this.barDbfs > this.#targetDbfs)
      this.barDbfs = Math.max(this.#targetDbfs, this.barDbfs - this.#releaseDbPerMs * dt)
    if (nowMs - this.#holdSinceMs > this.#holdMs && this.holdDbfs > this.barDbfs) {
      this.holdDbfs = Math.max(this.barDbfs, this.holdDbfs - this.#peakFallDbPerMs * dt)
    }
    return bar !== this.barDbfs || hold !== this.holdDbfs
  }
}
