/** Silero VAD v5 on onnxruntime-node in one worker thread: per-call streams, each tick's windows sent as one batch. */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { CallbenchError } from '../../shared/errors.js'
import {
  CONTROL,
  CONTROL_SLOTS,
  ERROR_TEXT_BYTES,
  type FromSileroWorker,
  type SileroSharedBuffers,
  type SileroWorkerInit
} from './silero-protocol.js'

export type SileroSampleRateHz = 8000 | 16000

/** Options of the shared model. */
export interface SileroModelOptions {
  /** Default: `silero_vad_v5.onnx` shipped inside `@ricky0123/vad-web`. */
  modelPath?: string
  /** 8000 (256-sample windows, no resampling of Twilio audio) or 16000 (512). Default 8000. */
  sampleRateHz?: SileroSampleRateHz
  /** Most windows in one inference; a tick with more runs several in the worker. Default 64. */
  maxBatch?: number
  /** The worker's file (it speaks `silero-protocol.ts`). Default: `sileroWorkerUrl()`. */
  workerUrl?: URL
}

/** Called with each window's probability, in the order the stream's windows were pushed. */
export type ProbabilityHandler = (probability: number, windowStartMs: number) => void

/**
 * Called when inference failed. `fatal`: the worker is gone and this model will give no more probabilities
 * (the caller should fall back to another VAD); otherwise only the windows of one batch were lost.
 */
export type SileroErrorHandler = (err: CallbenchError, fatal: boolean) => void

/** Where the v5 model file is: inside vad-web's package, nothing is downloaded. */
export function sileroModelPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx')
}

/**
 * The worker's file. From source (vitest, tsx) the `.ts` beside this module, run with type stripping; built,
 * electron-vite emits it as its own main-process entry, `out/main/silero-worker.js`, while this module is
 * bundled into `out/main/` or a shared chunk in `out/main/chunks/`.
 */
export function sileroWorkerUrl(): URL {
  const here = new URL(import.meta.url)
  if (here.pathname.endsWith('.ts')) return new URL('./silero-worker.ts', here)
  for (const candidate of ['./silero-worker.js', '../silero-worker.js']) {
    const url = new URL(candidate, here)
    if (existsSync(fileURLToPath(url))) return url
  }
  throw new CallbenchError('internal', 'Silero VAD worker file is missing from the build')
}

/** Main-thread side of one call's stream: its worker-side state is keyed by `id`. */
class StreamSlot {
  /** Windows pushed whose probability has not come back. */
  pending = 0
  closed = false
  /** The next window pushed starts from a cleared state. */
  resetNext = false

  constructor(
    readonly id: number,
    readonly onProbability: ProbabilityHandler,
    readonly onError: SileroErrorHandler
  ) {}
}

/** One request's windows as they are queued, and what stays here to route the answers. */
class Batch {
  samples: Float32Array
  streams: Int32Array
  resets: Uint8Array
  slots: Array<StreamSlot | undefined>
  startsMs: Float64Array
  count = 0

  constructor(
    private readonly windowSamples: number,
    capacity: number
  ) {
    this.samples = new Float32Array(capacity * windowSamples)
    this.streams = new Int32Array(capacity)
    this.resets = new Uint8Array(capacity)
    this.slots = new Array<StreamSlot | undefined>(capacity)
    this.startsMs = new Float64Array(capacity)
  }

  get capacity(): number {
    return this.streams.length
  }

  /** Doubles the capacity, keeping the windows added so far (only while the batch is still being filled). */
  grow(): void {
    const capacity = this.capacity * 2
    const samples = new Float32Array(capacity * this.windowSamples)
    samples.set(this.samples.subarray(0, this.count * this.windowSamples))
    const streams = new Int32Array(capacity)
    streams.set(this.streams.subarray(0, this.count))
    const resets = new Uint8Array(capacity)
    resets.set(this.resets.subarray(0, this.count))
    const startsMs = new Float64Array(capacity)
    startsMs.set(this.startsMs.subarray(0, this.count))
    this.samples = samples
    this.streams = streams
    this.resets = resets
    this.startsMs = startsMs
    this.slots.length = capacity
  }

