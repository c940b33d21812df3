// WAV writer and repair, checked with an independent RIFF parser.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ULAW_DECODE_TABLE } from '../../src/main/audio/g711.js'
import { WavWriter, repairWav } from '../../src/main/audio/wav-writer.js'
import { CallbenchError } from '../../src/shared/errors.js'

interface ParsedWav {
  riffSize: number
  format: number
  channels: number
  sampleRateHz: number
  byteRate: number
  blockAlign: number
  bitsPerSample: number
  dataSize: number
  /** Samples actually present after the data chunk header, up to the declared size. */
  samples: Int16Array
  fileSize: number
}

// Walks the chunks like a player would, trusting the declared sizes.
function parseWav(bytes: Buffer): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4))
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw new Error('not RIFF/WAVE')
  const parsed: Partial<ParsedWav> = { riffSize: view.getUint32(4, true), fileSize: bytes.length }
  let at = 12
  while (at + 8 <= bytes.length) {
    const id = ascii(at)
    const size = view.getUint32(at + 4, true)
    if (id === 'fmt ') {
      parsed.format = view.getUint16(at + 8, true)
      parsed.channels = view.getUint16(at + 10, true)
      parsed.sampleRateHz = view.getUint32(at + 12, true)
      parsed.byteRate = view.getUint32(at + 16, true)
      parsed.blockAlign = view.getUint16(at + 20, true)
      parsed.bitsPerSample = view.getUint16(at + 22, true)
    } else if (id === 'data') {
      parsed.dataSize = size
      const end = Math.min(bytes.length, at + 8 + size)
      const count = Math.floor((end - at - 8) / 2)
      const samples = new Int16Array(count)
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(at + 8 + 2 * i, true)
      parsed.samples = samples
      return parsed as ParsedWav
    }
    at += 8 + size + (size & 1)
  }
  throw new Error('no data chunk')
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callbench-wav-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function ulawFrame(seed: number): Uint8Array {
  return Uint8Array.from({ length: 160 }, (_, i) => (seed * 31 + i * 7) & 0xff)
}

