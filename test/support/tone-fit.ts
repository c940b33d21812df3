/** Least-squares fit of a sinusoid: what of a signal is that tone, and what is everything else (images, aliases). */

export interface ToneFit {
  /** RMS of the fitted tone. */
  toneRms: number
  /** RMS of `x[from..to)` minus the fitted tone. */
  residualRms: number
}

export function fitTone(x: ArrayLike<number>, from: number, to: number, frequencyHz: number, rateHz: number): ToneFit {
  const w = (2 * Math.PI * frequencyHz) / rateHz
  let ss = 0
  let cc = 0
  let sc = 0
  let xs = 0
  let xc = 0
  for (let i = from; i < to; i++) {
    const s = Math.sin(w * i)
    const c = Math.cos(w * i)
    ss += s * s
    cc += c * c
    sc += s * c
    xs += x[i]! * s
    xc += x[i]! * c
  }
  const det = ss * cc - sc * sc
  const a = (xs * cc - xc * sc) / det
  const b = (xc * ss - xs * sc) / det
  let sum = 0
  for (let i = from; i < to; i++) {
    const e = x[i]! - a * Math.sin(w * i) - b * Math.cos(w * i)
    sum += e * e
  }
  return { toneRms: Math.sqrt((a * a + b * b) / 2), residualRms: Math.sqrt(sum / (to - from)) }
}
