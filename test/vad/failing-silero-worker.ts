// A stand-in for the Silero worker whose every inference fails: it answers each request with the error flag and
// a message, as the real worker does when onnxruntime throws.
import { parentPort, workerData } from 'node:worker_threads'
import type { SileroWorkerInit } from '../../src/main/vad/silero-protocol.js'

// CONTROL of silero-protocol.ts: run with type stripping, a worker imports nothing of ours at run time.
const CONTROL = { request: 0, response: 1, close: 4, error: 5, runs: 6, largestBatch: 7, errorLength: 8 } as const

const init = workerData as SileroWorkerInit
const control = new Int32Array(init.shared.control)
const errorText = new Uint8Array(init.shared.errorText)
parentPort!.postMessage({ type: 'ready' })
let answered = 0
for (;;) {
  Atomics.wait(control, CONTROL.request, answered)
  const request = Atomics.load(control, CONTROL.request)
  if (Atomics.load(control, CONTROL.close) === 1) break
  const bytes = new TextEncoder().encode('simulated inference failure')
  errorText.set(bytes)
  control[CONTROL.errorLength] = bytes.length
  control[CONTROL.error] = 1
  control[CONTROL.runs] = 0
  control[CONTROL.largestBatch] = 0
  answered = request
  Atomics.store(control, CONTROL.response, request)
  Atomics.notify(control, CONTROL.response)
}
