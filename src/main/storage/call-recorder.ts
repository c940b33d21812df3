/** Records a call as a 2-channel WAV (caller left, agent right) on the caller's timeline, through the streaming WAV writer. */
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { CallRecorder } from '../calls/recorder.js'
import { WavWriter } from '../audio/wav-writer.js'

export const RECORDING_SAMPLE_RATE_HZ = 8000
export const RECORDING_CHANNELS = 2

export interface RecordingResult {
  bytes: number
  durationMs: number
  /** The first write error, if the file could not be written whole. */
  error?: unknown
}

/**
 * The session calls `write` once per 20 ms caller frame with the agent frame the caller heard at that moment
 * (undefined = nothing playing), so both channels advance together and the agent sits where it was heard.
 */
export class WavCallRecorder implements CallRecorder {
  readonly #writer: WavWriter
  readonly #onClose: ((r: RecordingResult) => void) | undefined
  #closed: Promise<void> | undefined

  private constructor(writer: WavWriter, onClose?: (r: RecordingResult) => void) {
    this.#writer = writer
    this.#onClose = onClose
  }

  static async open(path: string, onClose?: (r: RecordingResult) => void): Promise<WavCallRecorder> {
    await mkdir(dirname(path), { recursive: true })
    // One disk write a second per call, so a crash loses at most a second of audio. The header's sizes are
    // refreshed every 30 s only (two more writes each time, a thread-pool trip each): the next start repairs a stale
    // header from the file's length, so a stale header loses nothing.
    const writer = new WavWriter(path, {
      sampleRateHz: RECORDING_SAMPLE_RATE_HZ,
      channels: RECORDING_CHANNELS,
      flushEveryMs: 1000,
      headerEveryMs: 30_000
    })
    await writer.open()
    return new WavCallRecorder(writer, onClose)
  }

  get durationMs(): number {
    return this.#writer.durationMs
  }

  write(caller: Uint8Array, agent: Uint8Array | undefined): void {
    // Decoded on the way into the writer's own buffer: nothing allocated per frame.
    this.#writer.writeStereoUlaw(caller, agent)
  }

  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    let error: unknown
    try {
      await this.#writer.close()
    } catch (err) {
      error = err
    }
    const durationMs = this.#writer.durationMs
    const bytes = 44 + this.#writer.frames * RECORDING_CHANNELS * 2
    this.#onClose?.({ bytes, durationMs, ...(error !== undefined ? { error } : {}) })
    if (error !== undefined) throw error
  }
}
