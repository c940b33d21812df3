/** Kaiser-windowed sinc filter design for the resampler, laid out as polyphase banks that skip zero taps. */

// Flat to 42.5 % of the lower rate (3.4 kHz at 8 kHz) and at least STOPBAND_ATTENUATION_DB down
// from 57.5 % (4.6 kHz, the first frequency that folds back onto 3.4 kHz); -6 dB at its Nyquist.
export const PASSBAND_EDGE = 0.425
export const STOPBAND_EDGE = 0.575
export const STOPBAND_ATTENUATION_DB = 130

/**
 * A polyphase filter bank for one stage of ratio up/down. Each phase is a run of taps at a fixed
 * stride plus at most one solo tap, so the exact zeros of a windowed sinc cost nothing: half the
 * taps of a half-band (2:1) filter, and the phase of an interpolator that is a pure delay. A
 * decimator's single phase is symmetric, so it is folded: each coefficient multiplies the sum of
 * its two mirrored samples.
 */
export interface FilterBank {
  readonly up: number
  readonly down: number
  /** Centre of the prototype filter in upsampled samples; a multiple of both up and down. */
  readonly centre: number
  /** Input samples kept from earlier calls. */
  readonly history: number
  readonly folded: boolean
  /** Per phase: where its run starts in `coefficients`, its length (a multiple of 4), stride in input samples. */
  readonly runStart: Int32Array
  readonly runLength: Int32Array
  readonly runStride: Int32Array
  /** Per phase: window offset of the run's oldest tap, relative to the oldest history sample. */
  readonly runOffset: Int32Array
  /** Folded banks: window offset of the newest tap, the mirror of the oldest. */
  readonly runMirror: Int32Array
  /** Per phase: window offset and coefficient of the solo tap (coefficient 0 when there is none). */
  readonly soloOffset: Int32Array
  readonly soloCoefficient: Float64Array
  readonly coefficients: Float64Array
}

/** One stage of a conversion, with the band it must keep and the band it must remove, in Hz. */
export interface StageSpec {
  readonly fromHz: number
  readonly toHz: number
  readonly passHz: number
  readonly stopHz: number
}

/**
 * How to convert between two rates. 8↔48 kHz go through 16 kHz (half the work of one stage): the
 * sharp filter runs at the lower rates, and the step to or from 48 kHz only has to remove what
 * would fold onto the kept band, which a short filter does. That filter's -6 dB point sits on the
 * intermediate Nyquist frequency, so its exact zeros are skipped like the sharp one's.
 */
export function planStages(fromHz: number, toHz: number): StageSpec[] {
  const lowHz = Math.min(fromHz, toHz)
  const sharp = (a: number, b: number): StageSpec => ({
    fromHz: a,
    toHz: b,
    passHz: PASSBAND_EDGE * lowHz,
    stopHz: STOPBAND_EDGE * lowHz
  })
  const wide = (a: number, b: number, midHz: number): StageSpec => ({
    fromHz: a,
    toHz: b,
    passHz: STOPBAND_EDGE * lowHz,
    stopHz: midHz - STOPBAND_EDGE * lowHz
  })
  const via = (midHz: number): StageSpec[] =>
    fromHz < toHz ? [sharp(fromHz, midHz), wide(midHz, toHz, midHz)] : [wide(fromHz, midHz, midHz), sharp(midHz, toHz)]
  const key = `${fromHz}>${toHz}`
  if (key === '8000>48000' || key === '48000>8000') return via(16000)
  return [sharp(fromHz, toHz)]
}

