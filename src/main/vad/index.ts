/** Per-call voice activity detection: 8 kHz PCM in, speech start/end events out, with the method chosen in settings. */
import { EventEmitter } from 'node:events'
import type { VadMethod } from '../../shared/settings.js'
import { CallbenchError } from '../../shared/errors.js'
import { EnergyVad } from './energy.js'
import {
  Segmenter,
  type MisfireEvent,
  type PauseEvent,
  type ResumeEvent,
  type SpeechEndEvent,
  type SpeechStartEvent
} from './segmenter.js'
import { getSilero, type SileroErrorHandler, type SileroModel, type SileroStream } from './silero.js'
import { WebRtcVad, loadFvad, webRtcModeForThreshold, type WebRtcVadMode } from './webrtc.js'

export type { MisfireEvent, PauseEvent, ResumeEvent, SpeechEndEvent, SpeechStartEvent } from './segmenter.js'
export { getSilero } from './silero.js'

const SAMPLE_RATE_HZ = 8000
const SAMPLES_PER_MS = SAMPLE_RATE_HZ / 1000
// Windows for the methods without a model-imposed size: 20 ms, one Twilio frame.
const FRAME_SAMPLES = 160
// Audio kept while an async backend loads; beyond this the oldest windows are dropped.
const MAX_EARLY_MS = 10_000
// Silero only calls a voiceless onset ("st") speech at its vowel, up to ~150 ms later; see `onsetLeadMs`.
const DEFAULT_ONSET_LEAD_MS = 200

/** Settings of one VAD stream (the `vad` settings section, plus options the console does not show). */
export interface VadStreamSettings {
  method: VadMethod
  /** Speech probability threshold, 0–1 (for WebRTC it picks the aggressiveness). */
  threshold: number
  /** Speech needed before `speechStart`, ms. */
  minSpeechMs: number
  /** End-of-turn silence, ms. */
  silenceMs: number
  /** Reported in `speechStart.paddedStartMs`: how much audio before the onset to keep, ms. */
  preSpeechPadMs: number
  /** WebRTC aggressiveness; default from `threshold`. */
  webrtcMode?: WebRtcVadMode
  /** WebRTC frame length. Default 20 ms. */
  webrtcFrameMs?: 10 | 20 | 30
  /**
   * Silero only: up to this much loud sound (the energy VAD's speech) right before Silero's first speech window
   * counts as speech and as the onset, so a start like "Stop" is confirmed at Silero's first speech window
   * instead of `minSpeechMs` after it. Noise Silero never calls speech starts nothing. 0 = off. Default 200 ms.
   */
  onsetLeadMs?: number
  /** Silence inside a turn that fires `pause` (a speech window after it fires `resume`), ms. 0 or unset: off. */
  pauseMs?: number
}

export interface ProbabilityEvent {
  probability: number
  windowStartMs: number
  windowDurationMs: number
}

export interface VadStreamEvents {
  speechStart: [SpeechStartEvent]
  speechEnd: [SpeechEndEvent]
  misfire: [MisfireEvent]
  /** `pauseMs` of silence inside a turn (see VadStreamSettings.pauseMs). */
  pause: [PauseEvent]
  /** Speech again after a `pause`. */
  resume: [ResumeEvent]
  /** One per window; only computed into an event when someone listens. */
  probability: [ProbabilityEvent]
  /** The chosen method failed (e.g. the model did not load); the stream carries on with the energy VAD. */
  error: [CallbenchError]
}

export interface VadStream extends EventEmitter<VadStreamEvents> {
  /** The method in use now (`energy` after a fallback). */
  readonly method: VadMethod
  /** True between `speechStart` and `speechEnd`. */
  readonly speaking: boolean
  /** 8 kHz mono samples; `streamTimeMs` is the stream time of `pcm[0]`. Samples are copied, not kept. */
  push(pcm: Int16Array, streamTimeMs: number): void
  /** Resolves when every window pushed so far has been classified. */
  drained(): Promise<void>
  /** Forgets a segment in progress without emitting (e.g. after the agent's own prompt). */
  reset(): void
  close(): void
}

