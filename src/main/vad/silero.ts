/** Silero VAD v5 on onnxruntime-node in one worker thread: per-call streams, each tick's windows sent as one batch. */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { CallbenchError } from '../../shared/errors.js'
import type { InferenceSession, Tensor } from 'onnxruntime-node'
import {
  CONTROL,
  CONTROL_SLOTS,
  ERROR_TEXT_BYTES,
  SILERO_STATE_WIDTH,
  sileroStateRow,
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
  /**
   * Up to this many live streams, a tick's lone window runs on the main thread instead of in the worker.
   * Default 2; 0 sends everything to the worker.
   */
  inlineMaxStreams?: number
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
  /** Layer-0 and layer-1 recurrent state, then the context: the stream's row of a request (`sileroStateRow`). */
  readonly state: Float32Array
  /** The request this stream was last given a row in, and that row. */
  stamp = 0
  row = 0

  constructor(
    readonly id: number,
    readonly onProbability: ProbabilityHandler,
    readonly onError: SileroErrorHandler,
    stateRow: number
  ) {
    this.state = new Float32Array(stateRow)
  }
}

/** One request's windows as they are queued, and what stays here to route the answers. */
class Batch {
  samples: Float32Array
  resets: Uint8Array
  slots: Array<StreamSlot | undefined>
  startsMs: Float64Array
  count = 0

  constructor(
    private readonly windowSamples: number,
    capacity: number
  ) {
    this.samples = new Float32Array(capacity * windowSamples)
    this.resets = new Uint8Array(capacity)
    this.slots = new Array<StreamSlot | undefined>(capacity)
    this.startsMs = new Float64Array(capacity)
  }

  get capacity(): number {
    return this.resets.length
  }

  /** Doubles the capacity, keeping the windows added so far (only while the batch is still being filled). */
  grow(): void {
    const capacity = this.capacity * 2
    const samples = new Float32Array(capacity * this.windowSamples)
    samples.set(this.samples.subarray(0, this.count * this.windowSamples))
    const resets = new Uint8Array(capacity)
    resets.set(this.resets.subarray(0, this.count))
    const startsMs = new Float64Array(capacity)
    startsMs.set(this.startsMs.subarray(0, this.count))
    this.samples = samples
    this.resets = resets
    this.startsMs = startsMs
    this.slots.length = capacity
  }

  /** Moves the first `n` windows into `into` (empty) and keeps the rest, in order. */
  splitInto(into: Batch, n: number): void {
    while (into.capacity < n) into.grow()
    const ws = this.windowSamples
    into.samples.set(this.samples.subarray(0, n * ws))
    into.resets.set(this.resets.subarray(0, n))
    into.startsMs.set(this.startsMs.subarray(0, n))
    for (let i = 0; i < n; i++) into.slots[i] = this.slots[i]
    into.count = n
    const rest = this.count - n
    this.samples.copyWithin(0, n * ws, this.count * ws)
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
  readonly state: Float32Array
  readonly errorText: Uint8Array

  constructor(windowSamples: number, stateRow: number, capacity: number) {
    const sab = (bytes: number) => new SharedArrayBuffer(bytes)
    this.buffers = {
      control: sab(CONTROL_SLOTS * 4),
      samples: sab(capacity * windowSamples * 4),
      streams: sab(capacity * 4),
      resets: sab(capacity),
      probabilities: sab(capacity * 4),
      state: sab(capacity * stateRow * 4),
      errorText: sab(ERROR_TEXT_BYTES),
      capacity
    }
    this.control = new Int32Array(this.buffers.control)
    this.samples = new Float32Array(this.buffers.samples)
    this.streams = new Int32Array(this.buffers.streams)
    this.resets = new Uint8Array(this.buffers.resets)
    this.probabilities = new Float32Array(this.buffers.probabilities)
    this.state = new Float32Array(this.buffers.state)
    this.errorText = new Uint8Array(this.buffers.errorText)
  }
}

// A tick of 100 calls has ~100 windows; batches grow past this when needed.
const INITIAL_BATCH_CAPACITY = 128
/** Windows one request carries (a bigger tick is sent in several); 1 MB of samples at 8 kHz. */
export const SILERO_REQUEST_WINDOWS = 1024
const SHARED_CAPACITY = SILERO_REQUEST_WINDOWS
/**
 * With this few streams, a tick's lone window runs here, on the main thread (about 0.25 ms of it), instead of
 * crossing to the worker and back, which costs more than the inference itself (0.2 ms of waking two threads).
 * With more streams their windows go to the worker, where they batch and leave the event loop free.
 */
const INLINE_MAX_STREAMS = 2

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
  readonly stats = { runs: 0, windows: 0, largestBatch: 0, messages: 0, inlineRuns: 0 }
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
  readonly #stateRow: number
  readonly #inline: InlineRunner | null
  readonly #inlineMaxStreams: number
  #scheduled = false
  #closed = false
  #failed: CallbenchError | null = null
  #reportFailure!: (err: CallbenchError) => void
  #idleWaiters: Array<() => void> = []