  /** Moves the first `n` windows into `into` (empty) and keeps the rest, in order. */
  splitInto(into: Batch, n: number): void {
    while (into.capacity < n) into.grow()
    const ws = this.windowSamples
    into.samples.set(this.samples.subarray(0, n * ws))
    into.streams.set(this.streams.subarray(0, n))
    into.resets.set(this.resets.subarray(0, n))
    into.startsMs.set(this.startsMs.subarray(0, n))
    for (let i = 0; i < n; i++) into.slots[i] = this.slots[i]
    into.count = n
    const rest = this.count - n
    this.samples.copyWithin(0, n * ws, this.count * ws)
    this.streams.copyWithin(0, n, this.count)
    this.resets.copyWithin(0, n, this.count)
    this.startsMs.copyWithin(0, n, this.count)
    for (let i = 0; i < rest; i++) this.slots[i] = this.slots[n + i]
    for (let i = rest; i < this.count; i++) this.slots[i] = undefined
    this.count = rest
  }
}

/** The shared buffers with the views the main thread writes through. */
class Shared {
  readonly buffers: SileroSharedBuffers
  readonly control: Int32Array
  readonly samples: Float32Array
  readonly streams: Int32Array
  readonly resets: Uint8Array
  readonly probabilities: Float32Array
  readonly freed: Int32Array
  readonly errorText: Uint8Array

  constructor(windowSamples: number, capacity: number, freedCapacity: number) {
    const sab = (bytes: number) => new SharedArrayBuffer(bytes)
    this.buffers = {
      control: sab(CONTROL_SLOTS * 4),
      samples: sab(capacity * windowSamples * 4),
      streams: sab(capacity * 4),
      resets: sab(capacity),
      probabilities: sab(capacity * 4),
      freed: sab(freedCapacity * 4),
      errorText: sab(ERROR_TEXT_BYTES),
      capacity,
      freedCapacity
    }
    this.control = new Int32Array(this.buffers.control)
    this.samples = new Float32Array(this.buffers.samples)
    this.streams = new Int32Array(this.buffers.streams)
    this.resets = new Uint8Array(this.buffers.resets)
    this.probabilities = new Float32Array(this.buffers.probabilities)
    this.freed = new Int32Array(this.buffers.freed)
    this.errorText = new Uint8Array(this.buffers.errorText)
  }
}

// A tick of 100 calls has ~100 windows; batches grow past this when needed.
const INITIAL_BATCH_CAPACITY = 128
/** Windows one request carries (a bigger tick is sent in several); 1 MB of samples at 8 kHz. */
export const SILERO_REQUEST_WINDOWS = 1024
const SHARED_CAPACITY = SILERO_REQUEST_WINDOWS
const SHARED_FREED_CAPACITY = 1024

export class SileroModel {
  readonly sampleRateHz: SileroSampleRateHz
  readonly windowSamples: number
  readonly contextSamples: number
  readonly windowMs: number
  readonly maxBatch: number
  /**
   * Inference runs so far, windows they covered, the largest batch, messages posted to the worker, and how many
   * streams the worker held state for after its last answer.
   */
  readonly stats = { runs: 0, windows: 0, largestBatch: 0, messages: 0, workerStreams: 0 }
  /** Resolves if the worker dies; the model then gives no more probabilities. */
  readonly failure: Promise<CallbenchError>

  readonly #worker: Worker
  readonly #shared: Shared
  /** The last request sent; the worker sets `CONTROL.response` to it when it has answered. */
  #request = 0
  readonly #streams = new Set<StreamSlot>()
  #nextStreamId = 1
  #filling: Batch
  #spare: Batch | null
  #inFlight: Batch | null = null
  readonly #freed: number[] = []
  #scheduled = false
  #closed = false
  #failed: CallbenchError | null = null
  #reportFailure!: (err: CallbenchError) => void
  #idleWaiters: Array<() => void> = []

