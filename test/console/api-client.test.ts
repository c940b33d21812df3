// The console's API client against a real HTTP server, and where the console finds its connection.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError, createApiClient } from '../../src/renderer/src/api/client.js'
import { eventsUrl, resolveConnection, type ConnectionSource } from '../../src/renderer/src/api/connection.js'

const HEALTH = {
  status: 'ok',
  version: '1.2.3',
  uptimeS: 5,
  services: { twilio: true, openai: false, elevenlabs: false, s3: false },
  tunnel: { status: 'off' },
  activeCalls: 0
}

describe('createApiClient', () => {
  let server: Server
  let baseUrl: string
  const seen: { method?: string; url?: string; auth?: string; body?: string }[] = []
  let reply: (req: IncomingMessage, res: ServerResponse) => void = () => {}

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += String(chunk)
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body })
      reply(req, res)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const json = (status: number, data: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(data))
  }

  it('sends the bearer token and parses the response with the shared schema', async () => {
    reply = json(200, HEALTH)
    const health = await createApiClient({ controlUrl: baseUrl, token: 'tok' }).health()
    expect(health.services.twilio).toBe(true)
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/health', auth: 'Bearer tok' })
  })

  it('sends JSON bodies and query strings', async () => {
    reply = json(200, { calls: [], total: 0, page: 2, pageSize: 10 })
    const list = await createApiClient({ controlUrl: baseUrl, token: 'tok' }).calls({ page: 2, pageSize: 10 })
    expect(list.page).toBe(2)
    expect(seen.at(-1)?.url).toBe('/api/calls?page=2&pageSize=10')

    reply = json(400, { error: { code: 'bad_request', message: 'Invalid field', field: 'secrets' } })
    const err = await createApiClient({ controlUrl: baseUrl, token: 'tok' })
      .updateSettings({ secrets: { OPENAI_API_KEY: 'x' } })
      .catch((e: unknown) => e)
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ secrets: { OPENAI_API_KEY: 'x' } })
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ code: 'bad_request', status: 400 })
  })

  it('rejects a response that does not match the contract', async () => {
    reply = json(200, { ...HEALTH, activeCalls: 'many' })
    await expect(createApiClient({ controlUrl: baseUrl, token: 'tok' }).health()).rejects.toMatchObject({
      code: 'invalid_response'
    })
  })

  it('reports an unreachable core as a network error', async () => {
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    await expect(
      createApiClient({ controlUrl: `http://127.0.0.1:${port}`, token: 't' }).health()
    ).rejects.toMatchObject({
      code: 'network',
      status: 0
    })
  })
})

describe('resolveConnection', () => {
  function source(hash: string, extra: Partial<ConnectionSource> = {}) {
    const storage = new Map<string, string>()
    const replaced: (string | undefined)[] = []
    const src: ConnectionSource = {
      location: { origin: 'http://127.0.0.1:5051', hash, pathname: '/', search: '' },
      history: { replaceState: (_d, _u, url) => void replaced.push(url) },
      sessionStorage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
      ...extra
    }
    return { src, storage, replaced }
  }

  it('prefers the Electron bridge', () => {
    const desktop = { chooseFolder: async () => null }
    const { src } = source('#token=fromhash', {
      callbench: { controlUrl: 'http://127.0.0.1:6000/', token: 'bridge', desktop }
    })
    expect(resolveConnection(src)).toEqual({ controlUrl: 'http://127.0.0.1:6000', token: 'bridge', desktop })
  })

  it('takes the token from the hash once, keeps it for the tab, and clears the address bar', () => {
    const { src, storage, replaced } = source('#token=abc')
    expect(resolveConnection(src)).toEqual({ controlUrl: 'http://127.0.0.1:5051', token: 'abc' })
    expect(replaced).toEqual(['/'])
    src.location.hash = ''
    expect(resolveConnection(src)?.token).toBe('abc')
    expect(storage.get('callbench.token')).toBe('abc')
  })

  it('returns null without a token', () => {
    expect(resolveConnection(source('').src)).toBeNull()
  })

  it('builds the events URL with the token', () => {
    expect(eventsUrl({ controlUrl: 'http://127.0.0.1:5051', token: 'a b' })).toBe(
      'ws://127.0.0.1:5051/api/events?token=a+b'
    )
  })
})
