import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CallDetailSchema } from '../../src/shared/api.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { parseWav } from './wav.js'

const here = dirname(fileURLToPath(import.meta.url))

describe('the app killed in the middle of a call', () => {
  let dataDir: string
  let restarted: TestApp | undefined

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'callbench-crash-'))
  })
  afterAll(async () => {
    await restarted?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('on the next start the recording plays (header repaired, parses) and the call is marked interrupted', async () => {
    // The app in its own process, as `callbench serve` runs it.
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'app-child.ts'), dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(here, '..', '..')
    })
    const exited = new Promise<string | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', () => reject(new Error('app child exited before listening')))
      createInterface({ input: child.stdout! }).once('line', (line) =>
        resolve((JSON.parse(line) as { controlPort: number }).controlPort)
      )
    })

    const id = 'crash-call'
    const sim = new TwilioMediaSim({
      url: `ws://127.0.0.1:${port}/api/media?token=t`,
      customParameters: { mode: 'echo', vad: 'energy', callId: id }
    })
    await sim.connect()
    void sim.play([
      { ...speechOf(loadSpeechClips()[0]!), label: 'turn' },
      { kind: 'silence', durationMs: 20_000 }
    ])
    // Four seconds into the call (greeting and caller audio recorded), pull the plug.
    await expect.poll(() => sim.stats().framesSent, { timeout: 20_000, interval: 10 }).toBeGreaterThanOrEqual(200)
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    await sim.whenClosed()
    const sentMs = sim.stats().framesSent * 20

    // The file as the crash left it: its header's sizes lag the data by up to 30 s of audio (the writer refreshes
    // them that often), unless the kill fell just after a refresh.
    const raw = readFileSync(join(dataDir, 'recordings', `${id}.wav`))
    expect(raw.length).toBeGreaterThan(44 + 2 * 8000 * 4)
    expect(raw.readUInt32LE(40)).toBeLessThanOrEqual(raw.length - 44)

    restarted = await startTestApp({ dataDir })
    const get = (p: string) => fetch(`${restarted!.url}${p}`, { headers: { authorization: 'Bearer t' } })
    const detail = CallDetailSchema.parse(await (await get(`/api/calls/${id}`)).json())
    expect(detail.call).toMatchObject({ id, state: 'ended', outcome: 'interrupted', endReason: 'interrupted' })
    expect(detail.recording?.repaired).toBe(true)
    expect(detail.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['call.start', 'call.interrupted']))

    const wav = parseWav(Buffer.from(await (await get(`/api/calls/${id}/recording`)).arrayBuffer()))
    expect(wav.channels).toBe(2)
    expect(wav.sampleRateHz).toBe(8000)
    // Everything that reached the disk is kept (16-bit stereo at 8 kHz: 32 bytes a ms), and the disk had all but
    // the writer's one-second buffer and the frames in flight.
    expect(wav.durationMs).toBe((raw.length - 44) / 32)
    expect(wav.durationMs).toBeGreaterThan(sentMs - 1300)
    expect(wav.durationMs).toBeLessThanOrEqual(sentMs)
    expect(detail.recording!.durationMs).toBe(wav.durationMs)
    expect(detail.call.durationMs).toBeGreaterThanOrEqual(wav.durationMs)
    // Caller audio and the agent's greeting both made it into the file.
    let left = 0
    let right = 0
    for (let i = 0; i < wav.frames; i++) {
      left = Math.max(left, Math.abs(wav.samples[i * 2]!))
      right = Math.max(right, Math.abs(wav.samples[i * 2 + 1]!))
    }
    expect(left).toBeGreaterThan(1000)
    expect(right).toBeGreaterThan(1000)
  }, 120_000)
})
