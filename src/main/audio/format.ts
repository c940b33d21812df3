/** Audio formats spoken between the bridge and the engines. */
export type AudioEncoding = 'pcmu' | 'pcma' | 'pcm16'

/** Mono audio; pcm16 is little-endian signed 16 bit. */
export interface AudioFormat {
  readonly encoding: AudioEncoding
  readonly sampleRateHz: 8000 | 16000 | 24000 | 48000
}

/** What Twilio speaks: μ-law, 8 kHz, mono. */
export const TWILIO_FORMAT: AudioFormat = { encoding: 'pcmu', sampleRateHz: 8000 }

/** 20 ms of μ-law at 8 kHz. */
export const TWILIO_FRAME_BYTES = 160
export const TWILIO_FRAME_MS = 20

export function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.encoding === b.encoding && a.sampleRateHz === b.sampleRateHz
}

export function bytesPerMs(f: AudioFormat): number {
  return (f.sampleRateHz / 1000) * (f.encoding === 'pcm16' ? 2 : 1)
}
