import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { elevenLabsFrom } from '../../src/main/speech/elevenlabs-client.js'
import { ScribeTranscriber } from '../../src/main/speech/stt.js'
import { FakeElevenLabs } from '../fakes/elevenlabs.js'
import { loadSpeechClips } from '../fakes/twilio-media-sim.js'

describe('Scribe speech to text per turn (real SDK against the fake)', () => {
  let fake: FakeElevenLabs
  const clip = loadSpeechClips()[0]!
  /** The clips open with 500 ms of silence. */
  const SOUND_AT = 4000
  const connect = () =>
    elevenLabsFrom({
      secrets: { get: async () => fake.apiKey },
      config: (n) => (n === 'ELEVENLABS_BASE_URL' ? fake.url : undefined)
    })

  beforeAll(async () => {
    fake = await FakeElevenLabs.start({ transcribe: ({ audio, via }) => `${via}:${audio.length}` })
  })
  afterAll(async () => {
    await fake.stop()
  })

  /** The clip as a turn: a preroll, then 20 ms frames. */
  function speak(stt: ScribeTranscriber): void {
    stt.begin(clip.audio.subarray(0, 800))
    for (let off = 800; off < clip.audio.length; off += 160) stt.push(clip.audio.subarray(off, off + 160))
  }

  it('streams the turn over the realtime socket (μ-law 8 kHz, manual commit) and commits at its end', async () => {
    const stt = new ScribeTranscriber(connect)
    stt.warm()
    const session = await new Promise<(typeof fake.stt.sessions)[number]>((resolve) =>
      fake.stt.once('session', resolve)
    )
    speak(stt)
    const t = await stt.finish()
    expect(t).toEqual({ text: `realtime:${clip.audio.length}`, via: 'realtime' })
    expect(session.query).toMatchObject({
      model_id: 'scribe_v2_realtime',
      audio_format: 'ulaw_8000',
      commit_strategy: 'manual'
    })
    expect(session.commits).toBe(1)
    expect(session.audioBytes).toBe(clip.audio.length)
    // A second turn on the same socket carries only its own audio (speech: a commit of silence transcribes to '').
    stt.begin(clip.audio.subarray(SOUND_AT, SOUND_AT + 1600))
    expect((await stt.finish()).text).toBe('realtime:1600')
    expect(fake.stt.sessions.filter((s) => s === session)).toHaveLength(1)
    stt.close()
  })

  /** A turn begun (a 100 ms preroll) on a session open on our side too: the preroll goes out once it is. */
  async function begun(stt: ScribeTranscriber) {
    stt.warm()
    const session = await new Promise<(typeof fake.stt.sessions)[number]>((resolve) =>
      fake.stt.once('session', resolve)
    )
    const preroll = new Promise((resolve) => fake.stt.once('chunk', resolve))
    stt.begin(clip.audio.subarray(0, 800))
    await preroll
    return session
  }

  it('streams an open session the turn in 100 ms pieces, and the rest just before the commit', async () => {
    const stt = new ScribeTranscriber(connect)
    const session = await begun(stt)
    expect(session.chunks).toBe(1)
    const frames = 23
    let received = 0
    fake.stt.on('chunk', () => received++)
    for (let f = 0; f < frames; f++) stt.push(clip.audio.subarray(800 + f * 160, 960 + f * 160))
    const t = await stt.finish()
    // 23 frames: four whole pieces of five frames, then three frames flushed by finish() ahead of the commit.
    expect(received).toBe(5)
    expect(session.audioBytes).toBe(800 + frames * 160)
    expect(t.text).toBe(`realtime:${800 + frames * 160}`)
    fake.stt.removeAllListeners('chunk')
    stt.close()
  })

  it('falls back to a batch upload of the whole turn when the realtime commit fails', async () => {
    fake.stt.commitError = 'transcriber crashed'
    try {
      const stt = new ScribeTranscriber(connect)
      const fallbacks: string[] = []
      stt.on('fallback', (e) => fallbacks.push(e.code))
      stt.warm()
      await new Promise((resolve) => fake.stt.once('session', resolve))
      speak(stt)
      const t = await stt.finish()
      expect(t.via).toBe('batch')
      expect(fallbacks).toEqual(['upstream_failed'])
      const batch = fake.stt.batches.at(-1)!
      expect(batch.fields).toMatchObject({ model_id: 'scribe_v2', file_format: 'other' })
      // The upload is the turn as a μ-law WAV: 58-byte header, then every byte of the turn.
      expect(batch.fileBytes).toBe(58 + clip.audio.length)
      expect(t.text).toBe(`batch:${58 + clip.audio.length}`)
      stt.close()
    } finally {
      fake.stt.commitError = undefined
    }
  })

  describe('checkpoints (the early reply transcribes a turn before it ends)', () => {
    const half = SOUND_AT + 160 * 20

    it('commits the turn so far, then finish commits only the rest and returns the whole turn', async () => {
      const stt = new ScribeTranscriber(connect)
      const session = await begun(stt)
      for (let off = 800; off < half; off += 160) stt.push(clip.audio.subarray(off, off + 160))
      expect(await stt.checkpoint()).toBe(`realtime:${half}`)
      // A second checkpoint with nothing new commits nothing.
      expect(await stt.checkpoint()).toBe(`realtime:${half}`)
      expect(session.commits).toBe(1)
      for (let off = half; off < clip.audio.length; off += 160) stt.push(clip.audio.subarray(off, off + 160))
      expect(await stt.finish()).toEqual({
        text: `realtime:${half} realtime:${clip.audio.length - half}`,
        via: 'realtime'
      })
      expect(session.commits).toBe(2)
      // Nothing after the checkpoint: its transcript is the turn's, without another commit.
      stt.begin(clip.audio.subarray(SOUND_AT, SOUND_AT + 1600))
      expect(await stt.checkpoint()).toBe('realtime:1600')
      expect(await stt.finish()).toEqual({ text: 'realtime:1600', via: 'realtime' })
      expect(session.commits).toBe(3)
      stt.close()
    })

    it('has no checkpoint before the realtime session is open, or outside a turn', async () => {
      const stt = new ScribeTranscriber(connect)
      expect(stt.checkpoint()).toBeUndefined()
      stt.begin(clip.audio.subarray(0, 800))
      expect(stt.checkpoint()).toBeUndefined()
      await stt.finish()
      expect(stt.checkpoint()).toBeUndefined()
      stt.close()
    })

    it('transcribes the whole turn again in batch when a checkpoint failed', async () => {
      const stt = new ScribeTranscriber(connect)
      await begun(stt)
      for (let off = 800; off < half; off += 160) stt.push(clip.audio.subarray(off, off + 160))
      fake.stt.commitError = 'transcriber crashed'
      try {
        await expect(stt.checkpoint()).rejects.toMatchObject({ code: 'upstream_failed' })
        for (let off = half; off < clip.audio.length; off += 160) stt.push(clip.audio.subarray(off, off + 160))
        const t = await stt.finish()
        expect(t).toEqual({ text: `batch:${58 + clip.audio.length}`, via: 'batch' })
      } finally {
        fake.stt.commitError = undefined
      }
      stt.close()
    })
  })

  it('uses batch alone in batch mode', async () => {
    const sessionsBefore = fake.stt.sessions.length
    const stt = new ScribeTranscriber(connect, { mode: 'batch', languageCode: 'en' })
    stt.warm()
    speak(stt)
    const t = await stt.finish()
    expect(t.via).toBe('batch')
    expect(fake.stt.batches.at(-1)!.fields.language_code).toBe('en')
    expect(fake.stt.sessions.length).toBe(sessionsBefore)
  })
})
