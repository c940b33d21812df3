/**
 * How the Silero model (main thread) and its inference worker talk: shared memory and `Atomics`, types and slot
 * numbers only, so the worker imports nothing at run time.
 *
 * A message per tick used to cost more CPU than the inference itself (about 0.45 ms a round trip against 0.24 ms
 * for a window at batch 1): `postMessage` serializes, and each side's event loop is woken to read it. Now the main
 * thread writes the tick's windows into shared buffers, bumps `REQUEST` and wakes the worker with
 * `Atomics.notify`; the worker, blocked in `Atomics.wait`, runs them, writes the probabilities and bumps
 * `RESPONSE`, which the main thread awaits with `Atomics.waitAsync`. One request is in flight at a time.
 * Only `ready` / `loadFailed` at start travel as messages.
 */

export type SileroWorkerSampleRateHz = 8000 | 16000

/** Slots of the shared control array (Int32). */
export const CONTROL = {
  /** Bumped by the main thread for each request (and for close). */
  request: 0,
  /** Set by the worker to the request it has answered. */
  response: 1,
  /** Windows in the request. */
  count: 2,
  /** Stream ids in `freed`: their state is dropped after the request's windows have run. */
  freedCount: 3,
  /** 1: the worker releases the model and exits instead of running a request. */
  close: 4,
  /** 1 when an inference of the answered request failed: none of its probabilities is valid. */
  error: 5,
  /** Inferences the answered request took, and the largest of them. */
  runs: 6,
  largestBatch: 7,
  /** Streams the worker holds state for after the answered request (for tests of stream cleanup). */
  liveStreams: 8,
  /** Bytes of the error message in `errorText`. */
  errorLength: 9
} as const

export const CONTROL_SLOTS = 10

/** Longest error message kept, bytes of UTF-8. */
export const ERROR_TEXT_BYTES = 512

/**
 * The shared buffers, made by the main thread. Window i is `samples[i * windowSamples ..]`, of the stream
 * `streams[i]`; `resets[i]` = 1 clears that stream's state and context before window i; the worker writes
 * `probabilities[i]`. A request holds at most `capacity` windows and `freedCapacity` freed ids.
 */
export interface SileroSharedBuffers {
  control: SharedArrayBuffer
  samples: SharedArrayBuffer
  streams: SharedArrayBuffer
  resets: SharedArrayBuffer
  probabilities: SharedArrayBuffer
  freed: SharedArrayBuffer
  errorText: SharedArrayBuffer
  capacity: number
  freedCapacity: number
}

/** `workerData` of the worker. */
export interface SileroWorkerInit {
  modelPath: string
  sampleRateHz: SileroWorkerSampleRateHz
  /** Most windows in one inference; a request with more runs several. */
  maxBatch: number
  shared: SileroSharedBuffers
}

export interface SileroReadyMessage {
  type: 'ready'
}

export interface SileroLoadFailedMessage {
  type: 'loadFailed'
  message: string
}

export type FromSileroWorker = SileroReadyMessage | SileroLoadFailedMessage
