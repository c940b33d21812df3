/** The VAD decision state machine: one speech probability per window in, speech start/end/misfire events out. */

export type SegmenterState = 'quiet' | 'starting' | 'speaking' | 'stopping'

/** Options of the segmenter; every time is in stream milliseconds. */
export interface SegmenterOptions {
  /** A window with probability ≥ this is speech, 0.01–1. Default 0.5. */
  threshold?: number
  /** A window with probability < this is silence. Default `threshold - 0.15`, at least 0.05; never above `threshold`. */
  negativeThreshold?: number
  /** Speech needed (summed over speech windows) before `speechStart` fires. Default 150 ms. */
  minSpeechMs?: number
  /** Silence after the last speech window that ends the turn. Default 500 ms. */
  silenceMs?: number
  /** How far before the onset a consumer should keep audio (reported in `speechStart`). Default 300 ms. */
  preSpeechPadMs?: number
  /**
   * Longest silence inside a start that has not reached `minSpeechMs` yet; more, and the start is a misfire.
   * Keeps scattered blips (WebRTC's start-up transient, clicks) from adding up to a start. Default 200 ms,
   * at most `silenceMs`.
   */
  startGapMs?: number
  /**
   * Longest run of lead evidence (windows whose `leadProbability` is ≥ 0.5, e.g. the energy VAD's) just before
   * the first speech window of a segment that counts as speech: the onset moves back to the run's start and the
   * run adds to `minSpeechMs`. Voiceless onsets ("st", "sk") are loud but not voiced, and Silero only calls them
   * speech at the vowel. A longer run is more likely steady noise and counts for nothing. 0 (default): off.
   */
  onsetLeadMs?: number
  /**
   * Silence inside a turn after which `pause` fires (once per silent spell), before `silenceMs` ends the turn; a
   * speech window after it fires `resume`. Lets a consumer start work on a turn that is probably over. 0 (default)
   * or not under `silenceMs`: off.
   */
  pauseMs?: number
}

export interface SpeechStartEvent {
  /** When speech really began: the start of the first speech window of the segment, or of the lead run before it. */
  onsetMs: number
  /** `onsetMs - preSpeechPadMs`, not before the first window seen. */
  paddedStartMs: number
  /** When the segmenter was sure (end of the window that reached `minSpeechMs`). */
  confirmedAtMs: number
}

export interface SpeechEndEvent {
  onsetMs: number
  /** End of the last speech window. */
  lastSpeechMs: number
  /** When the end of turn was decided (`silenceMs` of silence after `lastSpeechMs`). */
  decidedAtMs: number
  /** Sum of the speech windows' durations in the segment. */
  speechMs: number
}

/** The caller has been silent `pauseMs` inside a turn: the turn probably ends at `lastSpeechMs + silenceMs`. */
export interface PauseEvent {
  onsetMs: number
  lastSpeechMs: number
  /** End of the window that completed `pauseMs` of silence. */
  atMs: number
}

/** Speech again after a `pause`: the turn goes on. */
export interface ResumeEvent {
  /** Start of the speech window. */
  atMs: number
}

export interface MisfireEvent {
  onsetMs: number
  lastSpeechMs: number
  decidedAtMs: number
  /** Less than `minSpeechMs`. */
  speechMs: number
}

export interface SegmenterHandlers {
  speechStart?(e: SpeechStartEvent): void
  speechEnd?(e: SpeechEndEvent): void
  misfire?(e: MisfireEvent): void
  pause?(e: PauseEvent): void
  resume?(e: ResumeEvent): void
}

export interface ResolvedSegmenterOptions {
  threshold: number
  negativeThreshold: number
  minSpeechMs: number
  silenceMs: number
  preSpeechPadMs: number
  startGapMs: number
  onsetLeadMs: number
  /** 0 when off. */
  pauseMs: number
}

export function resolveSegmenterOptions(opts: SegmenterOptions = {}): ResolvedSegmenterOptions {
  // Settings allow 0; a zero threshold would call every window speech, so keep a small positive floor.
  const threshold = Math.min(1, Math.max(0.01, opts.threshold ?? 0.5))
  const negativeThreshold = Math.min(threshold, Math.max(0, opts.negativeThreshold ?? Math.max(0.05, threshold - 0.15)))
  const silenceMs = Math.max(0, opts.silenceMs ?? 500)
  return {
    threshold,
    negativeThreshold,
    minSpeechMs: Math.max(0, opts.minSpeechMs ?? 150),
    silenceMs,
    preSpeechPadMs: Math.max(0, opts.preSpeechPadMs ?? 300),
    startGapMs: Math.min(silenceMs, Math.max(0, opts.startGapMs ?? 200)),
    onsetLeadMs: Math.max(0, opts.onsetLeadMs ?? 0),
    pauseMs: opts.pauseMs !== undefined && opts.pauseMs > 0 && opts.pauseMs < silenceMs ? opts.pauseMs : 0
  }
}