/** The banks for a conversion, with the total delay, a whole number of input and of output samples. */
export function planBanks(
  fromHz: number,
  toHz: number
): { banks: FilterBank[]; delayOutputSamples: number; delayInputSamples: number } {
  const stages = planStages(fromHz, toHz)
  const steps = stages.length === 1 ? [[1]] : [1, 2, 3, 4, 5, 6].flatMap((a) => [1, 2, 3, 4, 5, 6].map((b) => [a, b]))
  let best: { steps: number[]; taps: number; delay: number } | undefined
  for (const candidate of steps) {
    const shapes = stages.map((spec, i) => shapeOf(spec, candidate[i]!))
    // Each stage's delay, in its own output samples, scaled to the final rate.
    let delay = 0
    shapes.forEach((shape, i) => (delay += (shape.centre / shape.down) * (toHz / stages[i]!.toHz)))
    const taps = shapes.reduce((n, shape) => n + shape.centre, 0)
    if (
      Number.isInteger(delay) &&
      Number.isInteger((delay * fromHz) / toHz) &&
      (best === undefined || taps < best.taps)
    ) {
      best = { steps: candidate, taps, delay }
    }
  }
  if (best === undefined) throw new Error(`no integral delay for ${fromHz} -> ${toHz} Hz`)
  const chosen = best
  return {
    banks: stages.map((spec, i) => filterBankFor(spec, chosen.steps[i]!)),
    delayOutputSamples: chosen.delay,
    delayInputSamples: (chosen.delay * fromHz) / toHz
  }
}

interface Shape {
  up: number
  down: number
  /** Fraction of the upsampled rate. */
  pass: number
  stop: number
  centre: number
}

function shapeOf(spec: StageSpec, centreStep: number): Shape {
  const g = gcd(spec.fromHz, spec.toHz)
  const up = spec.toHz / g
  const down = spec.fromHz / g
  const upsampledHz = spec.fromHz * up
  const pass = spec.passHz / upsampledHz
  const stop = spec.stopHz / upsampledHz
  if (up === 1 && down === 1) return { up, down, pass, stop, centre: 0 }
  // Kaiser's length formula (Oppenheim & Schafer, 7.6).
  const minLength = Math.ceil((STOPBAND_ATTENUATION_DB - 7.95) / (2.285 * 2 * Math.PI * (stop - pass))) + 1
  // A centre that is a whole number of input and of output samples keeps the delay integral.
  const step = up * down * centreStep
  return { up, down, pass, stop, centre: Math.ceil((minLength - 1) / 2 / step) * step }
}

const banks = new Map<string, FilterBank>()

function filterBankFor(spec: StageSpec, centreStep: number): FilterBank {
  const key = `${spec.fromHz}/${spec.toHz}/${spec.passHz}/${spec.stopHz}/${centreStep}`
  let bank = banks.get(key)
  if (bank === undefined) {
    bank = designFilterBank(shapeOf(spec, centreStep))
    banks.set(key, bank)
  }
  return bank
}

function designFilterBank({ up, down, pass, stop, centre }: Shape): FilterBank {
  if (up === 1 && down === 1) return layOut(1, 1, 0, Float64Array.of(1))
  const cutoff = (pass + stop) / 2
  const beta = 0.1102 * (STOPBAND_ATTENUATION_DB - 8.7)
  const prototype = new Float64Array(2 * centre + 1)
  const i0Beta = besselI0(beta)
  // Computed for t >= 0 and mirrored, so the filter is exactly symmetric.
  for (let t = 0; t <= centre; t++) {
    const x = 2 * cutoff * t
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)
    const r = t / centre
    const h = 2 * cutoff * up * sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta)
    prototype[centre + t] = h
    prototype[centre - t] = h
  }
  return layOut(up, down, centre, prototype)
}

interface Tap {
  /** Input samples back from the newest one the output depends on. */
  k: number
  h: number
}

interface PhaseLayout {
  /** Taps of the run, oldest first, evenly spaced; for a folded bank, the older half of each pair. */
  run: Tap[]
  stride: number
  solo: Tap | undefined
}

