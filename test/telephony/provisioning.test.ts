// Self-provisioning: the Twilio number and TwiML app follow the public URL (fixed, or the stand-in tunnel's), and are put back.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { telephonyOf } from '../../src/main/server/routes/telephony.js'
import type { TunnelState } from '../../src/shared/events.js'
import { launches, STANDIN, standinResolver, tempDir } from '../tunnel/standin-helpers.js'
import { OUR_NUMBER, PUBLIC_URL, startHarness, type Harness } from './harness.js'

const ORIGINAL = {
  voice_url: 'https://old.example/voice',
  voice_method: 'GET',
  status_callback: 'https://old.example/status',
  status_callback_method: 'GET',
  voice_application_sid: 'AP' + 'a'.repeat(32)
}

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

async function setProvisioning(h: Harness, on: boolean): Promise<void> {
  const res = await h.api('PUT', '/api/settings', { settings: { twilio: { phoneNumber: '', provisioning: on } } })
  expect(res.status).toBe(200)
  await telephonyOf(h.app).provisioner.whenIdle()
}

describe('provisioning with a fixed public URL', () => {
  it('points the number and a new TwiML app at us when turned on, and restores the number when turned off', async () => {
    h = await startHarness()
    const number = h.fake.addNumber(OUR_NUMBER, { ...ORIGINAL })
    await setProvisioning(h, true)

    expect(number).toMatchObject({
      voice_url: `${PUBLIC_URL}/twilio/voice`,
      voice_method: 'POST',
      status_callback: `${PUBLIC_URL}/twilio/status`,
      status_callback_method: 'POST',
      voice_application_sid: ''
    })
    const [app] = [...h.fake.applications.values()]
    expect(app).toMatchObject({ friendly_name: 'Callbench', voice_url: `${PUBLIC_URL}/twilio/voice`, voice_method: 'POST' })
    // The previous webhooks are in the data folder before anything changed.
    const saved = JSON.parse(await readFile(join(h.dataDir, 'twilio-provisioning.json'), 'utf8'))
    expect(saved.number.previous).toEqual({
      voiceUrl: ORIGINAL.voice_url,
      voiceMethod: 'GET',
      statusCallback: ORIGINAL.status_callback,
      statusCallbackMethod: 'GET',
      voiceApplicationSid: ORIGINAL.voice_application_sid
    })

    // A real inbound call now finds us through the number's new voice URL.
    const call = await h.fake.inboundCall({ from: '+15551230000', to: OUR_NUMBER })
    expect(call.stream?.url).toBe(PUBLIC_URL.replace('https', 'wss') + '/twilio/media')
    await h.fake.hangup(call.sid)

    await setProvisioning(h, false)
    expect(number).toMatchObject(ORIGINAL)
    expect(JSON.parse(await readFile(join(h.dataDir, 'twilio-provisioning.json'), 'utf8')).number.previous).toBeUndefined()
  })

  it('restores the number on quit, and reuses the TwiML app it created', async () => {
    h = await startHarness()
    const number = h.fake.addNumber(OUR_NUMBER, { ...ORIGINAL })
    await setProvisioning(h, true)
    const appSid = [...h.fake.applications.keys()][0]
    const token = await h.api<{ token: string }>('POST', '/api/voice-token')
    // No API key configured: the token needs one.
    expect(token.status).toBe(422)
    await h.stopApp()
    expect(number).toMatchObject(ORIGINAL)
    const saved = JSON.parse(await readFile(join(h.dataDir, 'twilio-provisioning.json'), 'utf8'))
    expect(saved.app).toEqual({ sid: appSid, created: true })
    expect(h.fake.requestsTo('POST', '/Applications.json')).toHaveLength(1)
  })

  it('updates a configured TwiML app and puts its old voice URL back', async () => {
    const existing = { voice_url: 'https://mine.example/app', voice_method: 'POST', status_callback: '', status_callback_method: 'POST', friendly_name: 'mine' }
    h = await startHarness({ env: { TWILIO_TWIML_APP_SID: 'AP' + 'b'.repeat(32) } })
    const app = h.fake.addApplication({ ...existing, sid: 'AP' + 'b'.repeat(32) })
    const appSid = app.sid
    h.fake.addNumber(OUR_NUMBER, { ...ORIGINAL })
    await setProvisioning(h, true)
    expect(h.fake.applications.get(appSid)!.voice_url).toBe(`${PUBLIC_URL}/twilio/voice`)
    expect(h.fake.requestsTo('POST', '/Applications.json')).toHaveLength(0)
    await setProvisioning(h, false)
    expect(h.fake.applications.get(appSid)).toMatchObject(existing)
  })
})

