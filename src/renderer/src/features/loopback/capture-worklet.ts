// AudioWorklet: the microphone at the context's rate in, 20 ms μ-law frames (8 kHz, 160 bytes) out to the main thread.
import { CaptureEncoder } from './capture-encoder.js'
import { CAPTURE_PROCESSOR } from './worklet-messages.js'
import { scope, type WorkletProcessor } from './worklet-scope.js'

class CaptureProcessor extends scope.AudioWorkletProcessor implements WorkletProcessor {
  readonly #encoder = new CaptureEncoder(scope.sampleRate)
  readonly #silence = new Float32Array(128)
  #stopped = false

  constructor() {
    super()
    this.port.onmessage = (e: MessageEvent) => {
      if (e.data === 'stop') this.#stopped = true
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.#stopped) return false
    // With no live input (track ended) Twilio would still send frames: keep the 20 ms pace with silence.
    const channel = inputs[0]?.[0] ?? this.#silence
    this.#encoder.push(channel, (frame) => this.port.postMessage(frame, [frame.buffer]))
    return true
  }
}

scope.registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor)