function layOut(up: number, down: number, centre: number, prototype: Float64Array): FilterBank {
  const phases: PhaseLayout[] = []
  for (let phase = 0; phase < up; phase++) {
    const taps: Tap[] = []
    let sum = 0
    for (let k = 0, i = phase; i < prototype.length; k++, i += up) {
      // sin(pi * n) is not exactly 0 in floating point; these taps are zeros of the ideal sinc.
      if (Math.abs(prototype[i]!) > 1e-13) taps.push({ k, h: prototype[i]! })
      sum += prototype[i]!
    }
    // Each phase passes DC at exactly unit gain, so a constant input leaves no residual image.
    for (const tap of taps) tap.h /= sum
    const centreK = (centre - phase) / up
    phases.push(splitPhase(taps, Number.isInteger(centreK) ? centreK : -1))
  }
  // One phase containing the centre is symmetric about it (up === 1 with a real filter).
  const folded = up === 1 && phases[0]!.solo !== undefined && phases[0]!.run.length > 1
  if (folded) {
    const p = phases[0]!
    const half = p.run.filter((t) => t.k > p.solo!.k)
    // Zero-coefficient pairs pad the inner end: they read samples inside the span, times 0.
    while (half.length % 4 !== 0) half.push({ k: half[half.length - 1]!.k - p.stride, h: 0 })
    p.run = half
  } else {
    for (const p of phases) {
      // Zero-coefficient taps pad the older end; the history grows to cover them.
      while (p.run.length % 4 !== 0) p.run.unshift({ k: p.run[0]!.k + p.stride, h: 0 })
    }
  }
  let history = 0
  for (const p of phases) history = Math.max(history, p.run[0]?.k ?? 0, p.solo?.k ?? 0)
  const bank = {
    up,
    down,
    centre,
    history,
    folded,
    runStart: new Int32Array(up),
    runLength: new Int32Array(up),
    runStride: new Int32Array(up),
    runOffset: new Int32Array(up),
    runMirror: new Int32Array(up),
    soloOffset: new Int32Array(up),
    soloCoefficient: new Float64Array(up),
    coefficients: new Float64Array(phases.reduce((n, p) => n + p.run.length, 0))
  }
  let at = 0
  phases.forEach((p, phase) => {
    bank.runStart[phase] = at
    bank.runLength[phase] = p.run.length
    bank.runStride[phase] = p.stride
    bank.runOffset[phase] = history - (p.run[0]?.k ?? 0)
    bank.runMirror[phase] = folded ? history - (2 * p.solo!.k - p.run[0]!.k) : 0
    bank.soloOffset[phase] = history - (p.solo?.k ?? 0)
    bank.soloCoefficient[phase] = p.solo?.h ?? 0
    for (const tap of p.run) bank.coefficients[at++] = tap.h
  })
  return bank
}

// Prefers an evenly spaced run of the non-zero taps, setting the centre tap apart if that makes one;
// otherwise a dense run over the whole span, zeros included (the centre still apart).
function splitPhase(taps: readonly Tap[], centreK: number): PhaseLayout {
  const byAge = [...taps].sort((x, y) => y.k - x.k)
  if (byAge.length === 1) return { run: [], stride: 1, solo: byAge[0] }
  const strideOf = (list: readonly Tap[]): number => {
    if (list.length < 2) return 1
    const stride = list[0]!.k - list[1]!.k
    for (let j = 2; j < list.length; j++) if (list[j - 1]!.k - list[j]!.k !== stride) return 0
    return stride
  }
  const solo = byAge.find((t) => t.k === centreK)
  const rest = byAge.filter((t) => t !== solo)
  const stride = strideOf(rest)
  if (stride > 0) return { run: rest, stride, solo }
  const dense: Tap[] = []
  for (let k = rest[0]!.k; k >= rest[rest.length - 1]!.k; k--) {
    if (k !== centreK || solo === undefined) dense.push({ k, h: rest.find((t) => t.k === k)?.h ?? 0 })
  }
  // With the centre apart, a dense run has a hole; fill it with a zero tap and keep the solo.
  if (solo !== undefined) {
    dense.splice(
      dense.findIndex((t) => t.k < centreK),
      0,
      { k: centreK, h: 0 }
    )
  }
  return { run: dense, stride: 1, solo }
}

function besselI0(x: number): number {
  let sum = 1
  let term = 1
  const half = x / 2
  for (let k = 1; k < 500; k++) {
    term *= (half / k) * (half / k)
    sum += term
    if (term < sum * 1e-17) break
  }
  return sum
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}
