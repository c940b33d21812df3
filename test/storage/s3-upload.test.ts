import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { UploadState } from '../../src/shared/calls.js'
import { createLogger } from '../../src/main/log.js'
import { CallStore } from '../../src/main/storage/call-store.js'
import { CallUploader } from '../../src/main/storage/call-uploader.js'
import { MIN_PART_BYTES } from '../../src/main/storage/s3-objects.js'
import { S3Server } from '../fakes/s3-server.js'
import { readS3Object, s3TargetFor } from '../support/s3.js'

const log = createLogger({ level: 'silent' })
const STARTED_AT = '2026-03-14T23:59:58.000Z'

describe('CallUploader against s3rver in a child process', () => {
  let s3: S3Server
  let dir: string
  let store: CallStore
  let recording: Buffer

  beforeAll(async () => {
    s3 = await S3Server.start()
  })
  afterAll(async () => {
    await s3.dispose()
  })
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'callbench-up-'))
    store = CallStore.open({ path: join(dir, 'calls.db') })
    mkdirSync(join(dir, 'recordings'))
    // 2.4 parts of 5 MiB: a real multipart upload.
    recording = randomBytes(Math.round(MIN_PART_BYTES * 2.4))
    writeFileSync(join(dir, 'recordings', 'c1.wav'), recording)
    store.queueCall({ id: 'c1', direction: 'outbound', mode: 'echo', state: 'active', startedAt: STARTED_AT })
    store.queueTranscript('c1', { atMs: 500, role: 'caller', text: 'hello' })
    store.queueEnd({
      id: 'c1',
      direction: 'outbound',
      mode: 'echo',
      state: 'ended',
      startedAt: STARTED_AT,
      endedAt: '2026-03-15T00:00:30.000Z'
    })
    store.setRecording({
      callId: 'c1',
      path: join('recordings', 'c1.wav'),
      state: 'complete',
      bytes: recording.length,
      durationMs: 30_000,
      channels: 2,
      sampleRateHz: 8000
    })
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const target = () => s3TargetFor(s3, 'team/calls')

  function makeUploader(st: CallStore, states: UploadState[], onState?: (s: UploadState) => void): CallUploader {
    return new CallUploader({
      store: st,
      dataDir: dir,
      log,
      target: async () => target(),
      callDocument: (id) => ({ call: st.getCallSummary(id), note: 'call.json' }),
      transcriptDocument: (id) => ({ callId: id, segments: st.getTranscript(id) }),
      onState: (_id, s) => {
        states.push(s)
        onState?.(s)
      },
      maxAttempts: 20,
      retryDelayMs: () => 150,
      queueSize: 1
    })
  }

  function until(states: UploadState[], pred: (s: UploadState) => boolean, timeoutMs = 60_000): Promise<UploadState> {
    return expect
      .poll(() => states.find(pred), { timeout: timeoutMs, interval: 20 })
      .toBeDefined()
      .then(() => states.find(pred)!)
  }

  const getObject = (key: string) => readS3Object(s3, key)

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  const prefix = 'team/calls/2026/03/14/c1/'

  it('uploads recording.wav, transcript.json and call.json under {prefix}/{yyyy}/{mm}/{dd}/{callId}/ with progress', async () => {
    const states: UploadState[] = []
    const up = makeUploader(store, states)
    expect(up.enqueue('c1').state).toBe('queued')
    const done = await until(states, (s) => s.state === 'done')
    await up.close()
    expect(done.url).toBe(`${s3.endpoint}/callbench/${prefix}recording.wav`)
    expect(done.percent).toBe(100)
    const percents = states.filter((s) => s.state === 'uploading').map((s) => s.percent!)
    expect(percents.length).toBeGreaterThan(2)
    expect([...percents].sort((a, b) => a - b)).toEqual(percents)
    expect(sha(await getObject(prefix + 'recording.wav'))).toBe(sha(recording))
    expect(JSON.parse((await getObject(prefix + 'transcript.json')).toString())).toEqual({
      callId: 'c1',
      segments: [{ atMs: 500, role: 'caller', text: 'hello' }]
    })
    expect(JSON.parse((await getObject(prefix + 'call.json')).toString()).call.id).toBe('c1')
    expect(store.getUpload('c1')).toMatchObject({ state: 'done', attempts: 1 })
    expect(store.getCallSummary('c1')!.upload!.state).toBe('done')
  })

  it('retries when the server dies after the first part, and completes the object once it is back', async () => {
    const states: UploadState[] = []
    let killed: Promise<void> | undefined
    const up = makeUploader(store, states, (s) => {
      // The first part is in: pull the plug mid-upload.
      if (s.state === 'uploading' && (s.percent ?? 0) > 0 && !killed) killed = s3.kill()
    })
    up.enqueue('c1')
    const failed = await until(states, (s) => s.state === 'queued' && !!s.error)
    await killed
    expect(failed.error).toMatch(/attempt 1 failed/)
    await s3.restart()
    const done = await until(states, (s) => s.state === 'done')
    await up.close()
    expect(done.attempts).toBeGreaterThanOrEqual(2)
    expect(sha(await getObject(prefix + 'recording.wav'))).toBe(sha(recording))
  })

  it('resumes after an app restart: the half-done upload is taken up again from the log and completes', async () => {
    const states: UploadState[] = []
    let killed: Promise<void> | undefined
    const first = makeUploader(store, states, (s) => {
      if (s.state === 'uploading' && (s.percent ?? 0) > 0 && !killed) killed = s3.kill()
    })
    first.enqueue('c1')
    await until(states, (s) => s.state === 'queued' && !!s.error)
    await killed
    // The app stops while the store is still down.
    await first.close()
    store.close()
    const left = CallStore.open({ path: join(dir, 'calls.db') })
    const pending = left.getUpload('c1')!
    expect(['queued', 'uploading']).toContain(pending.state)
    // The multipart upload id was kept, so the next run can abort the leftover parts before starting again.
    expect(pending.multipart?.key).toBe(prefix + 'recording.wav')
    expect(pending.multipart?.uploadId).toMatch(/\w+/)

    await s3.restart()
    store = left
    const states2: UploadState[] = []
    const second = makeUploader(store, states2)
    expect(second.resume()).toBe(1)
    const done = await until(states2, (s) => s.state === 'done')
    await second.close()
    expect(done.attempts).toBeGreaterThanOrEqual(2)
    expect(store.getUpload('c1')!.multipart).toBeUndefined()
    expect(sha(await getObject(prefix + 'recording.wav'))).toBe(sha(recording))
  })

  it('fails with the reason after the last attempt, and a non-retryable error is not retried', async () => {
    const states: UploadState[] = []
    const up = new CallUploader({
      store,
      dataDir: dir,
      log,
      target: async () => ({ ...target(), bucket: 'no-such-bucket' }),
      callDocument: () => ({}),
      transcriptDocument: () => ({}),
      onState: (_id, s) => states.push(s),
      maxAttempts: 5,
      retryDelayMs: () => 10
    })
    up.enqueue('c1')
    const failed = await until(states, (s) => s.state === 'failed')
    await up.close()
    expect(failed.attempts).toBe(1)
    expect(failed.error).toMatch(/NoSuchBucket|404/)
  })
})
