/** Silero VAD inference worker: owns the onnxruntime session, runs each request's windows on the state rows the main thread sends. */
import { parentPort, workerData } from 'node:worker_threads'
import { InferenceSession, Tensor } from 'onnxruntime-node'
import type { FromSileroWorker, SileroWorkerInit } from './silero-protocol.js'

// From source this file runs with Node's type stripping (no bundler), so it uses erasable TypeScript only and
// imports nothing of ours at run time.

// v5 state is [2, batch, 128] (PROTOCOLS §6): SILERO_STATE_WIDTH of silero-protocol.ts.
const STATE_WIDTH = 128

interface BatchTensors {
  input: Tensor
  state: Tensor
  output: Tensor
  stateN: Tensor
}

const init = workerData as SileroWorkerInit
const port = parentPort!
// The slots of CONTROL in silero-protocol.ts (a type-only import here, so repeated as numbers).
const REQUEST = 0
const RESPONSE = 1
const COUNT = 2
const STREAM_COUNT = 3
const CLOSE = 4
const ERROR = 5
const RUNS = 6
const LARGEST_BATCH = 7
const ERROR_LENGTH = 8
const control = new Int32Array(init.shared.control)
const samples = new Float32Array(init.shared.samples)
const windowStreams = new Int32Array(init.shared.streams)
const resets = new Uint8Array(init.shared.resets)
const probabilities = new Float32Array(init.shared.probabilities)
const state = new Float32Array(init.shared.state)
const errorText = new Uint8Array(init.shared.errorText)
const sampleRateHz = init.sampleRateHz
// Upstream OnnxWrapper: 256 new samples + 32 of context at 8 kHz, 512 + 64 at 16 kHz.
const windowSamples = sampleRateHz === 8000 ? 256 : 512
const contextSamples = sampleRateHz === 8000 ? 32 : 64
const rowSamples = windowSamples + contextSamples
// A stream's row of `state`: layer-0 state, layer-1 state, context (sileroStateRow of silero-protocol.ts).
const stateRow = 2 * STATE_WIDTH + contextSamples
const maxBatch = Math.max(1, init.maxBatch)

const sr = new Tensor('int64', BigInt64Array.from([BigInt(sampleRateHz)]), [])
const inputData = new Float32Array(maxBatch * rowSamples)
const stateData = new Float32Array(2 * maxBatch * STATE_WIDTH)
const outputData = new Float32Array(maxBatch)
const stateNData = new Float32Array(2 * maxBatch * STATE_WIDTH)
const tensors: Array<BatchTensors | undefined> = []
// The request windows of the batch being run.
const batchIndices = new Int32Array(maxBatch)
// Request windows ordered by round (a stream's k-th window in a request runs in round k).
let order = new Int32Array(0)
let rounds = new Int32Array(0)
let roundStarts = new Int32Array(1)
let streamRounds = new Int32Array(0)

function tensorsFor(n: number): BatchTensors {
  let t = tensors[n]
  if (t === undefined) {
    t = {
      input: new Tensor('float32', inputData.subarray(0, n * rowSamples), [n, rowSamples]),
      state: new Tensor('float32', stateData.subarray(0, 2 * n * STATE_WIDTH), [2, n, STATE_WIDTH]),
      output: new Tensor('float32', outputData.subarray(0, n), [n, 1]),
      stateN: new Tensor('float32', stateNData.subarray(0, 2 * n * STATE_WIDTH), [2, n, STATE_WIDTH])
    }
    tensors[n] = t
  }
  return t
}

async function createSession(): Promise<InferenceSession> {
  // One thread: the worker has one core's worth of work at most, and batching (not threads) is what scales
  // (livekit onnx_model.ts).
  return InferenceSession.create(init.modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }
  })
}

async function warmUp(session: InferenceSession): Promise<void> {
  const t = tensorsFor(1)
  inputData.fill(0, 0, rowSamples)
  stateData.fill(0, 0, 2 * STATE_WIDTH)
  outputData[0] = -1
  const result = await session.run({ input: t.input, state: t.state, sr }, { output: t.output, stateN: t.stateN })
  // Everything reads the preallocated outputs; make sure this onnxruntime build really writes into them.
  if (outputData[0] !== (result.output!.data as Float32Array)[0]) {
    throw new Error('onnxruntime did not write the preallocated Silero outputs')
  }
}

