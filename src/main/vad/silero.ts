/** Silero VAD v5 on onnxruntime-node: one shared session, per-call streams, same-tick windows batched into one run. */
import { createRequire } from 'node:module'
import { InferenceSession, Tensor } from 'onnxruntime-node'
import { CallbenchError } from '../../shared/errors.js'

export type SileroSampleRateHz = 8000 | 16000

/** Options of the shared model. */
export interface SileroModelOptions {
  /** Default: `silero_vad_v5.onnx` shipped inside `@ricky0123/vad-web`. */
  modelPath?: string
  /** 8000 (256-sample windows, no resampling of Twilio audio) or 16000 (512). Default 8000. */
  sampleRateHz?: SileroSampleRateHz
  /** Most windows run in one inference; the rest wait for the next. Default 64. */
  maxBatch?: number
}

/** Called with each window's probability, in the order the stream's windows were pushed. */
export type ProbabilityHandler = (probability: number, windowStartMs: number) => void

// v5 state is [2, batch, 128] (PROTOCOLS §6).
const STATE_WIDTH = 128

/** Where the v5 model file is: inside vad-web's package, nothing is downloaded. */
export function sileroModelPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx')
}

/** Per-call recurrent state, context and queue of windows waiting for the model. */
class StreamSlot {
  readonly stateH = new Float32Array(STATE_WIDTH)
  readonly stateC = new Float32Array(STATE_WIDTH)
  readonly context: Float32Array
  readonly windows: Float32Array[] = []
  readonly windowStartsMs: number[] = []
  readonly spare: Float32Array[] = []
  inBatch = false
  resetRequested = false
  closed = false

  constructor(
    contextSamples: number,
    readonly onProbability: ProbabilityHandler,
    readonly onError: (err: CallbenchError) => void
  ) {
    this.context = new Float32Array(contextSamples)
  }

  clearState(): void {
    this.stateH.fill(0)
    this.stateC.fill(0)
    this.context.fill(0)
  }

  dropHead(): void {
    this.spare.push(this.windows.shift()!)
    this.windowStartsMs.shift()
  }
}

interface BatchTensors {
  input: Tensor
  state: Tensor
  output: Tensor
  stateN: Tensor
}

export class SileroModel {
  readonly sampleRateHz: SileroSampleRateHz
  readonly windowSamples: number
  readonly contextSamples: number
  readonly windowMs: number
  readonly maxBatch: number
  /** Inference runs so far, windows they covered, and the largest batch. */
  readonly stats = { runs: 0, windows: 0, largestBatch: 0 }

  readonly #session: InferenceSession
  readonly #sr: Tensor
  readonly #rowSamples: number
  readonly #inputData: Float32Array
  readonly #stateData: Float32Array
  readonly #outputData: Float32Array
  readonly #stateNData: Float32Array
  readonly #tensors: Array<BatchTensors | undefined> = []
  readonly #ready = new Set<StreamSlot>()
  readonly #batch: Array<StreamSlot | undefined> = []
  #batchSize = 0
  #running = false
  #scheduled = false
  #closed = false
  #idleWaiters: Array<() => void> = []

