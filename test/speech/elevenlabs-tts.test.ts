import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CallbenchError } from '../../src/shared/errors.js'
import { VoiceSettingsSchema } from '../../src/shared/settings.js'
import { elevenLabsError, elevenLabsFrom, wsBaseOf } from '../../src/main/speech/elevenlabs-client.js'
import { TtsInputStream, streamSpeech, synthesize, wrapWav, type TtsAlignment } from '../../src/main/speech/elevenlabs-tts.js'
import { FakeElevenLabs, tone } from '../fakes/elevenlabs.js'
import { secretsWith } from '../agents/elevenlabs-harness.js'

let fake: FakeElevenLabs

beforeEach(async () => {
  fake = await FakeElevenLabs.start({ pingIntervalMs: 0, ttsMsPerChar: 40, ttsChunkMs: 100, ttsChunkIntervalMs: 5 })
})
afterEach(async () => {
  await fake.stop()
})

function source(key: string | undefined = undefined) {
  return {
    secrets: secretsWith(key === undefined ? { ELEVENLABS_API_KEY: fake.apiKey } : key ? { ELEVENLABS_API_KEY: key } : {}),
    config: (name: string) => (name === 'ELEVENLABS_BASE_URL' ? fake.url : undefined)
  }
}

const VOICE = 'voice-rachel'

describe('ElevenLabs client', () => {
  it('refuses without a key, naming it', async () => {
    const err = (await elevenLabsFrom(source('')).catch((e: unknown) => e)) as CallbenchError
    expect(err.code).toBe('not_configured')
    expect(err.field).toBe('ELEVENLABS_API_KEY')
  })

  it('derives the WebSocket base from the HTTP base', () => {
    expect(wsBaseOf('http://127.0.0.1:9')).toBe('ws://127.0.0.1:9')
    expect(wsBaseOf('https://api.example.test')).toBe('wss://api.example.test')
  })

  it('maps an upstream 401 to upstream_failed, never to our own unauthorized', async () => {
    const conn = await elevenLabsFrom(source('wrong-key'))
    const err = await conn.client.voices.getAll().catch((e: unknown) => elevenLabsError(e, 'the voice list'))
    expect(err).toBeInstanceOf(CallbenchError)
    expect((err as CallbenchError).code).toBe('upstream_failed')
    expect((err as CallbenchError).message).toContain('401')
  })
})

describe('TTS REST stream', () => {
  it('streams raw μ-law for ulaw_8000 in chunks, with the voice settings on the wire', async () => {
    const conn = await elevenLabsFrom(source())
    const settings = VoiceSettingsSchema.parse({ stability: 0.2, similarityBoost: 0.7, style: 0.3, speakerBoost: false, speed: 1.15 })
    const chunks: Uint8Array[] = []
    const text = 'Hello from the operator.' // 24 chars × 40 ms = 960 ms
    for await (const c of await streamSpeech(conn, { voiceId: VOICE, text, outputFormat: 'ulaw_8000', voiceSettings: settings })) chunks.push(c)
    const audio = Buffer.concat(chunks)
    expect(audio.length).toBe(960 * 8)
    expect(audio.subarray(0, 800).equals(tone('ulaw_8000', 100).bytes)).toBe(true)
    expect(chunks.length).toBeGreaterThan(1)
    const rec = fake.tts.at(-1)!
    expect(rec.kind).toBe('stream')
    expect(rec.query).toMatchObject({ output_format: 'ulaw_8000', optimize_streaming_latency: '3' })
    expect(rec.body).toMatchObject({
      text,
      model_id: 'eleven_flash_v2_5',
      voice_settings: { stability: 0.2, similarity_boost: 0.7, style: 0.3, use_speaker_boost: false, speed: 1.15 }
    })
  })

  it('rejects an unknown voice before any audio, naming it', async () => {
    const conn = await elevenLabsFrom(source())
    const err = (await streamSpeech(conn, { voiceId: 'nope', text: 'Hi', outputFormat: 'ulaw_8000' }).catch((e: unknown) => e)) as CallbenchError
    expect(err.code).toBe('not_found')
    expect(err.message).toContain("voice 'nope'")
    expect(err.field).toBe('voiceId')
  })

  it('refuses empty text without a request', async () => {
    const conn = await elevenLabsFrom(source())
    const err = (await streamSpeech(conn, { voiceId: VOICE, text: '  ', outputFormat: 'mp3_44100_128' }).catch((e: unknown) => e)) as CallbenchError
    expect(err.code).toBe('bad_request')
    expect(fake.tts).toHaveLength(0)
  })

  it('stops the upstream stream when aborted', async () => {
    const conn = await elevenLabsFrom(source())
    const abort = new AbortController()
    const audio = await streamSpeech(conn, { voiceId: VOICE, text: 'x'.repeat(200), outputFormat: 'ulaw_8000', signal: abort.signal })
    let got = 0
    const done = (async () => {
      try {
        for await (const c of audio) {
          got += c.length
          if (got >= 800) abort.abort()
        }
      } catch (err) {
        return err
      }
      return undefined
    })()
    await done
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (fake.tts[0]?.aborted) {
          clearInterval(t)
          resolve()
        }
      }, 5)
    })
    expect(fake.tts[0]!.done).toBe(false)
    expect(fake.tts[0]!.bytesSent).toBeLessThan(200 * 40 * 8)
  })

  it('reports a stream the upstream drops midway as an error', async () => {
    const conn = await elevenLabsFrom(source())
    fake.ttsBehaviour = 'drop'
    const audio = await streamSpeech(conn, { voiceId: VOICE, text: 'x'.repeat(100), outputFormat: 'ulaw_8000' })
    const err = await (async () => {
      try {
        for await (const _ of audio) void _
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(CallbenchError)
  })

  it('synthesizes mp3 whole', async () => {
    const conn = await elevenLabsFrom(source())
    const mp3 = await synthesize(conn, { voiceId: VOICE, text: 'A sample sentence.', outputFormat: 'mp3_44100_128' })
    expect(mp3[0]).toBe(0xff)
    expect(mp3[1]! & 0xe0).toBe(0xe0)
    expect(fake.tts.at(-1)!.query.output_format).toBe('mp3_44100_128')
  })
})

describe('WAV wrapping', () => {
  it('writes a PCM header a parser reads back', () => {
    const wav = wrapWav(new Uint8Array(3200), { encoding: 'pcm16', sampleRateHz: 16000 })
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF')
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8)
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ')
    expect(wav.readUInt16LE(20)).toBe(1)
    expect(wav.readUInt16LE(22)).toBe(1)
    expect(wav.readUInt32LE(24)).toBe(16000)
    expect(wav.readUInt32LE(28)).toBe(32000)
    expect(wav.readUInt16LE(34)).toBe(16)
    expect(wav.toString('ascii', 36, 40)).toBe('data')
    expect(wav.readUInt32LE(40)).toBe(3200)
    expect(wav.length).toBe(44 + 3200)
  })

  it('writes a μ-law header with its fact chunk', () => {
    const wav = wrapWav(new Uint8Array(800), { encoding: 'pcmu', sampleRateHz: 8000 })
    expect(wav.readUInt32LE(16)).toBe(18)
    expect(wav.readUInt16LE(20)).toBe(7)
    expect(wav.readUInt16LE(34)).toBe(8)
    expect(wav.toString('ascii', 38, 42)).toBe('fact')
    expect(wav.readUInt32LE(46)).toBe(800)
    expect(wav.toString('ascii', 50, 54)).toBe('data')
    expect(wav.readUInt32LE(54)).toBe(800)
    expect(wav.length).toBe(58 + 800)
  })
})