/** What turns a window of samples into a probability, synchronously or later. */
interface Backend {
  readonly windowSamples: number
  classify(samples: Int16Array, offset: number, windowStartMs: number): void
  drained(): Promise<void>
  reset(): void
  close(): void
}

type ProbabilitySink = (
  probability: number,
  windowStartMs: number,
  windowDurationMs: number,
  leadProbability?: number
) => void

/**
 * Each Silero window's energy-VAD probability, kept (allocation-free) until the window's Silero probability
 * returns. Matched by window start: a window lost to a failed batch never returns, and is skipped.
 */
class PendingEnergy {
  #startsMs = new Float64Array(64)
  #values = new Float64Array(64)
  #head = 0
  #length = 0

  push(windowStartMs: number, value: number): void {
    const capacity = this.#values.length
    if (this.#length === capacity) {
      const starts = new Float64Array(capacity * 2)
      const values = new Float64Array(capacity * 2)
      for (let i = 0; i < this.#length; i++) {
        starts[i] = this.#startsMs[(this.#head + i) % capacity]!
        values[i] = this.#values[(this.#head + i) % capacity]!
      }
      this.#startsMs = starts
      this.#values = values
      this.#head = 0
    }
    const at = (this.#head + this.#length) % this.#values.length
    this.#startsMs[at] = windowStartMs
    this.#values[at] = value
    this.#length++
  }

  /** The value pushed for this window, dropping older ones; undefined if there is none. */
  take(windowStartMs: number): number | undefined {
    while (this.#length > 0) {
      const start = this.#startsMs[this.#head]!
      if (start > windowStartMs) {
        // Stream time went back: nothing queued matches any more.
        this.#length = 0
        return undefined
      }
      const value = this.#values[this.#head]!
      this.#head = (this.#head + 1) % this.#values.length
      this.#length--
      if (start === windowStartMs) return value
    }
    return undefined
  }
}

class EnergyBackend implements Backend {
  readonly #vad = new EnergyVad({ sampleRateHz: SAMPLE_RATE_HZ })
  constructor(
    private readonly sink: ProbabilitySink,
    readonly windowSamples: number
  ) {}
  classify(samples: Int16Array, offset: number, windowStartMs: number): void {
    this.sink(
      this.#vad.process(samples, offset, this.windowSamples),
      windowStartMs,
      this.windowSamples / SAMPLES_PER_MS
    )
  }
  drained(): Promise<void> {
    return Promise.resolve()
  }
  reset(): void {
    this.#vad.reset()
  }
  close(): void {}
}

class WebRtcBackend implements Backend {
  readonly windowSamples: number
  constructor(
    private readonly vad: WebRtcVad,
    frameMs: number,
    private readonly sink: ProbabilitySink
  ) {
    this.windowSamples = frameMs * SAMPLES_PER_MS
  }
  classify(samples: Int16Array, offset: number, windowStartMs: number): void {
    this.sink(this.vad.process(samples, offset, this.windowSamples), windowStartMs, this.windowSamples / SAMPLES_PER_MS)
  }
  drained(): Promise<void> {
    return Promise.resolve()
  }
  reset(): void {
    this.vad.reset()
  }
  close(): void {
    this.vad.close()
  }
}

/** Peak magnitude at or under which a window is silence without asking Silero: -60 dBFS. */
const SILENT_PEAK = 32

function peakAtMost(samples: Int16Array, offset: number, length: number, peak: number): boolean {
  for (let i = offset; i < offset + length; i++) {
    const v = samples[i]!
    if (v > peak || v < -peak) return false
  }
  return true
}

/** Silero in the worker, with the energy VAD of each window riding along as the segmenter's lead evidence. */
class SileroBackend implements Backend {
  readonly windowSamples: number
  readonly #stream: SileroStream
  readonly #model: SileroModel
  readonly #energy = new EnergyVad({ sampleRateHz: SAMPLE_RATE_HZ })
  readonly #energyPending = new PendingEnergy()
  readonly #sink: ProbabilitySink
  readonly #silenceBelow: number
  /** Silero's last probability: 1 until it has said anything, so silence is first its call. */
  #lastProbability = 1
  /** `silenceBelow`: the segmenter's negative threshold (a window under it is silence). */
  constructor(model: SileroModel, sink: ProbabilitySink, onError: SileroErrorHandler, silenceBelow: number) {
    this.#model = model
    this.#sink = sink
    this.#silenceBelow = silenceBelow
    this.windowSamples = model.windowSamples
    const windowMs = model.windowMs
    this.#stream = model.createStream((p, startMs) => {
      this.#lastProbability = p
      sink(p, startMs, windowMs, this.#energyPending.take(startMs))
    }, onError)
  }
  classify(samples: Int16Array, offset: number, windowStartMs: number): void {
    const energy = this.#energy.process(samples, offset, this.windowSamples)
    // Digital silence (or a line quieter than -60 dBFS at its peak) once Silero itself has called the audio silence:
    // decided here, at once and with no inference, when no earlier window is still out (probabilities stay in
    // stream order). Silero's recurrent state then starts afresh at the next sound, as at the start of a stream.
    if (
      this.#lastProbability < this.#silenceBelow &&
      this.#stream.pendingWindows === 0 &&
      peakAtMost(samples, offset, this.windowSamples, SILENT_PEAK)
    ) {
      this.#stream.reset()
      this.#sink(0, windowStartMs, this.#model.windowMs, energy)
      return
    }
    this.#stream.push(samples, offset, windowStartMs)
    this.#energyPending.push(windowStartMs, energy)
  }
  drained(): Promise<void> {
    return this.#stream.pendingWindows === 0 ? Promise.resolve() : this.#model.idle()
  }
  reset(): void {
    // The line's noise floor outlives a segment; only Silero's state belongs to the audio before.
    this.#stream.reset()
    this.#lastProbability = 1
  }
  close(): void {
    this.#stream.close()
  }
}

