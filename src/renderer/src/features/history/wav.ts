// Reads the call recording (RIFF WAV, 16-bit PCM, caller left, agent right) and reduces it to waveform peaks.

export interface Wav {
  sampleRateHz: number
  channels: number
  /** One array per channel, floats in [-1, 1). */
  samples: Float32Array[]
  durationMs: number
}

/** Parses a 16-bit PCM WAV; throws on anything else (the recorder writes nothing else). */
export function parseWav(buffer: ArrayBuffer): Wav {
  const view = new DataView(buffer)
  const tag = (at: number) =>
    String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3))
  if (buffer.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('Not a WAV file')
  let channels = 0
  let sampleRateHz = 0
  let bits = 0
  let dataAt = -1
  let dataBytes = 0
  for (let at = 12; at + 8 <= buffer.byteLength;) {
    const id = tag(at)
    const size = view.getUint32(at + 4, true)
    if (id === 'fmt ') {
      if (view.getUint16(at + 8, true) !== 1) throw new Error('Only PCM WAV is supported')
      channels = view.getUint16(at + 10, true)
      sampleRateHz = view.getUint32(at + 12, true)
      bits = view.getUint16(at + 22, true)
    } else if (id === 'data') {
      dataAt = at + 8
      // A file left open by a crash may claim more than it holds.
      dataBytes = Math.min(size, buffer.byteLength - dataAt)
      break
    }
    at += 8 + size + (size & 1)
  }
  if (dataAt < 0 || !channels || !sampleRateHz) throw new Error('WAV without fmt or data')
  if (bits !== 16) throw new Error('Only 16-bit WAV is supported')
  const frames = Math.floor(dataBytes / (2 * channels))
  const samples = Array.from({ length: channels }, () => new Float32Array(frames))
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) samples[c]![i] = view.getInt16(dataAt + (i * channels + c) * 2, true) / 32768
  }
  return { sampleRateHz, channels, samples, durationMs: (frames / sampleRateHz) * 1000 }
}

/** Min and max of each of `buckets` equal slices of a channel (what one pixel column of a waveform shows). */
export function peaks(samples: Float32Array, buckets: number): { min: Float32Array; max: Float32Array } {
  const min = new Float32Array(buckets)
  const max = new Float32Array(buckets)
  const per = samples.length / buckets
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * per)
    const to = Math.max(from + 1, Math.floor((b + 1) * per))
    let lo = 0
    let hi = 0
    for (let i = from; i < to && i < samples.length; i++) {
      const v = samples[i]!
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    min[b] = lo
    max[b] = hi
  }
  return { min, max }
}
