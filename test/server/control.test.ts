import { readdirSync, readFileSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { HealthSchema, SettingsViewSchema } from '../../src/shared/api.js'
import type { App } from '../../src/main/app.js'
import { startTestApp, type TestApp } from '../support/app.js'

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  host = '127.0.0.1'
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('control and public listeners', () => {
  let testApp: TestApp
  let app: App
  let dataDir: string
  const auth = { authorization: 'Bearer secret-token' }

  beforeAll(async () => {
    testApp = await startTestApp({
      token: 'secret-token',
      env: { OPENAI_API_KEY: 'sk-test-' + 'abcdefghijklmnopqrstuvwxyz123456', TWILIO_PHONE_NUMBER: '+15550001111' }
    })
    ;({ app, dataDir } = testApp)
  })
  afterAll(async () => {
    await testApp.stop()
  })

  it('answers /api/health only with the token, in the schema', async () => {
    const port = app.controlListener.port
    expect((await get(port, '/api/health')).status).toBe(401)
    expect((await get(port, '/api/health', { authorization: 'Bearer wrong' })).status).toBe(401)
    const ok = await get(port, '/api/health', auth)
    expect(ok.status).toBe(200)
    const health = HealthSchema.parse(JSON.parse(ok.body))
    expect(health.services.openai).toBe(true)
    expect(health.services.twilio).toBe(false)
    expect(health.activeCalls).toBe(0)
    expect(health.phoneNumber).toBe('+15550001111')
    const loop = health.eventLoopDelayMs!
    expect(loop.p50).toBeGreaterThanOrEqual(0)
    expect(loop.max).toBeGreaterThanOrEqual(loop.p99)
    expect(loop.p99).toBeGreaterThanOrEqual(loop.p50)
  })

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    const port = app.controlListener.port
    expect((await get(port, '/api/health', { ...auth, host: `evil.example:${port}` })).status).toBe(403)
    expect((await get(port, '/api/health', { ...auth, origin: 'http://evil.example' })).status).toBe(403)
    expect((await get(port, '/api/health', { ...auth, origin: `http://127.0.0.1:${port}` })).status).toBe(200)
  })

  it('is not reachable on a non-loopback address', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)
    // The listener binds 127.0.0.1 only; on a machine with another address, connecting there must fail.
    expect(app.controlListener.port).toBeGreaterThan(0)
    if (external) await expect(get(app.controlListener.port, '/api/health', auth, external.address)).rejects.toThrow()
    else expect(external).toBeUndefined()
  })

  it('the public listener does not serve the control API', async () => {
    const res = await get(app.publicListener.port, '/api/health', auth)
    expect(res.status).toBe(404)
  })

  it('never shows a secret back, and writes secrets only', async () => {
    const port = app.controlListener.port
    const view = SettingsViewSchema.parse(JSON.parse((await get(port, '/api/settings', auth)).body))
    expect(view.secrets.OPENAI_API_KEY).toEqual({ set: true, hint: '…3456' })
    expect(JSON.stringify(view)).not.toContain('abcdefghijklmnopqrstuvwxyz')
  })

  it('rejects an invalid settings body with 400 naming the field', async () => {
    const res = await fetch(`${app.controlUrl}/api/settings`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { vad: { silenceMs: 'long' } } })
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; field?: string } }
    expect(body.error.code).toBe('bad_request')
    expect(body.error.field).toBe('settings.vad.silenceMs')
  })

  it('updates settings and persists them', async () => {
    const res = await fetch(`${app.controlUrl}/api/settings`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        settings: { vad: { silenceMs: 700 } },
        secrets: { ELEVENLABS_API_KEY: 'el-key-0123456789' }
      })
    })
    expect(res.status).toBe(200)
    const view = SettingsViewSchema.parse(await res.json())
    expect(view.settings.vad.silenceMs).toBe(700)
    expect(view.settings.vad.method).toBe('silero')
    expect(view.secrets.ELEVENLABS_API_KEY.set).toBe(true)
    expect(JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')).vad.silenceMs).toBe(700)
    expect(statSync(join(dataDir, 'secrets.env')).mode & 0o077).toBe(0)
  })

  it('setting the ElevenLabs key loads its SDK in the background, and keeps the other secrets of the update', async () => {
    const health = async () =>
      HealthSchema.parse(JSON.parse((await get(app.controlListener.port, '/api/health', auth)).body))
    const res = await fetch(`${app.controlUrl}/api/settings`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        secrets: { ELEVENLABS_API_KEY: 'el-key-9876543210', TWILIO_AUTH_TOKEN: 'tw-token-0123456789' }
      })
    })
    expect(res.status).toBe(200)
    const view = SettingsViewSchema.parse(await res.json())
    expect(view.secrets.ELEVENLABS_API_KEY).toEqual({ set: true, hint: '…3210' })
    expect(view.secrets.TWILIO_AUTH_TOKEN).toEqual({ set: true, hint: '…6789' })
    expect((await health()).warmingUp).toBe(true)
    await expect.poll(async () => (await health()).warmingUp, { timeout: 20_000, interval: 100 }).toBe(false)
  })

  it('a partial update leaves every other setting as it was', async () => {
    const put = (settings: unknown) =>
      fetch(`${app.controlUrl}/api/settings`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ settings })
      })
    expect((await put({ vad: { method: 'energy', threshold: 0.7 }, s3: { bucket: 'calls' } })).status).toBe(200)
    const res = await put({ vad: { threshold: 0.6 } })
    const view = SettingsViewSchema.parse(await res.json())
    expect(view.settings.vad).toMatchObject({ method: 'energy', threshold: 0.6 })
    expect(view.settings.s3.bucket).toBe('calls')
    expect((await put({ vad: { threshold: 2 } })).status).toBe(400)
    expect((await put([1, 2])).status).toBe(400)
  })

  it('caps request bodies', async () => {
    const res = await fetch(`${app.controlUrl}/api/settings`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: 'x'.repeat(1024 * 1024)
    })
    expect(res.status).toBe(413)
  })

  it('events socket needs the token and answers ping with pong', async () => {
    const port = app.controlListener.port
    const refused = new WebSocket(`ws://127.0.0.1:${port}/api/events`)
    const status = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    )
    expect(status).toBe(401)
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?token=secret-token`)
    const messages: Array<{ type: string; id?: string }> = []
    const pong = new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; id?: string }
        messages.push(m)
        if (m.type === 'hello') ws.send(JSON.stringify({ type: 'ping', id: 'p1' }))
        if (m.type === 'pong') resolve()
      })
    )
    await pong
    expect(messages[0]!.type).toBe('hello')
    expect(messages.find((m) => m.type === 'pong')!.id).toBe('p1')
    ws.close()
  })
})

describe('room boundaries', () => {
  it('no file outside the shell and the preload imports electron', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) walk(p)
        else if (
          /\.(ts|tsx)$/.test(name) &&
          /from ['"]electron['"]|require\(['"]electron['"]\)/.test(readFileSync(p, 'utf8'))
        )
          offenders.push(p)
      }
    }
    walk('src')
    expect(
      offenders.filter((p) => p !== join('src', 'main', 'index.ts') && !p.startsWith(join('src', 'preload')))
    ).toEqual([])
  })
})