describe('provisioning through the stand-in tunnel', () => {
  it('follows the tunnel URL, carries a signed call through it, and moves to the new URL after a crash', async () => {
    const stateDir = await tempDir('cf-app-')
    const toProxy = standinResolver(stateDir)
    h = await startHarness({
      publicUrl: undefined,
      // Fake Twilio reaches the tunnel's URL through the stand-in's local proxy, as the internet would reach cloudflared.
      resolveExtra: (url) => {
        const u = new URL(url)
        if (!u.hostname.endsWith('.trycloudflare.com')) return undefined
        const local = toProxy(new URL(url.replace(/^wss:/, 'https:')))
        if (u.protocol === 'wss:') local.protocol = 'ws:'
        return local.href
      }
    })
    const number = h.fake.addNumber(OUR_NUMBER, { ...ORIGINAL })
    await setProvisioning(h, true)
    expect(h.fake.requestsTo('POST', '.json').filter((r) => r.path.includes('IncomingPhoneNumbers'))).toHaveLength(0)

    const { tunnel } = telephonyOf(h.app)
    tunnel.configure({
      binary: STANDIN,
      env: { ...process.env, CF_STANDIN_STATE_DIR: stateDir },
      probeResolve: toProxy,
      restartInitialMs: 20,
      restartMaxMs: 200
    })
    const isReady = (e: { type: string; tunnel?: TunnelState }) => e.type === 'tunnel.state' && e.tunnel?.status === 'ready'
    const started = await h.api<{ tunnel: TunnelState }>('POST', '/api/tunnel/start')
    expect(started.status).toBe(200)
    const ready = await h.waitFor(isReady)
    const url = ready.type === 'tunnel.state' ? ready.tunnel.publicUrl! : ''
    const first = launches(stateDir)[0]!
    expect(url).toBe(`https://${first.host}`)
    const readyAtMs = Date.now()
    console.log(`tunnel ready ${readyAtMs - first.urlPrintedAtMs} ms after the URL was printed (includes the end-to-end probe)`)
    expect((await h.api<{ tunnel: TunnelState }>('GET', '/api/tunnel')).body.tunnel).toEqual({ status: 'ready', publicUrl: url })

    await telephonyOf(h.app).provisioner.whenIdle()
    expect(number.voice_url).toBe(`${url}/twilio/voice`)
    expect(number.status_callback).toBe(`${url}/twilio/status`)

    // Twilio calls the number: webhook and Media Stream both cross the tunnel, signed for its URL.
    const call = await h.fake.inboundCall({ from: '+15551230000', to: OUR_NUMBER })
    expect(call.stream?.url).toBe(`wss://${first.host}/twilio/media`)
    expect(h.fake.webhooks.at(-1)!.status).toBe(200)
    await h.fake.hangup(call.sid)

    // cloudflared dies: a new tunnel, a new URL, and the number follows it.
    const before = h.events.length
    process.kill(first.pid, 'SIGKILL')
    const again = await h.waitFor((e) => isReady(e) && h!.events.indexOf(e) >= before)
    const second = again.type === 'tunnel.state' ? again.tunnel.publicUrl! : ''
    expect(second).not.toBe(url)
    await telephonyOf(h.app).provisioner.whenIdle()
    expect(number.voice_url).toBe(`${second}/twilio/voice`)

    const stopped = await h.api<{ tunnel: TunnelState }>('POST', '/api/tunnel/stop')
    expect(stopped.body.tunnel).toEqual({ status: 'off' })
    expect(h.app.publicUrl()).toBeUndefined()
    await h.stopApp()
    expect(number).toMatchObject(ORIGINAL)
  })

  it('reports a missing cloudflared with how to install it or give a public URL', async () => {
    h = await startHarness({ publicUrl: undefined })
    telephonyOf(h.app).tunnel.configure({ binary: undefined, env: { PATH: '/nonexistent' }, packageBin: '/nonexistent/cloudflared' })
    const res = await h.api<{ tunnel: TunnelState }>('POST', '/api/tunnel/start')
    expect(res.body.tunnel.status).toBe('error')
    expect(res.body.tunnel.message).toMatch(/cloudflared was not found/)
    expect(res.body.tunnel.message).toMatch(/--public-url/)
  })

  it('refuses to start a tunnel when a public URL was given', async () => {
    h = await startHarness()
    const res = await h.api<{ error: { code: string } }>('POST', '/api/tunnel/start')
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('conflict')
  })
})
