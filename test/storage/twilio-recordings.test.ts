import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import twilio from 'twilio'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/main/log.js'
import { recordsOf } from '../../src/main/server/routes/records.js'
import { CallStore } from '../../src/main/storage/call-store.js'
import { digestFile, putObject, verifyObject } from '../../src/main/storage/s3-objects.js'
import { TwilioRecordingArchiver, type TwilioAccess } from '../../src/main/storage/twilio-recordings.js'
import { S3Server } from '../fakes/s3-server.js'
import { startTestApp } from '../support/app.js'
import { readS3Object, s3ClientFor, s3TargetFor } from '../support/s3.js'
import { FakeTwilioRecordings } from './fake-twilio-recordings.js'

const log = createLogger({ level: 'silent' })
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex')
const CALL_SID = 'CA' + 'ab'.repeat(16)

describe('Twilio recordings: downloaded, copied to S3, verified, only then deleted from Twilio', () => {
  let s3: S3Server
  let fake: FakeTwilioRecordings
  let dir: string

  beforeAll(async () => {
    s3 = await S3Server.start()
  })
  afterAll(async () => {
    await s3.dispose()
  })
  beforeEach(async () => {
    fake = await FakeTwilioRecordings.start()
    dir = mkdtempSync(join(tmpdir(), 'callbench-twrec-'))
  })
  afterEach(async () => {
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The object, or undefined while it is not there. */
  const s3Object = (key: string): Promise<Buffer | undefined> => readS3Object(s3, key).catch(() => undefined)

  const target = () => s3TargetFor(s3, 'rec')

  /** The real twilio SDK, re-pointed at the fake (PROTOCOLS §2.1 a). */
  function access(): TwilioAccess {
    const client = twilio(fake.accountSid, fake.authToken)
    client.api.baseUrl = fake.baseUrl
    return {
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      baseUrl: fake.baseUrl,
      removeRecording: async (sid) => void (await client.recordings(sid).remove())
    }
  }

  it('through the app: the twilio.recording event moves the recording to S3 and deletes it from Twilio after the check', async () => {
    const audio = randomBytes(300_000)
    const sid = fake.addRecording(audio)
    let copyAtDelete: Buffer | undefined
    let expectedKey = ''
    fake.onDelete = async () => {
      copyAtDelete = await s3Object(expectedKey)
    }
    const testApp = await startTestApp({
      dataDir: dir,
      fakes: { twilio: fake, s3 },
      env: { S3_BUCKET: 'callbench', S3_PREFIX: 'rec', S3_FORCE_PATH_STYLE: 'true' }
    })
    const app = testApp.app
    try {
      const records = recordsOf(app)!
      const day = new Date()
      const ymd = `${day.getUTCFullYear()}/${String(day.getUTCMonth() + 1).padStart(2, '0')}/${String(day.getUTCDate()).padStart(2, '0')}`
      expectedKey = `rec/${ymd}/${CALL_SID}/twilio-${sid}.wav`
      app.hub.publish({
        type: 'twilio.recording',
        callSid: CALL_SID,
        recordingSid: sid,
        recordingUrl: fake.recordingUrl(sid),
        status: 'completed'
      })
      await expect
        .poll(() => records.store.getTwilioRecording(sid)?.state, { timeout: 20_000, interval: 25 })
        .toBe('done')
      expect(fake.deletes()).toHaveLength(1)
      // When Twilio was asked to delete, the S3 copy was already there and whole.
      expect(copyAtDelete && sha(copyAtDelete)).toBe(sha(audio))
      expect(fake.recordings.has(sid)).toBe(false)
      const download = fake.requests.find((r) => r.method === 'GET' && r.path.endsWith(`${sid}.wav`))!
      expect(download.authorized).toBe(true)
      expect(fake.requests.some((r) => r.path === `/signed/${sid}`)).toBe(true)
    } finally {
      await testApp.stop()
    }
  })

  it('never deletes while S3 is down; retries, and deletes once the copy is verified', async () => {
    const audio = randomBytes(120_000)
    const sid = fake.addRecording(audio)
    const store = CallStore.open({ path: join(dir, 'calls.db') })
    let deleteSawCopy: boolean | undefined
    fake.onDelete = async () => {
      const key = store.getTwilioRecording(sid)?.s3Key
      deleteSawCopy = !!key && sha((await s3Object(key)) ?? Buffer.alloc(0)) === sha(audio)
    }
    await s3.kill()
    const archiver = new TwilioRecordingArchiver({
      store,
      dataDir: dir,
      log,
      twilio: async () => access(),
      target: async () => target(),
      maxAttempts: 50,
      retryDelayMs: () => 100
    })
    try {
      const first = await archiver.handle({
        callSid: CALL_SID,
        recordingSid: sid,
        recordingUrl: fake.recordingUrl(sid)
      })
      // Downloaded, but the upload failed: the Twilio copy stays.
      expect(first.state).toBe('downloaded')
      expect(first.error).toBeTruthy()
      expect(fake.deletes()).toHaveLength(0)
      await expect
        .poll(() => store.getTwilioRecording(sid)!.attempts, { timeout: 20_000, interval: 20 })
        .toBeGreaterThanOrEqual(3)
      expect(fake.deletes()).toHaveLength(0)
      await s3.restart()
      await expect.poll(() => store.getTwilioRecording(sid)?.state, { timeout: 30_000, interval: 25 }).toBe('done')
      expect(fake.deletes()).toHaveLength(1)
      expect(deleteSawCopy).toBe(true)
    } finally {
      await archiver.close()
      store.close()
      if (!s3.running) await s3.restart()
    }
  })

  it('keeps the Twilio copy when the download is truncated or refused', async () => {
    const store = CallStore.open({ path: join(dir, 'calls.db') })
    const archiver = new TwilioRecordingArchiver({
      store,
      dataDir: dir,
      log,
      twilio: async () => access(),
      target: async () => target(),
      maxAttempts: 1
    })
    try {
      fake.truncate = true
      const a = fake.addRecording(randomBytes(50_000))
      const ra = await archiver.handle({ callSid: CALL_SID, recordingSid: a })
      expect(ra.state).toBe('failed')
      expect(ra.error).toMatch(/broke off|truncated/)
      fake.truncate = false
      fake.mediaStatus = 404
      const b = fake.addRecording(randomBytes(1000))
      const rb = await archiver.handle({ callSid: CALL_SID, recordingSid: b })
      expect(rb).toMatchObject({ state: 'failed', error: 'Twilio recording download answered HTTP 404' })
      expect(fake.deletes()).toHaveLength(0)
      expect(fake.recordings.size).toBe(2)
      expect(() => archiver.handle({ callSid: CALL_SID, recordingSid: 'RE../../etc' })).toThrow(/RecordingSid/)
    } finally {
      await archiver.close()
      store.close()
    }
  })

  it('verification compares size, ETag (single and multipart) and sha256 metadata with the local file', async () => {
    const { writeFileSync } = await import('node:fs')
    const path = join(dir, 'x.wav')
    const bytes = randomBytes(6 * 1024 * 1024)
    writeFileSync(path, bytes)
    const client = s3ClientFor(s3, { requestChecksumCalculation: 'WHEN_REQUIRED' })
    try {
      const digest = await digestFile(path)
      await putObject({
        client,
        bucket: 'callbench',
        key: 'v/x.wav',
        body: { path },
        contentType: 'audio/wav',
        metadata: { sha256: digest.sha256Hex }
      })
      await verifyObject(client, 'callbench', 'v/x.wav', digest)
      const other = Buffer.from(bytes)
      other[100] = other[100]! ^ 0xff
      writeFileSync(path, other)
      const wrong = await digestFile(path)
      await expect(verifyObject(client, 'callbench', 'v/x.wav', wrong)).rejects.toThrow(/does not match/)
      await expect(
        verifyObject(client, 'callbench', 'v/x.wav', { ...digest, bytes: digest.bytes + 1 })
      ).rejects.toThrow(/bytes, expected/)
    } finally {
      client.destroy()
    }
  })
})
