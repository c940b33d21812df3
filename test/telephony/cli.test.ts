// CLI call/status/hangup/list: through a running app found by its runtime file, and straight to (fake) Twilio without one.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS, EXIT, type CliIo } from '../../src/main/cli-commands.js'
import { writeRuntimeFile } from '../../src/main/runtime-file.js'
import { startHarness, PUBLIC_URL, type Harness } from './harness.js'

const CALLEE = '+15557654321'

function io(env: Record<string, string | undefined> = {}): CliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    env,
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t)
  }
  return o
}

describe('CLI against a running app', () => {
  let h: Harness
  let dataDir: string
  beforeAll(async () => {
    h = await startHarness()
    dataDir = h.dataDir
    await writeRuntimeFile(dataDir, { controlUrl: h.app.controlUrl, token: 't', pid: process.pid, publicPort: h.app.publicListener.port })
  })
  afterAll(async () => {
    await h.close()
  })

  it('places a call with the options given and prints JSON for scripts', async () => {
    const o = io()
    const code = await COMMANDS.call(['--to', CALLEE, '--mode', 'echo', '--record', '--amd', '--timeout', '30', '--data-dir', dataDir, '--json'], o)
    expect(code).toBe(EXIT.ok)
    const placed = JSON.parse(o.stdout) as { callId: string; callSid: string }
    expect(placed.callSid).toMatch(/^CA/)
    expect(h.fake.requestsTo('POST', '/Calls.json').at(-1)!.params).toMatchObject({
      To: CALLEE,
      Record: 'true',
      MachineDetection: 'Enable',
      Timeout: '30',
      Url: `${PUBLIC_URL}/twilio/voice?callId=${placed.callId}`
    })

    const s = io()
    expect(await COMMANDS.status([placed.callSid, '--data-dir', dataDir], s)).toBe(EXIT.ok)
    expect(s.stdout).toMatch(new RegExp(`^${placed.callSid}  queued  outbound-api  \\+15550001111 -> \\${CALLEE}`))

    const l = io()
    expect(await COMMANDS.list(['--active', '--data-dir', dataDir, '--json'], l)).toBe(EXIT.ok)
    expect((JSON.parse(l.stdout) as Array<{ id: string }>).map((c) => c.id)).toContain(placed.callId)

    const running = h.fake.runCall(placed.callSid, { stayOnLine: true })
    await h.waitFor((e) => e.type === 'call.started' && e.call.id === placed.callId && e.call.twilioStatus === undefined)
    const hang = io()
    expect(await COMMANDS.hangup([placed.callId, '--data-dir', dataDir], hang)).toBe(EXIT.ok)
    expect(hang.stdout).toBe(`${placed.callSid}  hung up\n`)
    await running
    expect((await h.fake.whenEnded(placed.callSid)).status).toBe('completed')
  })

  it('exits 2 with the reason on bad usage, before any request', async () => {
    const before = h.fake.requests.length
    const missing = io()
    expect(await COMMANDS.call(['--data-dir', dataDir], missing)).toBe(EXIT.usage)
    expect(missing.stderr).toMatch(/--to is required/)
    const bad = io()
    expect(await COMMANDS.call(['--to', '555-1234', '--data-dir', dataDir], bad)).toBe(EXIT.usage)
    expect(bad.stderr).toMatch(/E\.164/)
    const unknown = io()
    expect(await COMMANDS.call(['--to', CALLEE, '--colour', 'red', '--data-dir', dataDir], unknown)).toBe(EXIT.usage)
    expect(h.fake.requests.length).toBe(before)
  })

  it('exits 3 for a call nobody knows', async () => {
    const o = io()
    expect(await COMMANDS.status(['no-such-call', '--data-dir', dataDir], o)).toBe(EXIT.notFound)
    expect(o.stderr).toMatch(/No Twilio call/)
  })
})

describe('CLI with no running app', () => {
  let h: Harness
  let emptyDir: string
  let env: Record<string, string>
  beforeAll(async () => {
    h = await startHarness()
    emptyDir = await mkdtemp(join(tmpdir(), 'callbench-cli-'))
    env = {
      TWILIO_ACCOUNT_SID: h.fake.accountSid,
      TWILIO_AUTH_TOKEN: h.fake.authToken,
      TWILIO_API_BASE_URL: h.fake.baseUrl,
      TWILIO_PHONE_NUMBER: '+15550001111'
    }
  })
  afterAll(async () => {
    await h.close()
    await rm(emptyDir, { recursive: true, force: true })
  })

  it('places a call for a callbench elsewhere, then status, list and hangup go straight to Twilio', async () => {
    const o = io(env)
    expect(await COMMANDS.call(['--to', CALLEE, '--public-url', PUBLIC_URL, '--data-dir', emptyDir, '--json'], o)).toBe(EXIT.ok)
    const { callSid } = JSON.parse(o.stdout) as { callSid: string }
    expect(h.fake.requestsTo('POST', '/Calls.json').at(-1)!.params).toMatchObject({ To: CALLEE, Url: `${PUBLIC_URL}/twilio/voice` })

    // The callbench at the public URL answers it as an outbound call of its own.
    await h.fake.runCall(callSid, { stayOnLine: true })
    expect(h.fake.calls.get(callSid)!.stream?.parameters).toMatchObject({ direction: 'outbound', to: CALLEE })

    const s = io(env)
    expect(await COMMANDS.status([callSid, '--data-dir', emptyDir, '--json'], s)).toBe(EXIT.ok)
    expect(JSON.parse(s.stdout)).toMatchObject({ callSid, status: 'in-progress', direction: 'outbound-api' })

    const l = io(env)
    expect(await COMMANDS.list(['--active', '--data-dir', emptyDir, '--json'], l)).toBe(EXIT.ok)
    expect((JSON.parse(l.stdout) as Array<{ callSid: string }>).map((c) => c.callSid)).toEqual([callSid])

    const hang = io(env)
    expect(await COMMANDS.hangup([callSid, '--data-dir', emptyDir], hang)).toBe(EXIT.ok)
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`).at(-1)!.params).toEqual({ Status: 'completed' })
    expect((await h.fake.whenEnded(callSid)).status).toBe('completed')
  })

  it('treats hanging up a call Twilio no longer has (20404) as done', async () => {
    const o = io(env)
    expect(await COMMANDS.hangup(['CA' + '9'.repeat(32), '--data-dir', emptyDir], o)).toBe(EXIT.ok)
    expect(o.stdout).toMatch(/already ended/)
  })

  it('exits 3 for an unknown sid and 4 when nothing can place the call', async () => {
    const s = io(env)
    expect(await COMMANDS.status(['CA' + '9'.repeat(32), '--data-dir', emptyDir], s)).toBe(EXIT.notFound)
    const c = io(env)
    expect(await COMMANDS.call(['--to', CALLEE, '--data-dir', emptyDir], c)).toBe(EXIT.notConfigured)
    expect(c.stderr).toMatch(/no running callbench/)
    const noKeys = io({})
    expect(await COMMANDS.status(['CA' + '9'.repeat(32), '--data-dir', emptyDir], noKeys)).toBe(EXIT.notConfigured)
    expect(noKeys.stderr).toMatch(/TWILIO_ACCOUNT_SID/)
  })
})