describe('WavWriter', () => {
  it('writes a stereo 8 kHz file whose header and samples parse back', async () => {
    const path = join(dir, 'call.wav')
    const writer = new WavWriter(path, { sampleRateHz: 8000, channels: 2 })
    await writer.open()
    const callerFrames: Uint8Array[] = []
    const agentFrames: (Uint8Array | undefined)[] = []
    for (let i = 0; i < 37; i++) {
      callerFrames.push(ulawFrame(i))
      agentFrames.push(i % 3 === 0 ? undefined : ulawFrame(1000 + i))
      writer.writeStereoUlaw(callerFrames[i], agentFrames[i])
    }
    expect(writer.durationMs).toBe(740)
    await writer.close()

    const wav = parseWav(await readFile(path))
    expect(wav).toMatchObject({
      format: 1,
      channels: 2,
      sampleRateHz: 8000,
      byteRate: 32000,
      blockAlign: 4,
      bitsPerSample: 16
    })
    expect(wav.dataSize).toBe(37 * 160 * 4)
    expect(wav.riffSize).toBe(36 + wav.dataSize)
    expect(wav.fileSize).toBe(44 + wav.dataSize)
    for (let i = 0; i < 37; i++) {
      for (let j = 0; j < 160; j++) {
        const at = 2 * (i * 160 + j)
        expect(wav.samples[at]).toBe(ULAW_DECODE_TABLE[callerFrames[i]![j]!])
        expect(wav.samples[at + 1]).toBe(agentFrames[i] ? ULAW_DECODE_TABLE[agentFrames[i]![j]!] : 0)
      }
    }
  })

  it('writes interleaved and 16-bit stereo samples in order, padding a shorter channel with silence', async () => {
    const path = join(dir, 'pcm.wav')
    const writer = new WavWriter(path, { sampleRateHz: 16000, channels: 2, flushEveryMs: 1 })
    await writer.open()
    writer.writeInterleaved(Int16Array.of(1, -1, 2, -2, 3, -3))
    writer.writeStereo(Int16Array.of(4, 5, 6), Int16Array.of(-4))
    writer.writeStereo(undefined, Int16Array.of(32767, -32768))
    await writer.close()
    const wav = parseWav(await readFile(path))
    expect(Array.from(wav.samples)).toEqual([1, -1, 2, -2, 3, -3, 4, -4, 5, 0, 6, 0, 0, 32767, 0, -32768])
    expect(wav.sampleRateHz).toBe(16000)
    expect(wav.dataSize).toBe(32)
  })

  it('spans writes larger than its buffer', async () => {
    const path = join(dir, 'mono.wav')
    const writer = new WavWriter(path, { sampleRateHz: 8000, channels: 1, flushEveryMs: 10 })
    await writer.open()
    const ramp = Int16Array.from({ length: 1001 }, (_, i) => i * 30 - 15000)
    writer.writeInterleaved(ramp)
    await writer.close()
    const wav = parseWav(await readFile(path))
    expect(Array.from(wav.samples)).toEqual(Array.from(ramp))
    expect(writer.durationMs).toBeCloseTo(125.125, 6)
  })

  it('leaves, without close, a file a player can read up to the last header refresh and repairWav recovers in full', async () => {
    const path = join(dir, 'crash.wav')
    const writer = new WavWriter(path, { sampleRateHz: 8000, channels: 2 })
    await writer.open()
    for (let i = 0; i < 125; i++) writer.writeStereoUlaw(ulawFrame(i), ulawFrame(i + 500))
    // The process "dies" here: 2.5 s accepted, never closed.
    await writer.whenIdle()

    const before = parseWav(await readFile(path))
    // Header refreshed each second of audio; data flushed each 200 ms; the last 100 ms never left memory.
    expect(before.dataSize).toBe(2 * 32000)
    expect(before.fileSize).toBe(44 + 2.4 * 32000)
    // A write cut short mid-frame.
    await appendFile(path, Buffer.from([1, 2, 3]))

    expect(await repairWav(path)).toEqual({ repaired: true, durationMs: 2400 })
    const after = parseWav(await readFile(path))
    expect(after.dataSize).toBe(2.4 * 32000)
    expect(after.riffSize).toBe(36 + after.dataSize)
    expect(after.fileSize).toBe(44 + after.dataSize)
    for (let i = 0; i < 120; i += 17) {
      expect(after.samples[2 * i * 160]).toBe(ULAW_DECODE_TABLE[ulawFrame(i)[0]!])
      expect(after.samples[2 * i * 160 + 1]).toBe(ULAW_DECODE_TABLE[ulawFrame(i + 500)[0]!])
    }
    expect(await repairWav(path)).toEqual({ repaired: false, durationMs: 2400 })
    await writer.close()
  })

  it('repairs a file that crashed before its first header refresh', async () => {
    const path = join(dir, 'early.wav')
    const writer = new WavWriter(path, { sampleRateHz: 8000, channels: 2 })
    await writer.open()
    for (let i = 0; i < 20; i++) writer.writeStereoUlaw(ulawFrame(i), undefined)
    await writer.whenIdle()
    expect(parseWav(await readFile(path)).dataSize).toBe(0)
    expect(await repairWav(path)).toEqual({ repaired: true, durationMs: 400 })
    expect(parseWav(await readFile(path)).dataSize).toBe(400 * 32)
    await writer.close()
  })

  it('leaves a consistent file alone, including one with a chunk after the data', async () => {
    const path = join(dir, 'ok.wav')
    const writer = new WavWriter(path, { sampleRateHz: 8000, channels: 1 })
    await writer.open()
    writer.writeInterleaved(new Int16Array(800))
    await writer.close()
    expect(await repairWav(path)).toEqual({ repaired: false, durationMs: 100 })

    const list = Buffer.alloc(12)
    list.write('LIST', 0, 'ascii')
    list.writeUInt32LE(4, 4)
    list.write('INFO', 8, 'ascii')
    const bytes = Buffer.concat([await readFile(path), list])
    bytes.writeUInt32LE(bytes.length - 8, 4)
    await writeFile(path, bytes)
    expect(await repairWav(path)).toEqual({ repaired: false, durationMs: 100 })
    expect((await readFile(path)).length).toBe(bytes.length)
  })

  it('refuses files that are not WAV', async () => {
    const path = join(dir, 'not.wav')
    await writeFile(path, 'hello, this is not audio at all')
    await expect(repairWav(path)).rejects.toBeInstanceOf(CallbenchError)
  })

  it('ignores writes after close and closes once', async () => {
    const path = join(dir, 'closed.wav')
    const writer = new WavWriter(path, { sampleRateHz: 8000, channels: 2 })
    await writer.open()
    writer.writeStereo(Int16Array.of(1), Int16Array.of(2))
    await Promise.all([writer.close(), writer.close()])
    writer.writeStereo(Int16Array.of(3), Int16Array.of(4))
    await writer.close()
    expect(Array.from(parseWav(await readFile(path)).samples)).toEqual([1, 2])
  })

  it('refuses writes before open, odd interleaved lengths and stereo writes on a mono writer', async () => {
    const writer = new WavWriter(join(dir, 'x.wav'), { sampleRateHz: 8000, channels: 2 })
    expect(() => writer.writeStereo(Int16Array.of(1), undefined)).toThrow(CallbenchError)
    await writer.open()
    expect(() => writer.writeInterleaved(Int16Array.of(1, 2, 3))).toThrow(/whole frames/)
    await writer.close()
    const mono = new WavWriter(join(dir, 'm.wav'), { sampleRateHz: 8000, channels: 1 })
    await mono.open()
    expect(() => mono.writeStereo(undefined, undefined)).toThrow(/2-channel/)
    await mono.close()
  })

  it('rejects open when the file cannot be created', async () => {
    const writer = new WavWriter(join(dir, 'missing', 'dir', 'x.wav'), { sampleRateHz: 8000, channels: 2 })
    await expect(writer.open()).rejects.toMatchObject({ code: 'internal' })
    await writer.close()
  })
})
