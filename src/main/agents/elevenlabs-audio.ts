/** Audio between Twilio's μ-law 8 kHz and the formats an ElevenLabs agent is set for: negotiation and conversion. */
import { CallbenchError } from '../../shared/errors.js'
import type { AudioFormat } from '../audio/format.js'
import { decodeUlaw, encodeUlaw } from '../audio/g711.js'
import { Resampler, type ResamplerRateHz } from '../audio/resampler.js'
import { ULAW_8000, audioFormatOf } from './elevenlabs-protocol.js'

/** Our formats for the agent's `user_input_audio_format` / `agent_output_audio_format`, or why the bridge cannot convert them. */
export function negotiateFormats(inName: string, outName: string): { input: AudioFormat; output: AudioFormat } {
  const input = audioFormatOf(inName)
  const output = audioFormatOf(outName)
  if (!input || !output || input.encoding === 'pcma' || output.encoding === 'pcma') {
    throw new CallbenchError(
      'unsupported',
      `ElevenLabs agent audio formats ${inName}/${outName} cannot be converted; set both to ${ULAW_8000}`,
      { field: 'agentId' }
    )
  }
  return { input, output }
}

/** Converts one conversation's audio; a pass-through until `setFormats` says otherwise. */
export class AgentAudio {
  // Undefined resampler = no rate change.
  #inPcm = false
  #outPcm = false
  #up: Resampler | undefined
  #down: Resampler | undefined
  #inScratch = new Int16Array(160)
  #inView = this.#inScratch
  #outScratch = new Int16Array(0)
  #outCarry = -1

  setFormats(inFormat: AudioFormat, outFormat: AudioFormat): void {
    this.#inPcm = inFormat.encoding === 'pcm16'
    this.#outPcm = outFormat.encoding === 'pcm16'
    if (this.#inPcm && inFormat.sampleRateHz !== 8000) {
      this.#up = new Resampler({ fromHz: 8000, toHz: inFormat.sampleRateHz as ResamplerRateHz })
    }
    if (this.#outPcm && outFormat.sampleRateHz !== 8000) {
      this.#down = new Resampler({ fromHz: outFormat.sampleRateHz as ResamplerRateHz, toHz: 8000 })
    }
  }

  /** Caller μ-law in the agent's input format; the view is valid until the next call. */
  toAgent(chunk: Uint8Array): Uint8Array {
    if (!this.#inPcm) return chunk
    if (this.#inScratch.length < chunk.length) this.#inScratch = new Int16Array(chunk.length)
    if (this.#inView.length !== chunk.length) this.#inView = this.#inScratch.subarray(0, chunk.length)
    decodeUlaw(chunk, this.#inView)
    // Int16Array bytes are little-endian on every platform Node ships for, as pcm_* expects.
    const pcm = this.#up ? this.#up.process(this.#inView) : this.#inView
    return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)
  }

  /** Agent audio (decoded from base64) as μ-law 8 kHz. */
  fromAgent(raw: Buffer): Uint8Array {
    return this.#outPcm ? this.#pcmToUlaw(raw) : raw
  }

  /** The reply is complete: what the resampler still holds, as μ-law, if anything. */
  endReply(): Uint8Array | undefined {
    let out: Uint8Array | undefined
    if (this.#down) {
      const tail = this.#down.flush()
      if (tail.length > 0) {
        out = new Uint8Array(tail.length)
        encodeUlaw(tail, out)
      }
    }
    this.#outCarry = -1
    return out
  }

  /** A barge-in cut the reply: forget what is held without flushing. */
  dropReply(): void {
    this.#down?.reset()
    this.#outCarry = -1
  }

  #pcmToUlaw(raw: Buffer): Uint8Array {
    let src: Uint8Array = raw
    if (this.#outCarry >= 0) {
      const joined = new Uint8Array(raw.length + 1)
      joined[0] = this.#outCarry
      joined.set(raw, 1)
      src = joined
      this.#outCarry = -1
    }
    const samples = src.length >> 1
    if (src.length & 1) this.#outCarry = src[src.length - 1]!
    if (this.#outScratch.length < samples) this.#outScratch = new Int16Array(samples)
    const pcm = this.#outScratch.subarray(0, samples)
    for (let i = 0, j = 0; i < samples; i++, j += 2) pcm[i] = ((src[j]! | (src[j + 1]! << 8)) << 16) >> 16
    const at8k = this.#down ? this.#down.process(pcm) : pcm
    const out = new Uint8Array(at8k.length)
    encodeUlaw(at8k, out)
    return out
  }
}
