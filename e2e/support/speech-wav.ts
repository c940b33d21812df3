// Builds the fake microphone for the loopback specs: the speech fixtures (μ-law 8 kHz) as a 16 kHz 16-bit WAV.
// (The core's resampler: e2e type-checks with the node project, which cannot see renderer files.)
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Resampler } from '../../src/main/audio/resampler.js'

const SPEECH_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'speech')
const OUT_RATE_HZ = 16_000

export interface SpeechWavOptions {
  /** Silence after each clip, ms (room for the echo to play). Default 3000. */
  gapMs?: number
  /** How many times the clips are repeated. Default 2. */
  rounds?: number
}

/** Writes the WAV to `path` and returns its duration in ms. */
export async function writeSpeechWav(path: string, opts: SpeechWavOptions = {}): Promise<number> {
  const files = (await readdir(SPEECH_DIR)).filter((f) => f.endsWith('.ulaw')).sort()
  const gap = new Uint8Array(Math.round((opts.gapMs ?? 3000) * 8)).fill(0xff)
  const parts: Uint8Array[] = []
  for (let round = 0; round < (opts.rounds ?? 2); round++) {
    for (const f of files) parts.push(new Uint8Array(await readFile(join(SPEECH_DIR, f))), gap)
  }
  const ulaw = Buffer.concat(parts)
  const at8k = Int16Array.from(ulaw, ulawToLinear)
  const at16k = new Resampler({ fromHz: 8000, toHz: OUT_RATE_HZ }).process(at8k)
  const n = at16k.length
  const pcm = Buffer.alloc(44 + n * 2)
  pcm.write('RIFF', 0, 'ascii')
  pcm.writeUInt32LE(36 + n * 2, 4)
  pcm.write('WAVE', 8, 'ascii')
  pcm.write('fmt ', 12, 'ascii')
  pcm.writeUInt32LE(16, 16)
  pcm.writeUInt16LE(1, 20)
  pcm.writeUInt16LE(1, 22)
  pcm.writeUInt32LE(OUT_RATE_HZ, 24)
  pcm.writeUInt32LE(OUT_RATE_HZ * 2, 28)
  pcm.writeUInt16LE(2, 32)
  pcm.writeUInt16LE(16, 34)
  pcm.write('data', 36, 'ascii')
  pcm.writeUInt32LE(n * 2, 40)
  for (let i = 0; i < n; i++) pcm.writeInt16LE(at16k[i]!, 44 + i * 2)
  await writeFile(path, pcm)
  return (n / OUT_RATE_HZ) * 1000
}

/** G.711 μ-law decode (ITU-T G.191 ulaw2linear). */
function ulawToLinear(code: number): number {
  const u = ~code & 0xff
  const magnitude = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84
}
