// Loads the rendered speech fixtures (test/fixtures/speech) as 8 kHz PCM for the VAD tests and the benchmark.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { decodeUlaw } from '../../src/main/audio/g711.js'

export interface SpeechClip {
  file: string
  text: string
  voice: string
  durationMs: number
  speechOnsetMs: number
  speechOffsetMs: number
}

const dir = fileURLToPath(new URL('../fixtures/speech/', import.meta.url))

export function speechClips(): SpeechClip[] {
  return (JSON.parse(readFileSync(dir + 'index.json', 'utf8')) as { clips: SpeechClip[] }).clips
}

/** A clip decoded to 8 kHz Int16. */
export function loadClipPcm(file: string): Int16Array {
  const ulaw = readFileSync(dir + file)
  const pcm = new Int16Array(ulaw.length)
  decodeUlaw(ulaw, pcm)
  return pcm
}

/** Pushes `pcm` in 20 ms frames (what a call session does), with stream times from `startMs`. */
export function pushInFrames(
  target: { push(pcm: Int16Array, streamTimeMs: number): void },
  pcm: Int16Array,
  startMs = 0
): void {
  for (let i = 0; i < pcm.length; i += 160) target.push(pcm.subarray(i, Math.min(pcm.length, i + 160)), startMs + i / 8)
}

/** 8 kHz → 16 kHz with a Hann-windowed sinc (cut-off 3.8 kHz), for the 16 kHz cross-check only. */
export function upsample2x(pcm: Int16Array): Int16Array {
  const halfTaps = 32
  const cutoff = 3800 / 16000
  const kernel = new Float64Array(2 * halfTaps + 1)
  for (let k = -halfTaps; k <= halfTaps; k++) {
    const sinc = k === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * k) / (Math.PI * k)
    const hann = 0.5 + 0.5 * Math.cos((Math.PI * k) / (halfTaps + 1))
    kernel[k + halfTaps] = sinc * hann
  }
  const out = new Int16Array(pcm.length * 2)
  for (let n = 0; n < out.length; n++) {
    let acc = 0
    for (let k = -halfTaps; k <= halfTaps; k++) {
      const m = n - k
      // Zero-stuffed input: only even positions carry samples (gain 2 restores the level).
      if (m >= 0 && m < out.length && (m & 1) === 0) acc += 2 * kernel[k + halfTaps]! * pcm[m >> 1]!
    }
    out[n] = Math.max(-32768, Math.min(32767, Math.round(acc)))
  }
  return out
}