class VadStreamImpl extends EventEmitter<VadStreamEvents> implements VadStream {
  #method: VadMethod
  readonly #segmenter: Segmenter
  readonly #windowSamples: number
  readonly #window: Int16Array
  #windowFill = 0
  #windowStartMs = 0
  #backend: Backend | null = null
  #ready: Promise<void>
  // Whole windows waiting for an async backend to load.
  #early: Array<{ samples: Int16Array; startMs: number }> = []
  #closed = false
  readonly #sink: ProbabilitySink = (probability, windowStartMs, windowDurationMs, leadProbability) => {
    if (this.#closed) return
    if (this.listenerCount('probability') > 0)
      this.emit('probability', { probability, windowStartMs, windowDurationMs })
    this.#segmenter.push(probability, windowStartMs, windowDurationMs, leadProbability)
  }

  constructor(settings: VadStreamSettings, silero: () => Promise<SileroModel>) {
    super()
    this.#method = settings.method
    this.#segmenter = new Segmenter(
      {
        // WebRTC says 0 or 1, so any threshold in (0, 1] reads it right.
        threshold: settings.method === 'webrtc' ? 0.5 : settings.threshold,
        minSpeechMs: settings.minSpeechMs,
        silenceMs: settings.silenceMs,
        preSpeechPadMs: settings.preSpeechPadMs,
        // Lead evidence only reaches the segmenter from the Silero backend.
        onsetLeadMs: settings.onsetLeadMs ?? DEFAULT_ONSET_LEAD_MS,
        ...(settings.pauseMs ? { pauseMs: settings.pauseMs } : {})
      },
      {
        speechStart: (e) => this.emit('speechStart', e),
        speechEnd: (e) => this.emit('speechEnd', e),
        misfire: (e) => this.emit('misfire', e),
        pause: (e) => this.emit('pause', e),
        resume: (e) => this.emit('resume', e)
      }
    )
    const onError = (err: CallbenchError) => this.#report(err)
    switch (settings.method) {
      case 'energy':
        this.#windowSamples = FRAME_SAMPLES
        this.#backend = new EnergyBackend(this.#sink, FRAME_SAMPLES)
        this.#ready = Promise.resolve()
        break
      case 'webrtc': {
        const frameMs = settings.webrtcFrameMs ?? 20
        const mode = settings.webrtcMode ?? webRtcModeForThreshold(settings.threshold)
        this.#windowSamples = frameMs * SAMPLES_PER_MS
        this.#ready = loadFvad().then(
          (fvad) =>
            this.#start(
              new WebRtcBackend(new WebRtcVad(fvad, { mode, sampleRateHz: SAMPLE_RATE_HZ }), frameMs, this.#sink)
            ),
          (err: unknown) => this.#fallBack(err)
        )
        break
      }
      case 'silero':
        this.#windowSamples = 256
        this.#ready = silero().then(
          (model) => this.#startSilero(model, onError),
          (err: unknown) => this.#fallBack(err)
        )
        break
    }
    this.#window = new Int16Array(this.#windowSamples)
  }

  get method(): VadMethod {
    return this.#method
  }

  get speaking(): boolean {
    return this.#segmenter.speaking
  }

  push(pcm: Int16Array, streamTimeMs: number): void {
    if (this.#closed) return
    const size = this.#windowSamples
    let i = 0
    while (i < pcm.length) {
      if (this.#windowFill === 0) this.#windowStartMs = streamTimeMs + i / SAMPLES_PER_MS
      const take = Math.min(size - this.#windowFill, pcm.length - i)
      const window = this.#window
      for (let k = 0; k < take; k++) window[this.#windowFill + k] = pcm[i + k]!
      this.#windowFill += take
      i += take
      if (this.#windowFill === size) {
        this.#windowFill = 0
        this.#classify(this.#window, this.#windowStartMs)
      }
    }
  }

  async drained(): Promise<void> {
    await this.#ready
    await this.#backend?.drained()
  }

  reset(): void {
    this.#segmenter.reset()
    this.#backend?.reset()
    this.#windowFill = 0
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#early = []
    this.#backend?.close()
    this.removeAllListeners()
  }

  #classify(samples: Int16Array, startMs: number): void {
    if (this.#backend !== null) {
      this.#backend.classify(samples, 0, startMs)
      return
    }
    this.#early.push({ samples: samples.slice(), startMs })
    const maxEarly = Math.ceil((MAX_EARLY_MS * SAMPLES_PER_MS) / this.#windowSamples)
    if (this.#early.length > maxEarly) this.#early.shift()
  }

  #start(backend: Backend): void {
    if (this.#closed) {
      backend.close()
      return
    }
    this.#backend = backend
    const early = this.#early
    this.#early = []
    for (const w of early) backend.classify(w.samples, 0, w.startMs)
  }

  #startSilero(model: SileroModel, onError: (err: CallbenchError) => void): void {
    let backend: SileroBackend
    try {
      // The worker dying mid-call is fatal for Silero: carry on with the energy VAD rather than without any.
      backend = new SileroBackend(
        model,
        this.#sink,
        (err, fatal) => (fatal ? this.#fallBack(err) : onError(err)),
        this.#segmenter.options.negativeThreshold
      )
    } catch (err) {
      this.#fallBack(err)
      return
    }
    this.#start(backend)
  }

  #fallBack(err: unknown): void {
    const error =
      err instanceof CallbenchError ? err : new CallbenchError('internal', 'VAD failed to start', { cause: err })
    if (this.#closed || this.#method === 'energy') return
    this.#method = 'energy'
    this.#backend?.close()
    this.#backend = null
    // Keep the window size already in use so the accumulator and the early windows still fit.
    this.#start(new EnergyBackend(this.#sink, this.#windowSamples))
    this.#report(error)
  }

  #report(err: CallbenchError): void {
    // An 'error' event with no listener would throw; a VAD problem must never take the call down.
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }
}

/** Options that are not settings: where the Silero model comes from (tests and the benchmark inject one). */
export interface CreateVadOptions {
  silero?: () => Promise<SileroModel>
}

/** A VAD stream for one call. Silero streams share one model, loaded on first use; audio pushed before it is ready is kept. */
export function createVad(settings: VadStreamSettings, opts: CreateVadOptions = {}): VadStream {
  return new VadStreamImpl(settings, opts.silero ?? (() => getSilero(SAMPLE_RATE_HZ)))
}
