// The SDK's fetch over undici's request: what the openai SDK reads of a Response, against a local HTTP server.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestFetch } from '../../src/main/speech/request-fetch.js'

let server: Server
let base = ''
const pool = new Agent({ keepAliveTimeout: 10_000 })
const fetchFn = requestFetch(pool)
let lastBody = ''
let lastHeaders: Record<string, string | string[] | undefined> = {}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      lastBody = body
      lastHeaders = req.headers
      if (req.url === '/empty') {
        res.writeHead(204, { 'x-id': 'e1' })
        res.end()
      } else if (req.url === '/multi') {
        res.setHeader('set-cookie', ['a=1', 'b=2'])
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' })
        res.end('{"error":{"message":"slow down"}}')
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: one\n\n')
        setImmediate(() => res.end('data: two\n\n'))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await pool.close()
  await new Promise((resolve) => server.close(resolve))
})

describe('requestFetch', () => {
  it('sends method, headers and a JSON body, and streams the response body', async () => {
    const res = await fetchFn(`${base}/stream`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer k' },
      body: '{"a":1}'
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(await res.text()).toBe('data: one\n\ndata: two\n\n')
    expect(lastBody).toBe('{"a":1}')
    expect(lastHeaders.authorization).toBe('Bearer k')
    expect(lastHeaders['content-type']).toBe('application/json')
  })

  it('gives an error status, every header and the error body, as the SDK reads them', async () => {
    const res = await fetchFn(new URL(`${base}/multi`), { method: 'POST', body: new Uint8Array([0x7b, 0x7d]) })
    expect(res.status).toBe(429)
    expect(res.ok).toBe(false)
    expect(res.headers.get('retry-after')).toBe('3')
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await res.json()).toEqual({ error: { message: 'slow down' } })
    expect(lastBody).toBe('{}')
  })

  it('answers a no-content status with an empty body', async () => {
    const res = await fetchFn(`${base}/empty`, { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(res.body).toBeNull()
    expect(res.headers.get('x-id')).toBe('e1')
  })

  it('rejects when aborted before the answer, and refuses bodies it cannot send', async () => {
    const ctl = new AbortController()
    ctl.abort()
    await expect(fetchFn(`${base}/stream`, { signal: ctl.signal })).rejects.toThrow()
    await expect(fetchFn(`${base}/stream`, { method: 'POST', body: new FormData() })).rejects.toThrow(TypeError)
    await expect(fetchFn(new Request(`${base}/stream`))).rejects.toThrow(TypeError)
  })
})
