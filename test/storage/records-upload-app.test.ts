import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import { UploadResponseSchema } from '../../src/shared/api.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { S3Server } from '../fakes/s3-server.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { readS3Object } from '../support/s3.js'
import { parseWav } from './wav.js'

describe('S3 upload of call records through the app (settings.s3 + environment)', () => {
  let s3: S3Server
  let testApp: TestApp
  let app: App
  let events: ServerEvent[]
  const post = (path: string) =>
    fetch(`${testApp.url}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer t' }
    })

  beforeAll(async () => {
    s3 = await S3Server.start()
    testApp = await startTestApp({ fakes: { s3 }, env: { S3_BUCKET: 'callbench', AWS_REGION: 'eu-west-1' } })
    ;({ app, events } = testApp)
    await app.settings.update({
      s3: { ...app.settings.get().s3, prefix: 'qa', forcePathStyle: true, autoUpload: true }
    })
  })
  afterAll(async () => {
    await testApp.stop()
    await s3.dispose()
  })

  const object = (key: string) => readS3Object(s3, key, { region: 'eu-west-1' })

  it('uploads automatically after a call, with upload.progress events to the console, and again by hand', async () => {
    const id = 'up-call'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'echo', vad: 'energy', callId: id }
    })
    await sim.connect()
    await sim.play([
      { ...speechOf(loadSpeechClips()[1]!), label: 'turn' },
      { kind: 'silence', durationMs: 1500 }
    ])
    await sim.hangup()

    const done = () =>
      events.find(
        (e): e is Extract<ServerEvent, { type: 'upload.progress' }> =>
          e.type === 'upload.progress' && e.callId === id && e.upload.state === 'done'
      )
    await expect.poll(done, { timeout: 20_000, interval: 25 }).toBeDefined()
    const progress = events
      .filter((e) => e.type === 'upload.progress' && e.callId === id)
      .map((e) => (e as { upload: { state: string } }).upload.state)
    expect(progress[0]).toBe('queued')
    expect(progress).toContain('uploading')

    const day = new Date()
    const prefix = `qa/${day.getUTCFullYear()}/${String(day.getUTCMonth() + 1).padStart(2, '0')}/${String(day.getUTCDate()).padStart(2, '0')}/${id}/`
    expect(done()!.upload.url).toBe(`${s3.endpoint}/callbench/${prefix}recording.wav`)
    const wav = parseWav(await object(prefix + 'recording.wav'))
    expect(wav.channels).toBe(2)
    const callJson = JSON.parse((await object(prefix + 'call.json')).toString()) as Record<string, unknown>
    expect(callJson).toMatchObject({
      call: { id, state: 'ended', mode: 'echo' },
      settings: { vad: { method: 'energy' } }
    })
    expect((callJson.turns as unknown[]).length).toBeGreaterThanOrEqual(1)
    expect((callJson.timeline as Array<{ kind: string }>).map((t) => t.kind)).toContain('call.end')
    const transcript = JSON.parse((await object(prefix + 'transcript.json')).toString()) as { segments: unknown[] }
    expect(transcript.segments.length).toBeGreaterThanOrEqual(1)

    const again = await post(`/api/calls/${id}/upload`)
    expect(again.status).toBe(202)
    expect(UploadResponseSchema.parse(await again.json()).upload.state).toBe('queued')
    await expect
      .poll(
        () => events.filter((e) => e.type === 'upload.progress' && e.callId === id && e.upload.state === 'done').length,
        { timeout: 20_000 }
      )
      .toBe(2)
    expect((await post('/api/calls/nope/upload')).status).toBe(404)
  })

  it('answers 422 when no bucket is configured anywhere', async () => {
    const bare = await startTestApp()
    try {
      const records = (await import('../../src/main/server/routes/records.js')).recordsOf(bare.app)!
      records.store.queueCall({
        id: 'x',
        direction: 'loopback',
        mode: 'echo',
        state: 'active',
        startedAt: new Date().toISOString()
      })
      records.store.queueEnd({
        id: 'x',
        direction: 'loopback',
        mode: 'echo',
        state: 'ended',
        startedAt: new Date().toISOString()
      })
      const res = await fetch(`${bare.url}/api/calls/x/upload`, {
        method: 'POST',
        headers: { authorization: 'Bearer t' }
      })
      expect(res.status).toBe(422)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_configured')
    } finally {
      await bare.stop()
    }
  })
})