  /** Starts the worker and resolves once it has loaded and warmed up the model. */
  static async load(opts: SileroModelOptions = {}): Promise<SileroModel> {
    const sampleRateHz = opts.sampleRateHz ?? 8000
    const shared = new Shared(sampleRateHz === 8000 ? 256 : 512, SHARED_CAPACITY, SHARED_FREED_CAPACITY)
    const init: SileroWorkerInit = {
      modelPath: opts.modelPath ?? sileroModelPath(),
      sampleRateHz,
      maxBatch: Math.max(1, opts.maxBatch ?? 64),
      shared: shared.buffers
    }
    let worker: Worker
    try {
      worker = new Worker(opts.workerUrl ?? sileroWorkerUrl(), { workerData: init, name: 'silero-vad' })
    } catch (err) {
      throw new CallbenchError('internal', 'Silero VAD worker failed to start', { cause: err })
    }
    await new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => {
        worker.off('message', onMessage)
        worker.off('error', done)
        worker.off('exit', onExit)
        if (err === undefined) {
          resolve()
          return
        }
        void worker.terminate()
        reject(new CallbenchError('internal', 'Silero VAD model failed to load', { cause: err }))
      }
      const onMessage = (msg: FromSileroWorker) => {
        if (msg.type === 'ready') done()
        else if (msg.type === 'loadFailed') done(new Error(msg.message))
      }
      const onExit = (code: number) => done(new Error(`Silero VAD worker exited with code ${code}`))
      worker.on('message', onMessage)
      worker.on('error', done)
      worker.on('exit', onExit)
    })
    return new SileroModel(worker, init, shared)
  }

  private constructor(worker: Worker, init: SileroWorkerInit, shared: Shared) {
    this.#worker = worker
    this.#shared = shared
    this.sampleRateHz = init.sampleRateHz
    this.windowSamples = init.sampleRateHz === 8000 ? 256 : 512
    this.contextSamples = init.sampleRateHz === 8000 ? 32 : 64
    this.windowMs = (this.windowSamples * 1000) / this.sampleRateHz
    this.maxBatch = init.maxBatch
    this.#filling = new Batch(this.windowSamples, INITIAL_BATCH_CAPACITY)
    this.#spare = new Batch(this.windowSamples, INITIAL_BATCH_CAPACITY)
    this.failure = new Promise((resolve) => (this.#reportFailure = resolve))
    worker.on('error', (err) => this.#fail(err))
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`Silero VAD worker exited with code ${code}`))
    })
    // Only work in flight keeps the process alive; an idle shared model must not.
    worker.unref()
  }

  /** A per-call stream: its own state and context in the worker, sharing the model and its batches. */
  createStream(onProbability: ProbabilityHandler, onError: SileroErrorHandler = () => {}): SileroStream {
    if (this.#closed) throw new CallbenchError('internal', 'Silero VAD model is closed')
    if (this.#failed !== null) throw this.#failed
    const slot = new StreamSlot(this.#nextStreamId++, onProbability, onError)
    this.#streams.add(slot)
    return new SlotStream(this, slot, this.#push, this.#closeStream)
  }

  /** Resolves once no window is queued or in the worker. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Waits for the batch in flight, drops windows still queued, and stops the worker. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.idle()
    if (this.#failed !== null) return
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()))
    this.#worker.ref()
    const control = this.#shared.control
    Atomics.store(control, CONTROL.close, 1)
    Atomics.store(control, CONTROL.request, ++this.#request)
    Atomics.notify(control, CONTROL.request)
    await exited
  }

  readonly #push = (slot: StreamSlot, samples: Int16Array, offset: number, windowStartMs: number): void => {
    if (this.#closed || this.#failed !== null) return
    const batch = this.#filling
    if (batch.count === batch.capacity) batch.grow()
    const i = batch.count++
    const size = this.windowSamples
    const out = batch.samples
    const base = i * size
    for (let k = 0; k < size; k++) out[base + k] = samples[offset + k]! / 32768
    batch.streams[i] = slot.id
    batch.resets[i] = slot.resetNext ? 1 : 0
    slot.resetNext = false
    batch.slots[i] = slot
    batch.startsMs[i] = windowStartMs
    slot.pending++
    this.#schedule()
  }

  readonly #closeStream = (slot: StreamSlot): void => {
    if (slot.closed) return
    slot.closed = true
    this.#streams.delete(slot)
    if (this.#closed || this.#failed !== null) return
    // The worker drops the stream's state with the next message, after any of its windows already queued.
    this.#freed.push(slot.id)
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight !== null) return
    this.#scheduled = true
    // setImmediate runs after this tick's I/O callbacks, so every call whose audio arrived in the same
    // event-loop turn joins the same message, and no timer adds latency.
    setImmediate(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    if (this.#inFlight !== null) return
    if (this.#closed) this.#dropFilling()
    const filling = this.#filling
    if (this.#failed !== null || (filling.count === 0 && this.#freed.length === 0)) {
      this.#wakeIdle()
      return
    }
    const sh = this.#shared
    const spare = this.#spare ?? new Batch(this.windowSamples, INITIAL_BATCH_CAPACITY)
    this.#spare = null
    let batch: Batch
    if (filling.count <= sh.buffers.capacity) {
      batch = filling
      this.#filling = spare
    } else {
      // More windows than one request holds: the rest go with the next one, in order.
      batch = spare
      filling.splitInto(batch, sh.buffers.capacity)
    }
    const n = batch.count
    sh.samples.set(batch.samples.subarray(0, n * this.windowSamples))
    sh.streams.set(batch.streams.subarray(0, n))
    sh.resets.set(batch.resets.subarray(0, n))
    const freed = Math.min(this.#freed.length, sh.buffers.freedCapacity)
    for (let i = 0; i < freed; i++) sh.freed[i] = this.#freed[i]!
    this.#freed.splice(0, freed)
    const control = sh.control
    control[CONTROL.count] = n
    control[CONTROL.freedCount] = freed
    this.#inFlight = batch
    this.#worker.ref()
    const request = ++this.#request
    // The store publishes the writes above to the worker; notify wakes it from Atomics.wait.
    Atomics.store(control, CONTROL.request, request)
    Atomics.notify(control, CONTROL.request)
    this.stats.messages++
    const answer = Atomics.waitAsync(control, CONTROL.response, request - 1)
    if (answer.async) void answer.value.then(this.#onResponse)
    else queueMicrotask(this.#onResponse)
  }

  /** The worker answered (or `#fail` woke this wait): routes the probabilities, then sends what queued meanwhile. */
  readonly #onResponse = (): void => {
    const batch = this.#inFlight
    const control = this.#shared.control
    if (batch === null || Atomics.load(control, CONTROL.response) !== this.#request) return
    this.#inFlight = null
    const n = batch.count
    this.stats.runs += control[CONTROL.runs]!
    this.stats.windows += n
    const largest = control[CONTROL.largestBatch]!
    if (largest > this.stats.largestBatch) this.stats.largestBatch = largest
    this.stats.workerStreams = control[CONTROL.liveStreams]!
    const error =
      control[CONTROL.error] === 0
        ? null
        : new CallbenchError('internal', 'Silero VAD inference failed', {
            cause: new Error(
              new TextDecoder().decode(this.#shared.errorText.slice(0, control[CONTROL.errorLength]!)) || 'unknown'
            )
          })
    const probabilities = this.#shared.probabilities
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i]!
      batch.slots[i] = undefined
      slot.pending--
      if (slot.closed) continue
      try {
        if (error === null) slot.onProbability(probabilities[i]!, batch.startsMs[i]!)
        else slot.onError(error, false)
      } catch (handlerErr) {
        // A listener's bug must not stall every other call's VAD.
        if (error === null)
          slot.onError(new CallbenchError('internal', 'VAD listener threw', { cause: handlerErr }), false)
      }
    }
    batch.count = 0
    this.#spare = batch
    if (this.#filling.count > 0 || this.#freed.length > 0) this.#flush()
    else {
      this.#worker.unref()
      this.#wakeIdle()
    }
  }

  #fail(cause: unknown): void {
    if (this.#failed !== null) return
    const error = new CallbenchError('internal', 'Silero VAD worker failed', { cause })
    this.#failed = error
    const inFlight = this.#inFlight
    this.#inFlight = null
    if (inFlight !== null) this.#forget(inFlight)
    this.#dropFilling()
    this.#freed.length = 0
    this.#worker.unref()
    // Releases the wait for an answer that will not come.
    Atomics.notify(this.#shared.control, CONTROL.response)
    this.#reportFailure(error)
    for (const slot of [...this.#streams]) {
      if (slot.closed) continue
      try {
        slot.onError(error, true)
      } catch {
        // Nothing more to tell: the stream is already being told its VAD is gone.
      }
    }
    this.#wakeIdle()
  }

  /** Unqueues the windows of a batch that will never be answered. */
  #forget(batch: Batch): void {
    for (let i = 0; i < batch.count; i++) {
      batch.slots[i]!.pending--
      batch.slots[i] = undefined
    }
    batch.count = 0
  }

  #dropFilling(): void {
    this.#forget(this.#filling)
  }

  #isIdle(): boolean {
    if (this.#failed !== null) return true
    return this.#inFlight === null && !this.#scheduled && this.#filling.count === 0 && this.#freed.length === 0
  }

  #wakeIdle(): void {
    if (!this.#isIdle()) return
    const waiters = this.#idleWaiters
    if (waiters.length === 0) return
    this.#idleWaiters = []
    for (const wake of waiters) wake()
  }
}

/** One call's Silero stream. Windows are pushed whole; probabilities come back in order through the handler. */
export interface SileroStream {
  readonly model: SileroModel
  /** Windows pushed whose probability has not come back yet. */
  readonly pendingWindows: number
  /** Queues one window: `model.windowSamples` samples of `samples` from `offset`, starting at `windowStartMs`. */
  push(samples: Int16Array, offset: number, windowStartMs: number): void
  /** Forgets the recurrent state and context from the next window pushed (a new, unrelated stretch of audio follows). */
  reset(): void
  /** No more probabilities; the worker frees the stream's state with its next message. */
  close(): void
}

class SlotStream implements SileroStream {
  constructor(
    readonly model: SileroModel,
    private readonly slot: StreamSlot,
    private readonly pushWindow: (slot: StreamSlot, samples: Int16Array, offset: number, windowStartMs: number) => void,
    private readonly closeSlot: (slot: StreamSlot) => void
  ) {}

  get pendingWindows(): number {
    return this.slot.pending
  }

  push(samples: Int16Array, offset: number, windowStartMs: number): void {
    if (this.slot.closed) return
    if (offset < 0 || offset + this.model.windowSamples > samples.length) {
      throw new CallbenchError('bad_request', 'Silero window is short')
    }
    this.pushWindow(this.slot, samples, offset, windowStartMs)
  }

  reset(): void {
    this.slot.resetNext = true
  }

  close(): void {
    this.closeSlot(this.slot)
  }
}

const models = new Map<SileroSampleRateHz, Promise<SileroModel>>()

/**
 * The process-wide model (one worker for every call), loaded on first use. A failed load, or a worker that
 * died, is replaced on the next call.
 */
export function getSilero(sampleRateHz: SileroSampleRateHz = 8000): Promise<SileroModel> {
  let promise = models.get(sampleRateHz)
  if (promise === undefined) {
    const loading = SileroModel.load({ sampleRateHz })
    const forget = () => {
      if (models.get(sampleRateHz) === loading) models.delete(sampleRateHz)
    }
    loading.then((model) => model.failure.then(forget), forget)
    models.set(sampleRateHz, loading)
    promise = loading
  }
  return promise
}
