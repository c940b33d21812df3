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
  /** Streams in the request (rows of `state` in use). */
  streamCount: 3,
  /** 1: the worker releases the model and exits instead of running a request. */
  close: 4,
  /** 1 when an inference of the answered request failed: none of its probabilities is valid. */
  error: 5,
  /** Inferences the answered request took, and the largest of them. */
  runs: 6,
  largestBatch: 7,
  /** Bytes of the error message in `errorText`. */
  errorLength: 8
} as const

export const CONTROL_SLOTS = 9

/** Longest error message kept, bytes of UTF-8. */
export const ERROR_TEXT_BYTES = 512

/** Recurrent state of the v5 model per stream: [2, 128] (layer 0, layer 1). */
export const SILERO_STATE_WIDTH = 128

/** Floats of one stream's row in `state`: layer-0 state, layer-1 state, then the context (last samples of its last window). */
export function sileroStateRow(contextSamples: number): number {
  return 2 * SILERO_STATE_WIDTH + contextSamples
}

/**
 * The shared buffers, made by the main thread. The streams' state lives with the main thread (the worker holds
 * none): a request carries each of its streams' state as a row of `state`, which the worker updates in place.
 * Window i is `samples[i * windowSamples ..]`, of the stream whose row is `streams[i]`; `resets[i]` = 1 clears
 * that row before window i; the worker writes `probabilities[i]`. A request holds at most `capacity` windows.
 */
export interface SileroSharedBuffers {
  control: SharedArrayBuffer
  samples: SharedArrayBuffer
  streams: SharedArrayBuffer
  resets: SharedArrayBuffer
  probabilities: SharedArrayBuffer
  state: SharedArrayBuffer
  errorText: SharedArrayBuffer
  capacity: number
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