/** Sorts the request's windows into rounds: every stream at most once per inference, in its push order. */
function planRounds(count: number, streamCount: number): number {
  if (order.length < count) {
    order = new Int32Array(count * 2)
    rounds = new Int32Array(count * 2)
  }
  if (streamRounds.length < streamCount) streamRounds = new Int32Array(streamCount * 2)
  streamRounds.fill(0, 0, streamCount)
  let roundCount = 0
  for (let i = 0; i < count; i++) {
    const k = windowStreams[i]!
    const r = (rounds[i] = streamRounds[k]!++)
    if (r + 1 > roundCount) roundCount = r + 1
  }
  if (roundStarts.length < roundCount + 1) roundStarts = new Int32Array(roundCount * 2 + 1)
  roundStarts.fill(0, 0, roundCount + 1)
  for (let i = 0; i < count; i++) roundStarts[rounds[i]! + 1]!++
  for (let r = 0; r < roundCount; r++) roundStarts[r + 1]! += roundStarts[r]!
  // Counting sort, stable: within a round windows keep request order.
  for (let i = 0; i < count; i++) order[roundStarts[rounds[i]!]!++] = i
  return roundCount
}

async function runBatch(session: InferenceSession, from: number, n: number): Promise<void> {
  for (let j = 0; j < n; j++) {
    const i = order[from + j]!
    const row = windowStreams[i]! * stateRow
    if (resets[i] === 1) state.fill(0, row, row + stateRow)
    batchIndices[j] = i
    inputData.set(state.subarray(row + 2 * STATE_WIDTH, row + stateRow), j * rowSamples)
    inputData.set(samples.subarray(i * windowSamples, (i + 1) * windowSamples), j * rowSamples + contextSamples)
    // [2, n, 128]: layer 0 rows first, then layer 1 rows.
    stateData.set(state.subarray(row, row + STATE_WIDTH), j * STATE_WIDTH)
    stateData.set(state.subarray(row + STATE_WIDTH, row + 2 * STATE_WIDTH), (n + j) * STATE_WIDTH)
  }
  const t = tensorsFor(n)
  await session.run({ input: t.input, state: t.state, sr }, { output: t.output, stateN: t.stateN })
  for (let j = 0; j < n; j++) {
    const i = batchIndices[j]!
    const row = windowStreams[i]! * stateRow
    probabilities[i] = outputData[j]!
    state.set(stateNData.subarray(j * STATE_WIDTH, (j + 1) * STATE_WIDTH), row)
    state.set(stateNData.subarray((n + j) * STATE_WIDTH, (n + j + 1) * STATE_WIDTH), row + STATE_WIDTH)
    // Upstream keeps the last `context` samples of the window just run as the next window's prefix.
    const windowEnd = (i + 1) * windowSamples
    state.set(samples.subarray(windowEnd - contextSamples, windowEnd), row + 2 * STATE_WIDTH)
  }
}

/** Runs the request in the shared buffers and writes its outcome into the control slots. */
async function run(session: InferenceSession): Promise<void> {
  let runs = 0
  let largestBatch = 0
  let error: string | undefined
  try {
    const roundCount = planRounds(control[COUNT]!, control[STREAM_COUNT]!)
    let start = 0
    for (let r = 0; r < roundCount; r++) {
      // After planRounds, roundStarts[r] is where round r ends (the next round's start).
      const end = roundStarts[r]!
      for (let from = start; from < end; from += maxBatch) {
        const n = Math.min(maxBatch, end - from)
        await runBatch(session, from, n)
        runs++
        if (n > largestBatch) largestBatch = n
      }
      start = end
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
  }
  control[RUNS] = runs
  control[LARGEST_BATCH] = largestBatch
  control[ERROR] = error === undefined ? 0 : 1
  // Encoded into a plain buffer first: text encoders need not write into shared memory.
  const bytes = error === undefined ? undefined : new TextEncoder().encode(error).subarray(0, errorText.length)
  if (bytes !== undefined) errorText.set(bytes)
  control[ERROR_LENGTH] = bytes?.length ?? 0
}

function post(msg: FromSileroWorker): void {
  port.postMessage(msg)
}

async function main(): Promise<void> {
  let session: InferenceSession
  try {
    session = await createSession()
    await warmUp(session)
  } catch (err) {
    post({ type: 'loadFailed', message: err instanceof Error ? err.message : String(err) })
    port.close()
    return
  }
  post({ type: 'ready' })
  // Blocks between requests (this thread does nothing else); the main thread keeps one request in flight.
  let answered = 0
  for (;;) {
    Atomics.wait(control, REQUEST, answered)
    const request = Atomics.load(control, REQUEST)
    if (Atomics.load(control, CLOSE) === 1) break
    await run(session)
    answered = request
    Atomics.store(control, RESPONSE, request)
    Atomics.notify(control, RESPONSE)
  }
  await session.release()
  port.close()
}

void main()
