// A stand-in for the Silero worker: speaks its protocol, answers two messages with probability 0, then crashes.
import { parentPort } from 'node:worker_threads'
import type { SileroResultMessage, ToSileroWorker } from '../../src/main/vad/silero-protocol.js'

const port = parentPort!
let answered = 0
port.on('message', (msg: ToSileroWorker) => {
  if (msg.type !== 'run') {
    port.close()
    return
  }
  if (answered === 2) throw new Error('simulated crash of the Silero worker')
  answered++
  msg.probabilities.fill(0, 0, msg.count)
  const result: SileroResultMessage = {
    type: 'result',
    count: msg.count,
    samples: msg.samples,
    streams: msg.streams,
    resets: msg.resets,
    probabilities: msg.probabilities,
    runs: 1,
    largestBatch: msg.count,
    liveStreams: 0
  }
  port.postMessage(result, [msg.samples.buffer, msg.streams.buffer, msg.resets.buffer, msg.probabilities.buffer])
})
port.postMessage({ type: 'ready' })