  /** Starts the worker and resolves once it has loaded and warmed up the model. */
  static async load(opts: SileroModelOptions = {}): Promise<SileroModel> {
    const sampleRateHz = opts.sampleRateHz ?? 8000
    const windowSamples = sampleRateHz === 8000 ? 256 : 512
    const contextSamples = sampleRateHz === 8000 ? 32 : 64
    const shared = new Shared(windowSamples, sileroStateRow(contextSamples), SHARED_CAPACITY)
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
    const inlineMaxStreams = opts.inlineMaxStreams ?? INLINE_MAX_STREAMS
    let inline: InlineRunner | null = null
    if (inlineMaxStreams > 0) {
      try {
        inline = await InlineRunner.load(init.modelPath, sampleRateHz)
      } catch {
        // Everything goes through the worker, which loaded the same model: only the lone-window shortcut is lost.
      }
    }
    return new SileroModel(worker, init, shared, inline, inlineMaxStreams)
  }

  private constructor(
    worker: Worker,
    init: SileroWorkerInit,
    shared: Shared,
    inline: InlineRunner | null,
    inlineMaxStreams: number
  ) {
    this.#worker = worker
    this.#shared = shared
    this.#inline = inline
    this.#inlineMaxStreams = inlineMaxStreams
    this.sampleRateHz = init.sampleRateHz
    this.windowSamples = init.sampleRateHz === 8000 ? 256 : 512
    this.contextSamples = init.sampleRateHz === 8000 ? 32 : 64
    this.#stateRow = sileroStateRow(this.contextSamples)
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
    const slot = new StreamSlot(this.#nextStreamId++, onProbability, onError, this.#stateRow)
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
    await Promise.all([exited, this.#inline?.release()])
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
    // Its state lives in the slot: nothing to free anywhere else. Windows still queued are dropped on their answer.
    this.#streams.delete(slot)
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
    if (this.#failed !== null || filling.count === 0) {
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
    this.#inFlight = batch
    if (this.#inline !== null && batch.count === 1 && this.#streams.size <= this.#inlineMaxStreams) {
      this.#runInline(this.#inline, batch)
      return
    }
    const n = batch.count
    const request = ++this.#request
    // Each stream of the request gets a row of `state`, filled from the slot and read back with the answer.
    const stateRow = this.#stateRow
    let rows = 0
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i]!
      if (slot.stamp !== request) {
        slot.stamp = request
        slot.row = rows++
        sh.state.set(slot.state, slot.row * stateRow)
      }
      sh.streams[i] = slot.row
    }
    sh.samples.set(batch.samples.subarray(0, n * this.windowSamples))
    sh.resets.set(batch.resets.subarray(0, n))
    const control = sh.control
    control[CONTROL.count] = n
    control[CONTROL.streamCount] = rows
    this.#worker.ref()
    // The store publishes the writes above to the worker; notify wakes it from Atomics.wait.
    Atomics.store(control, CONTROL.request, request)
    Atomics.notify(control, CONTROL.request)
    this.stats.messages++
    const answer = Atomics.waitAsync(control, CONTROL.response, request - 1)
    if (answer.async) void answer.value.then(this.#onResponse)
    else queueMicrotask(this.#onResponse)
  }

  /** A tick's lone window, on this thread: the slot's state goes in and comes back updated. */
  #runInline(inline: InlineRunner, batch: Batch): void {
    const slot = batch.slots[0]!
    if (batch.resets[0] === 1) slot.state.fill(0)
    this.stats.inlineRuns++
    inline.run(batch.samples.subarray(0, this.windowSamples), slot.state).then(
      (probability) => {
        this.stats.runs++
        if (this.stats.largestBatch < 1) this.stats.largestBatch = 1
        this.#complete(batch, (i) => (i === 0 ? probability : 0), null)
      },
      (err: unknown) =>
        this.#complete(batch, () => 0, new CallbenchError('internal', 'Silero VAD inference failed', { cause: err }))
    )
  }

  /** The worker answered (or `#fail` woke this wait): takes back the streams' state, then routes the answers. */
  readonly #onResponse = (): void => {
    const batch = this.#inFlight
    const sh = this.#shared
    const control = sh.control
    const request = this.#request
    if (batch === null || Atomics.load(control, CONTROL.response) !== request) return
    const stateRow = this.#stateRow
    for (let i = 0; i < batch.count; i++) {
      const slot = batch.slots[i]!
      if (slot.stamp !== request) continue
      // Read back once per stream (marked by the sign), whichever of its windows comes first.
      slot.stamp = -request
      slot.state.set(sh.state.subarray(slot.row * stateRow, (slot.row + 1) * stateRow))
    }
    this.stats.runs += control[CONTROL.runs]!
    const largest = control[CONTROL.largestBatch]!
    if (largest > this.stats.largestBatch) this.stats.largestBatch = largest
    const error =
      control[CONTROL.error] === 0
        ? null
        : new CallbenchError('internal', 'Silero VAD inference failed', {
            cause: new Error(
              new TextDecoder().decode(sh.errorText.slice(0, control[CONTROL.errorLength]!)) || 'unknown'
            )
          })
    const probabilities = sh.probabilities
    this.#complete(batch, (i) => probabilities[i]!, error)
  }

  /** Routes a batch's answers to its streams, then sends what queued meanwhile. */
  #complete(batch: Batch, probabilityOf: (i: number) => number, error: CallbenchError | null): void {
    if (this.#inFlight !== batch) return
    this.#inFlight = null
    const n = batch.count
    this.stats.windows += n
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i]!
      batch.slots[i] = undefined
      slot.pending--
      if (slot.closed) continue
      try {
        if (error === null) slot.onProbability(probabilityOf(i), batch.startsMs[i]!)
        else slot.onError(error, false)
      } catch (handlerErr) {
        // A listener's bug must not stall every other call's VAD.
        if (error === null)
          slot.onError(new CallbenchError('internal', 'VAD listener threw', { cause: handlerErr }), false)
      }
    }
    batch.count = 0
    this.#spare = batch
    if (this.#filling.count > 0) this.#flush()
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
    return this.#inFlight === null && !this.#scheduled && this.#filling.count === 0
  }

  #wakeIdle(): void {
    if (!this.#isIdle()) return
    const waiters = this.#idleWaiters
    if (waiters.length === 0) return
    this.#idleWaiters = []
    for (const wake of waiters) wake()
  }
}

/** Batch-1 inference on the calling thread, for the lone-window shortcut: the same model, its own session. */
class InlineRunner {
  readonly #session: InferenceSession
  readonly #windowSamples: number
  readonly #contextSamples: number
  readonly #inputData: Float32Array
  readonly #stateData = new Float32Array(2 * SILERO_STATE_WIDTH)
  readonly #outputData = new Float32Array(1)
  readonly #stateNData = new Float32Array(2 * SILERO_STATE_WIDTH)
  readonly #feeds: Record<string, Tensor>
  readonly #fetches: Record<string, Tensor>

