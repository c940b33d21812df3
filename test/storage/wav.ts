/** Strict WAV reader for tests: checks the RIFF and data sizes agree with the file, returns the samples. */
export interface ParsedWav {
  channels: number
  sampleRateHz: number
  bitsPerSample: number
  dataBytes: number
  frames: number
  durationMs: number
  samples: Int16Array
}

export function parseWav(buf: Buffer): ParsedWav {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not RIFF/WAVE')
  if (buf.readUInt32LE(4) !== buf.length - 8)
    throw new Error(`RIFF size ${buf.readUInt32LE(4)} != file ${buf.length - 8}`)
  let off = 12
  let fmt: { channels: number; sampleRateHz: number; bitsPerSample: number; format: number } | undefined
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4)
    const size = buf.readUInt32LE(off + 4)
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(off + 8),
        channels: buf.readUInt16LE(off + 10),
        sampleRateHz: buf.readUInt32LE(off + 12),
        bitsPerSample: buf.readUInt16LE(off + 22)
      }
    }
    if (id === 'data') {
      if (!fmt || fmt.format !== 1) throw new Error('no PCM fmt chunk before data')
      if (off + 8 + size !== buf.length) throw new Error(`data size ${size} does not reach the end of the file`)
      const data = buf.subarray(off + 8, off + 8 + size)
      const samples = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      const frames = samples.length / fmt.channels
      return { ...fmt, dataBytes: size, frames, durationMs: (frames * 1000) / fmt.sampleRateHz, samples }
    }
    off += 8 + size + (size & 1)
  }
  throw new Error('no data chunk')
}

/** RMS of one channel over frames [from, to). */
export function channelRms(w: ParsedWav, channel: number, fromFrame: number, toFrame: number): number {
  let sum = 0
  let n = 0
  for (let f = Math.max(0, fromFrame); f < Math.min(w.frames, toFrame); f++) {
    const s = w.samples[f * w.channels + channel]!
    sum += s * s
    n++
  }
  return n ? Math.sqrt(sum / n) : 0
}

/** Per-20 ms-frame flags: the channel has audio above `threshold` RMS. */
export function activeFrames(w: ParsedWav, channel: number, threshold = 200): boolean[] {
  const per = (w.sampleRateHz * 20) / 1000
  const out: boolean[] = []
  for (let f = 0; f < w.frames; f += per) out.push(channelRms(w, channel, f, f + per) > threshold)
  return out
}