  static async load(opts: SileroModelOptions = {}): Promise<SileroModel> {
    const modelPath = opts.modelPath ?? sileroModelPath()
    let session: InferenceSession
    try {
      // One thread: many calls share 1–2 cores, and batching (not threads) is what scales (livekit onnx_model.ts).
      session = await InferenceSession.create(modelPath, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }
      })
    } catch (err) {
      throw new CallbenchError('internal', 'Silero VAD model failed to load', { cause: err })
    }
    const model = new SileroModel(session, opts)
    await model.#warmUp()
    return model
  }

  private constructor(session: InferenceSession, opts: SileroModelOptions) {
    this.#session = session
    this.sampleRateHz = opts.sampleRateHz ?? 8000
    // Upstream OnnxWrapper: 256 new samples + 32 of context at 8 kHz, 512 + 64 at 16 kHz.
    this.windowSamples = this.sampleRateHz === 8000 ? 256 : 512
    this.contextSamples = this.sampleRateHz === 8000 ? 32 : 64
    this.windowMs = (this.windowSamples * 1000) / this.sampleRateHz
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64)
    this.#rowSamples = this.windowSamples + this.contextSamples
    this.#sr = new Tensor('int64', BigInt64Array.from([BigInt(this.sampleRateHz)]), [])
    this.#inputData = new Float32Array(this.maxBatch * this.#rowSamples)
    this.#stateData = new Float32Array(2 * this.maxBatch * STATE_WIDTH)
    this.#outputData = new Float32Array(this.maxBatch)
    this.#stateNData = new Float32Array(2 * this.maxBatch * STATE_WIDTH)
  }

  /** A per-call stream: its own state and context, sharing this model's session and batches. */
  createStream(onProbability: ProbabilityHandler, onError: (err: CallbenchError) => void = () => {}): SileroStream {
    if (this.#closed) throw new CallbenchError('internal', 'Silero VAD model is closed')
    const slot = new StreamSlot(this.contextSamples, onProbability, onError)
    return new SlotStream(this, slot, (s) => this.#enqueue(s))
  }

  /** Resolves once no window is queued or running. */
  idle(): Promise<void> {
    if (!this.#running && !this.#scheduled && this.#ready.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.idle()
    await this.#session.release()
  }

  #enqueue(slot: StreamSlot): void {
    if (this.#closed) {
      slot.windows.length = 0
      slot.windowStartsMs.length = 0
      return
    }
    if (slot.inBatch) return
    this.#ready.add(slot)
    if (this.#scheduled || this.#running) return
    this.#scheduled = true
    // setImmediate runs after this tick's I/O callbacks, so every call whose audio arrived in the same
    // event-loop turn joins the same batch, and no timer adds latency.
    setImmediate(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    if (this.#running) return
    if (this.#ready.size === 0) {
      this.#wakeIdle()
      return
    }
    let n = 0
    for (const slot of this.#ready) {
      if (n === this.maxBatch) break
      this.#ready.delete(slot)
      if (slot.closed || slot.windows.length === 0) continue
      slot.inBatch = true
      this.#batch[n++] = slot
    }
    if (n === 0) {
      this.#wakeIdle()
      return
    }
    this.#batchSize = n
    this.#fillInputs(n)
    const t = this.#tensorsFor(n)
    this.#running = true
    this.#session.run({ input: t.input, state: t.state, sr: this.#sr }, { output: t.output, stateN: t.stateN }).then(
      () => this.#finishBatch(null),
      (err: unknown) => this.#finishBatch(err)
    )
  }

  #fillInputs(n: number): void {
    const row = this.#rowSamples
    const ctx = this.contextSamples
    const input = this.#inputData
    const state = this.#stateData
    for (let i = 0; i < n; i++) {
      const slot = this.#batch[i]!
      input.set(slot.context, i * row)
      input.set(slot.windows[0]!, i * row + ctx)
      // [2, n, 128]: layer 0 rows first, then layer 1 rows.
      state.set(slot.stateH, i * STATE_WIDTH)
      state.set(slot.stateC, (n + i) * STATE_WIDTH)
    }
  }

  #finishBatch(err: unknown): void {
    const n = this.#batchSize
    this.#running = false
    this.stats.runs++
    this.stats.windows += n
    if (n > this.stats.largestBatch) this.stats.largestBatch = n
    const error = err === null ? null : new CallbenchError('internal', 'Silero VAD inference failed', { cause: err })
    for (let i = 0; i < n; i++) {
      const slot = this.#batch[i]!
      this.#batch[i] = undefined
      slot.inBatch = false
      if (slot.closed) continue
      const windowStartMs = slot.windowStartsMs[0]!
      if (error === null) this.#takeResult(slot, i, n)
      slot.dropHead()
      try {
        if (error === null) slot.onProbability(this.#outputData[i]!, windowStartMs)
        else slot.onError(error)
      } catch (handlerErr) {
        // A listener's bug must not stall every other call's VAD.
        if (error === null) slot.onError(new CallbenchError('internal', 'VAD listener threw', { cause: handlerErr }))
      }
      if (!slot.closed && slot.windows.length > 0) this.#ready.add(slot)
    }
    if (this.#ready.size > 0 && !this.#closed) this.#flush()
    else this.#wakeIdle()
  }

  #takeResult(slot: StreamSlot, i: number, n: number): void {
    if (slot.resetRequested) {
      slot.resetRequested = false
      slot.clearState()
      return
    }
    const stateN = this.#stateNData
    const h = i * STATE_WIDTH
    const c = (n + i) * STATE_WIDTH
    for (let k = 0; k < STATE_WIDTH; k++) {
      slot.stateH[k] = stateN[h + k]!
      slot.stateC[k] = stateN[c + k]!
    }
    // Upstream keeps the last `context` samples of the window just run as the next window's prefix.
    const window = slot.windows[0]!
    const from = this.windowSamples - this.contextSamples
    for (let k = 0; k < this.contextSamples; k++) slot.context[k] = window[from + k]!
  }

  #tensorsFor(n: number): BatchTensors {
    let t = this.#tensors[n]
    if (t === undefined) {
      t = {
        input: new Tensor('float32', this.#inputData.subarray(0, n * this.#rowSamples), [n, this.#rowSamples]),
        state: new Tensor('float32', this.#stateData.subarray(0, 2 * n * STATE_WIDTH), [2, n, STATE_WIDTH]),
        output: new Tensor('float32', this.#outputData.subarray(0, n), [n, 1]),
        stateN: new Tensor('float32', this.#stateNData.subarray(0, 2 * n * STATE_WIDTH), [2, n, STATE_WIDTH])
      }
      this.#tensors[n] = t
    }
    return t
  }

  async #warmUp(): Promise<void> {
    const t = this.#tensorsFor(1)
    this.#inputData.fill(0, 0, this.#rowSamples)
    this.#stateData.fill(0, 0, 2 * STATE_WIDTH)
    this.#outputData[0] = -1
    const result = await this.#session.run(
      { input: t.input, state: t.state, sr: this.#sr },
      { output: t.output, stateN: t.stateN }
    )
    // Everything reads the preallocated outputs; make sure this onnxruntime build really writes into them.
    const written = (result.output!.data as Float32Array)[0]
    if (this.#outputData[0] !== written) {
      throw new CallbenchError('internal', 'onnxruntime did not write the preallocated Silero outputs')
    }
  }

  #wakeIdle(): void {
    if (this.#running || this.#scheduled || this.#ready.size > 0) return
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
  /** Forgets the recurrent state and context (a new, unrelated stretch of audio follows). */
  reset(): void
  /** Drops queued windows; a window already running is discarded when it returns. */
  close(): void
}

class SlotStream implements SileroStream {
  readonly model: SileroModel
  readonly #slot: StreamSlot
  readonly #enqueue: (slot: StreamSlot) => void

  constructor(model: SileroModel, slot: StreamSlot, enqueue: (slot: StreamSlot) => void) {
    this.model = model
    this.#slot = slot
    this.#enqueue = enqueue
  }

  get pendingWindows(): number {
    return this.#slot.windows.length
  }

  push(samples: Int16Array, offset: number, windowStartMs: number): void {
    const slot = this.#slot
    if (slot.closed) return
    const size = this.model.windowSamples
    if (offset < 0 || offset + size > samples.length) throw new CallbenchError('bad_request', 'Silero window is short')
    const window = slot.spare.pop() ?? new Float32Array(size)
    for (let i = 0; i < size; i++) window[i] = samples[offset + i]! / 32768
    slot.windows.push(window)
    slot.windowStartsMs.push(windowStartMs)
    this.#enqueue(slot)
  }

  reset(): void {
    const slot = this.#slot
    if (slot.inBatch) slot.resetRequested = true
    else slot.clearState()
  }

  close(): void {
    const slot = this.#slot
    slot.closed = true
    slot.windows.length = 0
    slot.windowStartsMs.length = 0
  }
}

const models = new Map<SileroSampleRateHz, Promise<SileroModel>>()

/** The process-wide model (one session for every call), loaded on first use. A failed load is retried next time. */
export function getSilero(sampleRateHz: SileroSampleRateHz = 8000): Promise<SileroModel> {
  let promise = models.get(sampleRateHz)
  if (promise === undefined) {
    promise = SileroModel.load({ sampleRateHz })
    promise.catch(() => models.delete(sampleRateHz))
    models.set(sampleRateHz, promise)
  }
  return promise
}
