/** Streaming 16-bit PCM WAV writer that leaves a playable file after a crash, and a repair for such files. */
import { open, type FileHandle } from 'node:fs/promises'
import { CallbenchError } from '../../shared/errors.js'
import { ULAW_DECODE_TABLE } from './g711.js'

/** The μ-law decode table's 16 bits, unsigned: left | right << 16 is a little-endian stereo frame. */
const ULAW_BITS = new Uint16Array(ULAW_DECODE_TABLE.buffer, ULAW_DECODE_TABLE.byteOffset, ULAW_DECODE_TABLE.length)

/** Options for {@link WavWriter}. */
export interface WavWriterOptions {
  readonly sampleRateHz: number
  /** Interleaved channels; the call recorder uses 2 (caller left, agent right). */
  readonly channels: number
  /** Audio buffered in memory before it goes to disk. Default 200 ms. */
  readonly flushEveryMs?: number
  /** Audio written between refreshes of the header's sizes. Default 1000 ms. */
  readonly headerEveryMs?: number
}

const HEADER_BYTES = 44
const BYTES_PER_SAMPLE = 2
// RIFF sizes are 32-bit; the data size must leave room for the 36 header bytes counted in the RIFF size.
const MAX_DATA_BYTES = 0xffffffff - 36

/**
 * Appends audio as it comes: writes are synchronous into a memory buffer, which goes to disk every
 * `flushEveryMs` of audio; the header's sizes are rewritten every `headerEveryMs`, so a crash loses
 * at most about that much (and {@link repairWav} recovers all that reached the disk). Write
 * errors never throw from a write call; the first one is kept and rejects {@link close}.
 */
export class WavWriter {
  readonly path: string
  readonly sampleRateHz: number
  readonly channels: number
  readonly #blockAlign: number
  readonly #bufferBytes: number
  readonly #headerEveryBytes: number
  readonly #header = Buffer.alloc(HEADER_BYTES)
  #file: FileHandle | undefined
  // Set by #use, from the constructor on.
  #buffer!: Buffer
  // Int16 view of #buffer; every platform Electron runs on is little-endian, like WAV.
  #samples!: Int16Array
  // One element per stereo frame of #buffer (little-endian: left | right << 16); undefined if not 4-byte aligned.
  #stereo: Int32Array | undefined
  #fill = 0
  readonly #spare: Buffer[] = []
  #queue: Promise<void> = Promise.resolve()
  #queuedBytes = 0
  #bytesOnDisk = 0
  #bytesInHeader = 0
  #framesAccepted = 0
  #error: unknown
  #state: 'new' | 'open' | 'closing' | 'closed' = 'new'
  #closed: Promise<void> | undefined

  constructor(path: string, opts: WavWriterOptions) {
    if (!Number.isInteger(opts.channels) || opts.channels < 1 || opts.channels > 16) {
      throw new CallbenchError('bad_request', 'WAV channels must be an integer from 1 to 16', { field: 'channels' })
    }
    if (!Number.isInteger(opts.sampleRateHz) || opts.sampleRateHz < 1000 || opts.sampleRateHz > 192000) {
      throw new CallbenchError('bad_request', 'WAV sample rate must be an integer from 1000 to 192000 Hz', {
        field: 'sampleRateHz'
      })
    }
    this.path = path
    this.sampleRateHz = opts.sampleRateHz
    this.channels = opts.channels
    this.#blockAlign = opts.channels * BYTES_PER_SAMPLE
    const framesPerFlush = Math.max(1, Math.round((opts.sampleRateHz * (opts.flushEveryMs ?? 200)) / 1000))
    this.#bufferBytes = framesPerFlush * this.#blockAlign
    this.#headerEveryBytes =
      Math.max(1, Math.round((opts.sampleRateHz * (opts.headerEveryMs ?? 1000)) / 1000)) * this.#blockAlign
    this.#use(Buffer.alloc(this.#bufferBytes))
  }

