// Messages between the main thread and the playback worklet.

/** Main thread → playback worklet. */
export type PlaybackCommand =
  { type: 'audio'; ulaw: Uint8Array } | { type: 'mark'; name: string } | { type: 'clear' } | { type: 'stop' }

/** Playback worklet → main thread. */
export interface PlaybackReport {
  /** Marks whose audio has played (or, when `cleared`, that a clear released unplayed), in order. */
  marks: string[]
  cleared: boolean
  /** Real 8 kHz samples played since the call started. */
  playedSamples: number
  /** Samples still queued. */
  queuedSamples: number
}

export const PLAYBACK_PROCESSOR = 'callbench-playback'
export const CAPTURE_PROCESSOR = 'callbench-capture'