  static async load(modelPath: string, sampleRateHz: SileroSampleRateHz): Promise<InlineRunner> {
    const ort = await import('onnxruntime-node')
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }
    })
    const runner = new InlineRunner(ort.Tensor, session, sampleRateHz)
    const row = new Float32Array(sileroStateRow(runner.#contextSamples))
    runner.#outputData[0] = -1
    const p = await runner.run(new Float32Array(runner.#windowSamples), row)
    // Every answer is read from the preallocated output; make sure this onnxruntime build writes into it.
    if (p === -1) throw new Error('onnxruntime did not write the preallocated Silero output')
    return runner
  }

  private constructor(TensorOf: typeof Tensor, session: InferenceSession, sampleRateHz: SileroSampleRateHz) {
    this.#session = session
    this.#windowSamples = sampleRateHz === 8000 ? 256 : 512
    this.#contextSamples = sampleRateHz === 8000 ? 32 : 64
    const rowSamples = this.#windowSamples + this.#contextSamples
    this.#inputData = new Float32Array(rowSamples)
    this.#feeds = {
      input: new TensorOf('float32', this.#inputData, [1, rowSamples]),
      state: new TensorOf('float32', this.#stateData, [2, 1, SILERO_STATE_WIDTH]),
      sr: new TensorOf('int64', BigInt64Array.from([BigInt(sampleRateHz)]), [])
    }
    this.#fetches = {
      output: new TensorOf('float32', this.#outputData, [1, 1]),
      stateN: new TensorOf('float32', this.#stateNData, [2, 1, SILERO_STATE_WIDTH])
    }
  }

  /** One window; `row` (state, then context, as `sileroStateRow`) goes in and comes back updated. */
  async run(window: Float32Array, row: Float32Array): Promise<number> {
    const stateEnd = 2 * SILERO_STATE_WIDTH
    this.#inputData.set(row.subarray(stateEnd, stateEnd + this.#contextSamples))
    this.#inputData.set(window, this.#contextSamples)
    // [2, 1, 128]: layer 0 then layer 1, as the row keeps them.
    this.#stateData.set(row.subarray(0, stateEnd))
    await this.#session.run(this.#feeds, this.#fetches)
    row.set(this.#stateNData)
    row.set(window.subarray(this.#windowSamples - this.#contextSamples), stateEnd)
    return this.#outputData[0]!
  }

  release(): Promise<void> {
    return this.#session.release()
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
