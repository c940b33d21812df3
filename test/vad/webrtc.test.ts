import { describe, expect, it } from 'vitest'
import { CallbenchError } from '../../src/shared/errors.js'
import { createVad, type SpeechStartEvent } from '../../src/main/vad/index.js'
import { WebRtcVad, webRtcModeForThreshold } from '../../src/main/vad/webrtc.js'
import { loadClipPcm, pushInFrames, speechClips } from './speech-fixtures.js'

describe('WebRtcVad (fvad wasm under Node)', () => {
  it('says voice inside an utterance and no voice in the line noise after it', async () => {
    const clip = speechClips()[0]!
    const pcm = loadClipPcm(clip.file)
    const vad = await WebRtcVad.create({ mode: 2 })
    const decisions: number[] = []
    for (let i = 0; i + 160 <= pcm.length; i += 160) decisions.push(vad.process(pcm, i, 160))
    const frameAt = (ms: number) => Math.floor(ms / 20)
    const inside = decisions.slice(frameAt(clip.speechOnsetMs) + 2, frameAt(clip.speechOffsetMs) - 2)
    const after = decisions.slice(frameAt(clip.speechOffsetMs) + 15)
    expect(inside.filter((d) => d === 1).length / inside.length).toBeGreaterThan(0.9)
    expect(after.every((d) => d === 0)).toBe(true)
    vad.close()
  })

  it('takes 10, 20 and 30 ms frames and rejects other lengths', async () => {
    const vad = await WebRtcVad.create({ mode: 0 })
    const silence = new Int16Array(240)
    expect(vad.process(silence, 0, 80)).toBe(0)
    expect(vad.process(silence, 0, 160)).toBe(0)
    expect(vad.process(silence, 0, 240)).toBe(0)
    expect(() => vad.process(silence, 0, 100)).toThrow(CallbenchError)
    vad.close()
    expect(() => vad.process(silence, 0, 160)).toThrow(/after close/)
  })

  it('rejects a mode outside 0–3', async () => {
    await expect(WebRtcVad.create({ mode: 7 as 0 })).rejects.toMatchObject({ code: 'bad_request' })
  })

  it('maps the settings threshold onto the aggressiveness', () => {
    expect([0, 0.3, 0.5, 0.9].map(webRtcModeForThreshold)).toEqual([0, 1, 2, 3])
  })
})

describe('createVad webrtc on the speech fixtures', () => {
  for (const clip of speechClips()) {
    it(`finds "${clip.text}" within 100 ms of the measured onset`, async () => {
      const vad = createVad({ method: 'webrtc', threshold: 0.5, minSpeechMs: 150, silenceMs: 500, preSpeechPadMs: 300 })
      const starts: SpeechStartEvent[] = []
      let ends = 0
      vad.on('speechStart', (e) => starts.push(e))
      vad.on('speechEnd', () => ends++)
      pushInFrames(vad, loadClipPcm(clip.file))
      await vad.drained()
      expect(vad.method).toBe('webrtc')
      expect(starts).toHaveLength(1)
      expect(Math.abs(starts[0]!.onsetMs - clip.speechOnsetMs)).toBeLessThanOrEqual(100)
      expect(ends).toBe(1)
      vad.close()
    })
  }
})