/**
 * QUIET → STARTING → SPEAKING → STOPPING → QUIET, the pipecat vad_analyzer states with the vad-web
 * frame-processor rules (PROTOCOLS §6): speech time adds up within a segment across short gaps, only windows
 * below the negative threshold count as silence, windows between the thresholds neither add speech nor
 * silence, and a speech window resets the silence count. Adapted: a start that meets `startGapMs` of silence
 * before reaching `minSpeechMs` of speech is a misfire (never announced), decided then rather than after
 * `silenceMs`, so blips far apart do not add up to speech; and a start may be led by `onsetLeadMs` of another
 * detector's evidence (only when leaving QUIET, so the end of a turn is decided exactly as before).
 */
export class Segmenter {
  readonly options: ResolvedSegmenterOptions
  #handlers: SegmenterHandlers
  #state: SegmenterState = 'quiet'
  #firstWindowMs = Number.NaN
  #onsetMs = 0
  #lastSpeechMs = 0
  #speechMs = 0
  #silenceMs = 0
  // Contiguous lead evidence ending at the previous window.
  #leadRunMs = 0
  // `pause` fired for the current silent spell.
  #paused = false

  constructor(opts: SegmenterOptions = {}, handlers: SegmenterHandlers = {}) {
    this.options = resolveSegmenterOptions(opts)
    this.#handlers = handlers
  }

  get state(): SegmenterState {
    return this.#state
  }

  /** True from `speechStart` until `speechEnd`. */
  get speaking(): boolean {
    return this.#state === 'speaking' || this.#state === 'stopping'
  }

  /**
   * One window's probability, with where the window starts in the stream and how long it is, and optionally a
   * second detector's probability for the same window (see `onsetLeadMs`).
   */
  push(probability: number, windowStartMs: number, windowDurationMs: number, leadProbability?: number): void {
    if (Number.isNaN(this.#firstWindowMs)) this.#firstWindowMs = windowStartMs
    const windowEndMs = windowStartMs + windowDurationMs
    const { threshold, negativeThreshold } = this.options
    const isSpeech = probability >= threshold
    const isSilence = probability < negativeThreshold
    const leadMs = this.#leadRunMs
    this.#leadRunMs = leadProbability !== undefined && leadProbability >= 0.5 ? leadMs + windowDurationMs : 0

    if (isSpeech) {
      if (this.#state === 'quiet') {
        this.#state = 'starting'
        this.#onsetMs = windowStartMs
        this.#speechMs = 0
        if (leadMs > 0 && leadMs <= this.options.onsetLeadMs) {
          this.#onsetMs -= leadMs
          this.#speechMs = leadMs
        }
      }
      this.#speechMs += windowDurationMs
      this.#lastSpeechMs = windowEndMs
      this.#silenceMs = 0
      if (this.#state === 'stopping') this.#state = 'speaking'
      if (this.#paused) {
        this.#paused = false
        this.#handlers.resume?.({ atMs: windowStartMs })
      }
      if (this.#state === 'starting' && this.#speechMs >= this.options.minSpeechMs) {
        this.#state = 'speaking'
        this.#handlers.speechStart?.({
          onsetMs: this.#onsetMs,
          paddedStartMs: Math.max(this.#firstWindowMs, this.#onsetMs - this.options.preSpeechPadMs),
          confirmedAtMs: windowEndMs
        })
      }
      return
    }
    if (!isSilence || this.#state === 'quiet') return

    if (this.#state === 'speaking') this.#state = 'stopping'
    this.#silenceMs += windowDurationMs
    const limitMs = this.#state === 'starting' ? this.options.startGapMs : this.options.silenceMs
    if (this.#silenceMs < limitMs) {
      const { pauseMs } = this.options
      if (pauseMs > 0 && !this.#paused && this.#state === 'stopping' && this.#silenceMs >= pauseMs) {
        this.#paused = true
        this.#handlers.pause?.({ onsetMs: this.#onsetMs, lastSpeechMs: this.#lastSpeechMs, atMs: windowEndMs })
      }
      return
    }

    const wasSpeaking = this.#state === 'stopping'
    const event = {
      onsetMs: this.#onsetMs,
      lastSpeechMs: this.#lastSpeechMs,
      decidedAtMs: windowEndMs,
      speechMs: this.#speechMs
    }
    this.#toQuiet()
    if (wasSpeaking) this.#handlers.speechEnd?.(event)
    else this.#handlers.misfire?.(event)
  }

  /** Forgets any segment in progress without emitting (e.g. the call was put on hold). */
  reset(): void {
    this.#toQuiet()
  }

  #toQuiet(): void {
    this.#state = 'quiet'
    this.#speechMs = 0
    this.#silenceMs = 0
    this.#leadRunMs = 0
    this.#paused = false
  }
}
