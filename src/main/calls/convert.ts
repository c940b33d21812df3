/** Converts audio between Twilio's μ-law 8 kHz and an engine's format; a pass-through when they match. */
import { decodeUlaw, decodeAlaw, encodeUlaw, encodeAlaw } from '../audio/g711.js'
import { TWILIO_FORMAT, sameFormat, type AudioFormat } from '../audio/format.js'
import { Resampler } from '../audio/resampler.js'

export type Converter = (chunk: Uint8Array) => Uint8Array

function toPcm(format: AudioFormat, chunk: Uint8Array): Int16Array {
  if (format.encoding === 'pcm16') {
    const even = chunk.byteLength & ~1
    if (chunk.byteOffset % 2 === 0) return new Int16Array(chunk.buffer, chunk.byteOffset, even / 2)
    return new Int16Array(chunk.slice(0, even).buffer)
  }
  const out = new Int16Array(chunk.length)
  if (format.encoding === 'pcmu') decodeUlaw(chunk, out)
  else decodeAlaw(chunk, out)
  return out
}

function fromPcm(format: AudioFormat, pcm: Int16Array): Uint8Array {
  if (format.encoding === 'pcm16') return new Uint8Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength))
  const out = new Uint8Array(pcm.length)
  if (format.encoding === 'pcmu') encodeUlaw(pcm, out)
  else encodeAlaw(pcm, out)
  return out
}

/** A stateful converter from one format to another (resampler state carried across chunks). */
export function createConverter(from: AudioFormat, to: AudioFormat): Converter | undefined {
  if (sameFormat(from, to)) return undefined
  const resampler =
    from.sampleRateHz === to.sampleRateHz ? undefined : new Resampler({ fromHz: from.sampleRateHz, toHz: to.sampleRateHz })
  return (chunk) => {
    const pcm = toPcm(from, chunk)
    return fromPcm(to, resampler ? resampler.process(pcm) : pcm)
  }
}

export function callerToAgent(agentInput: AudioFormat): Converter | undefined {
  return createConverter(TWILIO_FORMAT, agentInput)
}

export function agentToCaller(agentOutput: AudioFormat): Converter | undefined {
  return createConverter(agentOutput, TWILIO_FORMAT)
}
