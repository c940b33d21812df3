// AudioWorklet: the agent's μ-law queued as Twilio queues it, upsampled to the speaker; reports played marks.
import { ULAW_DECODE_TABLE } from '../../../../shared/dsp/g711.js'
import { PlaybackRenderer } from './playback-renderer.js'
import { PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackReport } from './worklet-messages.js'
import { scope, type WorkletProcessor } from './worklet-scope.js'

/** Progress is reported at least this often while audio plays (render quanta of 128 frames, ~21 ms at 48 kHz). */
const REPORT_EVERY_BLOCKS = 8

class PlaybackProcessor extends scope.AudioWorkletProcessor implements WorkletProcessor {
  readonly #renderer = new PlaybackRenderer(scope.sampleRate)
  readonly #played: string[] = []
  #blocksSinceReport = 0
  #stopped = false

  constructor() {
    super()
    this.port.onmessage = (e: MessageEvent<PlaybackCommand>) => this.#command(e.data)
  }

  #command(cmd: PlaybackCommand): void {
    switch (cmd.type) {
      case 'audio': {
        const samples = new Float32Array(cmd.ulaw.length)
        for (let i = 0; i < samples.length; i++) samples[i] = ULAW_DECODE_TABLE[cmd.ulaw[i]!]! / 32768
        this.#renderer.queue.enqueue(samples)
        return
      }
      case 'mark':
        this.#renderer.queue.mark(cmd.name)
        return
      case 'clear':
        this.#report(this.#renderer.clear(), true)
        return
      case 'stop':
        this.#stopped = true
        return
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (this.#stopped) return false
    const channels = outputs[0]
    if (!channels || channels.length === 0) return true
    const first = channels[0]!
    const consumed = this.#renderer.render(first, this.#played)
    for (let c = 1; c < channels.length; c++) channels[c]!.set(first)
    this.#blocksSinceReport++
    if (this.#played.length > 0 || (consumed > 0 && this.#blocksSinceReport >= REPORT_EVERY_BLOCKS)) {
      this.#report(this.#played.splice(0), false)
    }
    return true
  }

  #report(marks: string[], cleared: boolean): void {
    this.#blocksSinceReport = 0
    const q = this.#renderer.queue
    const report: PlaybackReport = { marks, cleared, playedSamples: q.playedSamples, queuedSamples: q.queuedSamples }
    this.port.postMessage(report)
  }
}

scope.registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor)
