/** Messages between the Silero model (main thread) and its inference worker; types only, so the worker imports nothing at run time. */

export type SileroWorkerSampleRateHz = 8000 | 16000

/** `workerData` of the worker. */
export interface SileroWorkerInit {
  modelPath: string
  sampleRateHz: SileroWorkerSampleRateHz
  /** Most windows in one inference; a message with more runs several. */
  maxBatch: number
}

/**
 * The buffers of one message, transferred to the worker and back so neither side allocates per tick.
 * Window i is `samples[i * windowSamples ..]`, of the stream `streams[i]`; `resets[i]` = 1 clears that stream's
 * state and context before window i. `probabilities[i]` is written by the worker. Capacity may exceed `count`.
 */
export interface SileroBatchBuffers {
  samples: Float32Array<ArrayBuffer>
  streams: Int32Array<ArrayBuffer>
  resets: Uint8Array<ArrayBuffer>
  probabilities: Float32Array<ArrayBuffer>
}

export interface SileroRunMessage extends SileroBatchBuffers {
  type: 'run'
  count: number
  /** Streams closed since the last message: their state is dropped after this message's windows have run. */
  freed: number[]
}

export interface SileroCloseMessage {
  type: 'close'
}

export type ToSileroWorker = SileroRunMessage | SileroCloseMessage

export interface SileroReadyMessage {
  type: 'ready'
}

export interface SileroLoadFailedMessage {
  type: 'loadFailed'
  message: string
}

export interface SileroResultMessage extends SileroBatchBuffers {
  type: 'result'
  count: number
  /** Inferences this message took, and the largest of them. */
  runs: number
  largestBatch: number
  /** Streams the worker holds state for after this message (for tests of stream cleanup). */
  liveStreams: number
  /** Set when an inference failed: no probability of this message is valid (streams keep the state they had reached). */
  error?: string
}

export type FromSileroWorker = SileroReadyMessage | SileroLoadFailedMessage | SileroResultMessage