  /** Audio accepted so far, in milliseconds (some of it may still be in memory). */
  get durationMs(): number {
    return (this.#framesAccepted * 1000) / this.sampleRateHz
  }

  /** Sample frames (one sample per channel) accepted so far. */
  get frames(): number {
    return this.#framesAccepted
  }

  /** The first write error, if any. */
  get error(): unknown {
    return this.#error
  }

  /** Creates (or truncates) the file and writes a header with zero sizes. */
  async open(): Promise<void> {
    if (this.#state !== 'new') throw new CallbenchError('conflict', 'WAV writer already opened')
    this.#state = 'open'
    try {
      this.#file = await open(this.path, 'w')
      await this.#writeHeader(0)
    } catch (err) {
      this.#state = 'closed'
      await this.#file?.close().catch(() => {})
      throw new CallbenchError('internal', 'Could not create the WAV file', { cause: err })
    }
  }

  /** Appends interleaved samples; the length must be a multiple of the channel count. */
  writeInterleaved(samples: Int16Array): void {
    if (samples.length % this.channels !== 0) {
      throw new CallbenchError('bad_request', `WAV writes must hold whole frames of ${this.channels} samples`)
    }
    if (!this.#accepting()) return
    let i = 0
    while (i < samples.length) {
      const room = this.#samples.length - this.#fill / BYTES_PER_SAMPLE
      const n = Math.min(room, samples.length - i)
      this.#samples.set(samples.subarray(i, i + n), this.#fill / BYTES_PER_SAMPLE)
      this.#advance(n / this.channels)
      i += n
    }
  }

  /** Appends two channels; a missing or shorter channel is padded with silence. */
  writeStereo(left: Int16Array | undefined, right: Int16Array | undefined): void {
    this.#writePair(left, right, undefined)
  }

  /** Appends two channels of μ-law, decoded on the way in; a missing or shorter channel is silence. */
  writeStereoUlaw(left: Uint8Array | undefined, right: Uint8Array | undefined): void {
    // A live call's frame: the caller, and the agent or nothing. One 32-bit store per stereo frame.
    const stereo = this.#stereo
    if (
      stereo !== undefined &&
      left !== undefined &&
      (right === undefined || right.length === left.length) &&
      this.#accepting() &&
      this.#fill + left.length * 4 <= this.#bufferBytes
    ) {
      const at = this.#fill / 4
      if (right === undefined) for (let f = 0; f < left.length; f++) stereo[at + f] = ULAW_BITS[left[f]!]!
      else for (let f = 0; f < left.length; f++) stereo[at + f] = (ULAW_BITS[right[f]!]! << 16) | ULAW_BITS[left[f]!]!
      this.#advance(left.length)
      return
    }
    this.#writePair(left, right, ULAW_DECODE_TABLE)
  }

  /** Resolves once everything handed to the disk so far has been written (the buffer is not flushed). */
  whenIdle(): Promise<void> {
    return this.#queue
  }

  /** Writes what is buffered, final sizes in the header, and closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed'
      return
    }
    this.#state = 'closing'
    this.#handOff()
    this.#enqueue(() => this.#writeHeader(this.#bytesOnDisk))
    await this.#queue
    this.#state = 'closed'
    try {
      await this.#file?.close()
    } catch (err) {
      this.#error ??= err
    }
    if (this.#error !== undefined)
      throw new CallbenchError('internal', 'Could not write the WAV file', { cause: this.#error })
  }

  #writePair(
    left: ArrayLike<number> | undefined,
    right: ArrayLike<number> | undefined,
    table: Readonly<Int16Array> | undefined
  ): void {
    if (this.channels !== 2) throw new CallbenchError('bad_request', 'Stereo writes need a 2-channel WAV writer')
    if (!this.#accepting()) return
    const frames = Math.max(left?.length ?? 0, right?.length ?? 0)
    const leftLength = left?.length ?? 0
    const rightLength = right?.length ?? 0
    let f = 0
    while (f < frames) {
      const samples = this.#samples
      let s = this.#fill / BYTES_PER_SAMPLE
      const n = Math.min((samples.length - s) / 2, frames - f)
      const end = f + n
      // Both channels there (every frame of a live call): a tight loop for each kind of input.
      const both = Math.min(end, leftLength, rightLength)
      if (table !== undefined) {
        const l = left as Uint8Array
        const r = right as Uint8Array
        for (; f < both; f++, s += 2) {
          samples[s] = table[l[f]!]!
          samples[s + 1] = table[r[f]!]!
        }
      } else {
        const l = left as Int16Array
        const r = right as Int16Array
        for (; f < both; f++, s += 2) {
          samples[s] = l[f]!
          samples[s + 1] = r[f]!
        }
      }
      // A missing or shorter channel: silence past its end.
      for (; f < end; f++, s += 2) {
        const l = f < leftLength ? left![f]! : undefined
        const r = f < rightLength ? right![f]! : undefined
        samples[s] = l === undefined ? 0 : table === undefined ? l : table[l]!
        samples[s + 1] = r === undefined ? 0 : table === undefined ? r : table[r]!
      }
      this.#advance(n)
    }
  }

  #accepting(): boolean {
    if (this.#state === 'new') throw new CallbenchError('conflict', 'WAV writer is not open yet')
    return this.#state === 'open' && this.#error === undefined
  }

  #advance(frames: number): void {
    this.#framesAccepted += frames
    this.#fill += frames * this.#blockAlign
    if (this.#fill === this.#bufferBytes) this.#handOff()
  }

  /** Makes `buffer` the one being filled, with its sample views. */
  #use(buffer: Buffer): void {
    this.#buffer = buffer
    this.#samples = new Int16Array(buffer.buffer, buffer.byteOffset, this.#bufferBytes / BYTES_PER_SAMPLE)
    this.#stereo =
      this.channels === 2 && buffer.byteOffset % 4 === 0
        ? new Int32Array(buffer.buffer, buffer.byteOffset, this.#bufferBytes / 4)
        : undefined
  }

  // Queues the filled part of the buffer for writing and carries on in a spare one.
  #handOff(): void {
    if (this.#fill === 0) return
    const buffer = this.#buffer
    const length = Math.min(this.#fill, MAX_DATA_BYTES - this.#queuedBytes)
    const position = HEADER_BYTES + this.#queuedBytes
    this.#queuedBytes += length
    this.#use(this.#spare.pop() ?? Buffer.alloc(this.#bufferBytes))
    this.#fill = 0
    if (length <= 0) return
    this.#enqueue(async () => {
      await this.#writeFully(buffer, length, position)
      this.#bytesOnDisk += length
      this.#spare.push(buffer)
      if (this.#bytesOnDisk - this.#bytesInHeader >= this.#headerEveryBytes) await this.#writeHeader(this.#bytesOnDisk)
    })
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#error !== undefined) return
      try {
        await task()
      } catch (err) {
        this.#error = err
      }
    })
  }

  async #writeHeader(dataBytes: number): Promise<void> {
    writeHeaderInto(this.#header, this.sampleRateHz, this.channels, dataBytes)
    await this.#writeFully(this.#header, HEADER_BYTES, 0)
    this.#bytesInHeader = dataBytes
  }

  async #writeFully(buffer: Buffer, length: number, position: number): Promise<void> {
    let done = 0
    while (done < length) {
      const { bytesWritten } = await this.#file!.write(buffer, done, length - done, position + done)
      done += bytesWritten
    }
  }
}

