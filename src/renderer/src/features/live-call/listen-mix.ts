// Listen-in: which side of the call to hear, and one frame of it as μ-law for the playback worklet.
import type { ListenFrame } from '../../../../shared/listen.js'
import { ULAW_DECODE_TABLE, ULAW_SILENCE, linearToUlaw } from '../../../../shared/dsp/g711.js'

export type ListenChannel = 'caller' | 'agent' | 'both'

export const LISTEN_CHANNEL_LABELS: Record<ListenChannel, string> = {
  both: 'Both',
  caller: 'Caller',
  agent: 'Agent'
}

/**
 * The audio to play for one frame, as long as the caller frame so the playback timeline keeps pace with the
 * call: the chosen side, μ-law silence for an agent that is not speaking, or both sides summed (clamped) and
 * re-encoded. Always a new buffer, so it can be transferred to the worklet.
 */
export function listenAudio(frame: ListenFrame, channel: ListenChannel): Uint8Array {
  const n = frame.caller.length
  const agent = frame.agent
  if (channel === 'caller') return frame.caller.slice()
  const out = new Uint8Array(n).fill(ULAW_SILENCE)
  if (channel === 'agent' || agent.length === 0) {
    if (channel === 'agent') out.set(agent.subarray(0, n))
    else out.set(frame.caller)
    return out
  }
  for (let i = 0; i < n; i++) {
    const a = i < agent.length ? ULAW_DECODE_TABLE[agent[i]!]! : 0
    out[i] = linearToUlaw(ULAW_DECODE_TABLE[frame.caller[i]!]! + a)
  }
  return out
}

/** Frames received and lost (gaps in the frame index: the core dropped them for a listener falling behind). */
export class ListenCounter {
  frames = 0
  lost = 0
  #last = -1

  add(index: number): void {
    this.frames++
    if (this.#last >= 0 && index > this.#last + 1) this.lost += index - this.#last - 1
    this.#last = index
  }
}
