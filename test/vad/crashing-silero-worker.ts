// A stand-in for the Silero worker: speaks its shared-memory protocol, answers two requests with probability 0,
// then crashes.
import { parentPort, workerData } from 'node:worker_threads'
import type { SileroWorkerInit } from '../../src/main/vad/silero-protocol.js'

// CONTROL of silero-protocol.ts: run with type stripping, a worker imports nothing of ours at run time.
const CONTROL = { request: 0, response: 1, count: 2, close: 4, runs: 6, largestBatch: 7 } as const

const init = workerData as SileroWorkerInit
const control = new Int32Array(init.shared.control)
const probabilities = new Float32Array(init.shared.probabilities)
parentPort!.postMessage({ type: 'ready' })
let answered = 0
for (let requests = 0; ; requests++) {
  Atomics.wait(control, CONTROL.request, answered)
  const request = Atomics.load(control, CONTROL.request)
  if (Atomics.load(control, CONTROL.close) === 1) break
  if (requests === 2) throw new Error('simulated crash of the Silero worker')
  probabilities.fill(0, 0, control[CONTROL.count]!)
  control[CONTROL.runs] = 1
  control[CONTROL.largestBatch] = control[CONTROL.count]!
  answered = request
  Atomics.store(control, CONTROL.response, request)
  Atomics.notify(control, CONTROL.response)
}