describe('TTS stream-input WebSocket', () => {
  it('sends init first, text and a close, and gets audio, alignment and isFinal', async () => {
    const conn = await elevenLabsFrom(source())
    const settings = VoiceSettingsSchema.parse({})
    const tts = await TtsInputStream.connect(conn, { voiceId: VOICE, outputFormat: 'ulaw_8000', voiceSettings: settings })
    const audio: Uint8Array[] = []
    const alignments: TtsAlignment[] = []
    tts.on('audio', (c) => audio.push(c))
    tts.on('alignment', (a) => alignments.push(a))
    const final = new Promise<void>((resolve) => tts.once('final', resolve))
    const closed = new Promise<void>((resolve) => tts.once('close', resolve))
    tts.sendText('Hello there.')
    tts.sendText('How are you')
    tts.end()
    await final
    await closed
    const rec = fake.ttsSockets[0]!
    expect(rec.query).toMatchObject({ output_format: 'ulaw_8000', model_id: 'eleven_flash_v2_5', auto_mode: 'true' })
    expect(rec.messages[0]).toEqual({
      text: ' ',
      voice_settings: { stability: 0.5, similarity_boost: 0.8, style: 0, use_speaker_boost: true, speed: 1 }
    })
    expect(rec.messages[1]).toEqual({ text: 'Hello there. ' })
    expect(rec.messages.at(-1)).toEqual({ text: '' })
    expect(rec.finalSent).toBe(true)
    // "Hello there." (12 chars) + "How are you" (11 chars) at 40 ms a character.
    expect(Buffer.concat(audio).length).toBe((12 + 11) * 40 * 8)
    expect(alignments[0]!.chars.join('')).toContain('Hello there.')
    expect(tts.closed).toBe(true)
  })

  it('generates what is buffered on flush and keeps the socket open', async () => {
    const conn = await elevenLabsFrom(source())
    const tts = await TtsInputStream.connect(conn, { voiceId: VOICE, outputFormat: 'pcm_16000', autoMode: false })
    const first = new Promise<Uint8Array>((resolve) => tts.once('audio', resolve))
    tts.sendText('No sentence end yet')
    tts.flush()
    expect((await first).length).toBe(100 * 32)
    expect(tts.closed).toBe(false)
    tts.close()
  })

  it('rejects connect for an unknown voice, naming it', async () => {
    const conn = await elevenLabsFrom(source())
    const err = (await TtsInputStream.connect(conn, { voiceId: 'nope', outputFormat: 'ulaw_8000' }).catch((e: unknown) => e)) as CallbenchError
    expect(err.code).toBe('not_found')
    expect(err.message).toContain("'nope'")
  })
})
