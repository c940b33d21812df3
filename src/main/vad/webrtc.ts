/** WebRTC VAD (libfvad compiled to wasm): one detector per call over 10/20/30 ms frames of 8 kHz audio. */
import createFvad, { type FvadModule } from '@echogarden/fvad-wasm'
import { CallbenchError } from '../../shared/errors.js'

export type WebRtcVadMode = 0 | 1 | 2 | 3

/** Options of a WebRTC VAD instance. */
export interface WebRtcVadOptions {
  /** Aggressiveness, 0 (most speech kept) to 3 (fewest false positives). Default 2. */
  mode?: WebRtcVadMode
  /** Default 8000. libfvad takes 8000, 16000, 32000 or 48000. */
  sampleRateHz?: 8000 | 16000 | 32000 | 48000
}

/** Frame lengths libfvad accepts. */
export const WEBRTC_FRAME_MS = [10, 20, 30] as const

let modulePromise: Promise<FvadModule> | undefined

/** The wasm module, loaded once per process and shared by every call. */
export function loadFvad(): Promise<FvadModule> {
  modulePromise ??= createFvad().catch((err: unknown) => {
    modulePromise = undefined
    throw new CallbenchError('internal', 'WebRTC VAD failed to load', { cause: err })
  })
  return modulePromise
}

/** Maps the 0–1 threshold of the settings onto libfvad's aggressiveness. */
export function webRtcModeForThreshold(threshold: number): WebRtcVadMode {
  if (threshold < 0.25) return 0
  if (threshold < 0.5) return 1
  if (threshold < 0.75) return 2
  return 3
}

export class WebRtcVad {
  readonly sampleRateHz: number
  readonly #fvad: FvadModule
  #handle: number
  // Room for the longest frame (30 ms), allocated once in wasm memory.
  readonly #bufferPtr: number
  readonly #maxFrameSamples: number

  static async create(opts: WebRtcVadOptions = {}): Promise<WebRtcVad> {
    return new WebRtcVad(await loadFvad(), opts)
  }

  constructor(fvad: FvadModule, opts: WebRtcVadOptions = {}) {
    this.#fvad = fvad
    this.sampleRateHz = opts.sampleRateHz ?? 8000
    this.#maxFrameSamples = (this.sampleRateHz * 30) / 1000
    const handle = fvad._fvad_new()
    if (handle === 0) throw new CallbenchError('internal', 'WebRTC VAD out of memory')
    if (
      fvad._fvad_set_mode(handle, opts.mode ?? 2) !== 0 ||
      fvad._fvad_set_sample_rate(handle, this.sampleRateHz) !== 0
    ) {
      fvad._fvad_free(handle)
      throw new CallbenchError('bad_request', 'WebRTC VAD: mode must be 0–3 and the rate 8/16/32/48 kHz')
    }
    this.#handle = handle
    this.#bufferPtr = fvad._malloc(this.#maxFrameSamples * 2)
  }

  /** 1 if the frame (`length` samples from `offset`, 10/20/30 ms long) holds voice, else 0. */
  process(samples: Int16Array, offset = 0, length = samples.length - offset): number {
    if (this.#handle === 0) throw new CallbenchError('internal', 'WebRTC VAD used after close')
    if (length > this.#maxFrameSamples) throw new CallbenchError('bad_request', 'WebRTC VAD frame longer than 30 ms')
    // Read HEAP16 each time: Emscripten replaces the view when the wasm memory grows.
    const heap = this.#fvad.HEAP16
    const base = this.#bufferPtr >> 1
    for (let i = 0; i < length; i++) heap[base + i] = samples[offset + i]!
    const voice = this.#fvad._fvad_process(this.#handle, this.#bufferPtr, length)
    if (voice < 0) throw new CallbenchError('bad_request', 'WebRTC VAD frame must be 10, 20 or 30 ms')
    return voice
  }

  reset(): void {
    if (this.#handle !== 0) this.#fvad._fvad_reset(this.#handle)
  }

  close(): void {
    if (this.#handle === 0) return
    this.#fvad._fvad_free(this.#handle)
    this.#fvad._free(this.#bufferPtr)
    this.#handle = 0
  }
}