/** Fills `header` (44 bytes) with a canonical PCM 16-bit WAV header. */
export function writeHeaderInto(header: Buffer, sampleRateHz: number, channels: number, dataBytes: number): void {
  const blockAlign = channels * BYTES_PER_SAMPLE
  header.write('RIFF', 0, 'ascii')
  header.writeUInt32LE(36 + dataBytes, 4)
  header.write('WAVE', 8, 'ascii')
  header.write('fmt ', 12, 'ascii')
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20)
  header.writeUInt16LE(channels, 22)
  header.writeUInt32LE(sampleRateHz, 24)
  header.writeUInt32LE(sampleRateHz * blockAlign, 28)
  header.writeUInt16LE(blockAlign, 32)
  header.writeUInt16LE(BYTES_PER_SAMPLE * 8, 34)
  header.write('data', 36, 'ascii')
  header.writeUInt32LE(dataBytes, 40)
}

/**
 * Makes a WAV file's RIFF and data sizes agree with its length, as after a crash: the data chunk
 * is taken to run to the end of the file, cut to whole sample frames. Chunks after the data chunk
 * are respected when the declared size points at a valid one.
 */
export async function repairWav(path: string): Promise<{ repaired: boolean; durationMs: number }> {
  const file = await open(path, 'r+')
  try {
    const fileBytes = (await file.stat()).size
    const head = Buffer.alloc(Math.min(fileBytes, 64 * 1024))
    await file.read(head, 0, head.length, 0)
    if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
      throw new CallbenchError('bad_request', 'Not a RIFF/WAVE file')
    }
    let byteRate = 0
    let blockAlign = 0
    let offset = 12
    while (offset + 8 <= head.length) {
      const id = head.toString('ascii', offset, offset + 4)
      const size = head.readUInt32LE(offset + 4)
      if (id === 'fmt ' && offset + 24 <= head.length) {
        byteRate = head.readUInt32LE(offset + 16)
        blockAlign = head.readUInt16LE(offset + 20)
      }
      if (id === 'data') break
      offset += 8 + size + (size & 1)
    }
    if (
      offset + 8 > head.length ||
      head.toString('ascii', offset, offset + 4) !== 'data' ||
      blockAlign === 0 ||
      byteRate === 0
    ) {
      throw new CallbenchError('bad_request', 'WAV file has no readable fmt and data chunks')
    }
    const dataStart = offset + 8
    const declared = head.readUInt32LE(offset + 4)
    const available = Math.max(0, fileBytes - dataStart)
    let dataBytes = Math.min(available, MAX_DATA_BYTES)
    dataBytes -= dataBytes % blockAlign
    if (declared <= available && declared % blockAlign === 0) {
      const riffAgrees = head.readUInt32LE(4) === fileBytes - 8
      if (
        (declared === available && riffAgrees) ||
        (await validChunkAt(file, dataStart + declared + (declared & 1), fileBytes))
      ) {
        return { repaired: false, durationMs: (declared * 1000) / byteRate }
      }
    }
    const sizes = Buffer.alloc(4)
    sizes.writeUInt32LE(dataBytes, 0)
    await file.write(sizes, 0, 4, offset + 4)
    sizes.writeUInt32LE(dataStart - 8 + dataBytes, 0)
    await file.write(sizes, 0, 4, 4)
    if (dataStart + dataBytes < fileBytes) await file.truncate(dataStart + dataBytes)
    return { repaired: true, durationMs: (dataBytes * 1000) / byteRate }
  } finally {
    await file.close()
  }
}

// A chunk header: four printable ASCII characters and a size that fits in the file.
async function validChunkAt(file: FileHandle, at: number, fileBytes: number): Promise<boolean> {
  if (at + 8 > fileBytes) return false
  const b = Buffer.alloc(8)
  await file.read(b, 0, 8, at)
  for (let i = 0; i < 4; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false
  return at + 8 + b.readUInt32LE(4) <= fileBytes
}
