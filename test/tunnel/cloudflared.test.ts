// The cloudflared manager against the stand-in executable: URL pickup, end-to-end probe, restarts, wake recheck, missing binary.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { TunnelState } from '../../src/shared/events.js'
import { createLogger } from '../../src/main/log.js'
import { backoffMs, CloudflaredTunnel, findCloudflared, QUICK_TUNNEL_URL, type TunnelOptions } from '../../src/main/tunnel/cloudflared.js'
import { createTunnelProbe, PROBE_HEADER, PROBE_PATH, ProbeBook } from '../../src/main/tunnel/probe.js'
import { launches, STANDIN, standinResolver, tempDir } from './standin-helpers.js'

const log = createLogger({ level: 'silent' })

interface Origin {
  url: string
  book: ProbeBook
  hits: { http: number; ws: number }
  /** Answer probes wrongly (403) while true. */
  broken: boolean
  close(): Promise<void>
}

/** Stands in for the public listener: answers the probe path over HTTP and WebSocket. */
async function startOrigin(): Promise<Origin> {
  const book = new ProbeBook()
  const origin = { book, hits: { http: 0, ws: 0 }, broken: false } as Origin
  const server: Server = createServer((req, res) => {
    const nonce = req.headers[PROBE_HEADER]
    if (req.url !== PROBE_PATH || origin.broken || !book.valid(nonce)) return void res.writeHead(403).end()
    origin.hits.http++
    res.end(nonce)
  })
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, req) => {
    if (origin.broken) return ws.close()
    origin.hits.ws++
    ws.send(String(req.headers[PROBE_HEADER]))
    ws.close()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  origin.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  origin.close = async () => {
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
  return origin
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(env: Record<string, string> = {}, extra: Partial<TunnelOptions> = {}) {
  const origin = await startOrigin()
  const stateDir = await tempDir('cf-standin-')
  const tunnel = new CloudflaredTunnel({
    localUrl: origin.url,
    binary: STANDIN,
    env: { ...process.env, CF_STANDIN_STATE_DIR: stateDir, ...env },
    workDir: stateDir,
    log,
    probe: createTunnelProbe({ issue: () => origin.book.issue(), resolve: standinResolver(stateDir), timeoutMs: 2000 }),
    restartInitialMs: 20,
    restartMaxMs: 200,
    probeWindowMs: 2000,
    ...extra
  })
  const states: TunnelState[] = []
  tunnel.on('state', (s) => states.push(s))
  cleanups.push(async () => {
    await tunnel.stop()
    await origin.close()
  })
  return { origin, stateDir, tunnel, states }
}

function nextReady(tunnel: CloudflaredTunnel): Promise<string> {
  return new Promise((resolve) => tunnel.once('ready', resolve))
}

function waitState(tunnel: CloudflaredTunnel, pred: (s: TunnelState) => boolean): Promise<TunnelState> {
  if (pred(tunnel.state)) return Promise.resolve(tunnel.state)
  return new Promise((resolve) => {
    const on = (s: TunnelState) => {
      if (!pred(s)) return
      tunnel.off('state', on)
      resolve(s)
    }
    tunnel.on('state', on)
  })
}

describe('finding cloudflared', () => {
  it('runs --version on an explicit path', async () => {
    const found = await findCloudflared({ explicitPath: STANDIN, env: {} })
    expect(found).toMatchObject({ path: STANDIN, source: 'option' })
    expect(found.version).toMatch(/^cloudflared version 2026/)
  })

  it('uses CLOUDFLARED_PATH, then PATH', async () => {
    expect((await findCloudflared({ env: { CLOUDFLARED_PATH: STANDIN }, packageBin: '/nonexistent/cloudflared' })).source).toBe('env')
    const binDir = await tempDir('cf-path-')
    const { symlink } = await import('node:fs/promises')
    await symlink(STANDIN, `${binDir}/cloudflared`)
    const found = await findCloudflared({ env: { PATH: `/nonexistent:${binDir}` }, packageBin: '/nonexistent/cloudflared' })
    expect(found).toMatchObject({ path: `${binDir}/cloudflared`, source: 'path' })
  })

  it('says how to install it, or to give a public URL, when it is missing', async () => {
    const err = await findCloudflared({ env: { PATH: '/nonexistent' }, packageBin: '/nonexistent/cloudflared' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'not_configured' })
    expect((err as Error).message).toMatch(/cloudflared was not found/)
    expect((err as Error).message).toMatch(/--cloudflared <path>|CLOUDFLARED_PATH/)
    expect((err as Error).message).toMatch(/--public-url/)
  })

  it('skips a silent shim (the npm wrapper without its downloaded binary) on PATH', async () => {
    const binDir = await tempDir('cf-shim-')
    const { writeFile, chmod } = await import('node:fs/promises')
    await writeFile(`${binDir}/cloudflared`, '#!/bin/sh\nexit 0\n')
    await chmod(`${binDir}/cloudflared`, 0o755)
    const err = await findCloudflared({ env: { PATH: binDir }, packageBin: '/nonexistent/cloudflared' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'not_configured' })
  })

  it('refuses a named path that does not exist instead of falling back', async () => {
    const err = await findCloudflared({ explicitPath: '/nonexistent/cf', env: { CLOUDFLARED_PATH: STANDIN } }).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/\/nonexistent\/cf/)
  })

  it('a tunnel with no binary ends in an error state carrying the same help', async () => {
    const { tunnel, states } = await setup({}, { binary: undefined, env: { PATH: '/nonexistent' }, packageBin: '/nonexistent/cloudflared' })
    await expect(tunnel.start()).rejects.toMatchObject({ code: 'not_configured' })
    expect(states.at(-1)).toMatchObject({ status: 'error' })
    expect(states.at(-1)?.message).toMatch(/--public-url/)
  })
})

describe('the URL pattern', () => {
  it('takes the tunnel hostname and never api.trycloudflare.com', () => {
    expect(QUICK_TUNNEL_URL.exec('INF |  https://oklahoma-solo-younger-truck.trycloudflare.com   |')?.[0]).toBe(
      'https://oklahoma-solo-younger-truck.trycloudflare.com'
    )
    expect(QUICK_TUNNEL_URL.exec('ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": EOF')).toBeNull()
  })

  it('backs off exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 1000, 60_000))).toEqual([1000, 2000, 4000, 8000, 60_000])
  })
})

describe('running the tunnel', () => {
  it('picks up the printed URL, waits for registration, and probes HTTP and WebSocket through it', async () => {
    const { tunnel, stateDir, origin } = await setup()
    const urlEvent = new Promise<[string, number]>((resolve) => tunnel.once('url', (u, at) => resolve([u, at])))
    const ready = nextReady(tunnel)
    await tunnel.start()
    const [url, readAtMs] = await urlEvent
    const launch = launches(stateDir)[0]!
    expect(url).toBe(`https://${launch.host}`)
    // Measured for the report; only the pickup itself is asserted.
    console.log(`tunnel url picked up ${readAtMs - launch.urlPrintedAtMs} ms after the stand-in printed it`)
    expect(await ready).toBe(url)
    expect(tunnel.state).toEqual({ status: 'ready', publicUrl: url })
    expect(origin.hits.http).toBeGreaterThanOrEqual(1)
    expect(origin.hits.ws).toBeGreaterThanOrEqual(1)
  })

  it('restarts after a crash and comes back with the new URL', async () => {
    const { tunnel, stateDir, states } = await setup()
    await tunnel.start()
    const first = await nextReady(tunnel)
    const again = nextReady(tunnel)
    process.kill(launches(stateDir)[0]!.pid, 'SIGKILL')
    const second = await again
    expect(second).not.toBe(first)
    expect(launches(stateDir)).toHaveLength(2)
    expect(states.some((s) => s.status === 'error' && /restarting/.test(s.message ?? ''))).toBe(true)
  })

  it('retries with backoff while cloudflared keeps dying during startup', async () => {
    const { tunnel, stateDir, states } = await setup({ CF_STANDIN_CRASH_LAUNCHES: '2' })
    const ready = nextReady(tunnel)
    await tunnel.start()
    await ready
    expect(launches(stateDir)).toHaveLength(3)
    const errors = states.filter((s) => s.status === 'error')
    expect(errors).toHaveLength(2)
    expect(errors[0]?.message).toMatch(/control stream encountered a failure/)
  })

  it('never takes api.trycloudflare.com from an error line for the tunnel URL', async () => {
    const { tunnel } = await setup({ CF_STANDIN_MODE: 'api-error' })
    const urls: string[] = []
    tunnel.on('url', (u) => urls.push(u))
    await tunnel.start()
    const err = await waitState(tunnel, (s) => s.status === 'error')
    expect(err.publicUrl).toBeUndefined()
    expect(err.message).toMatch(/failed to request quick Tunnel/)
    expect(urls).toEqual([])
  })

  it('does not call the tunnel ready while the URL does not reach the public listener', async () => {
    const { tunnel, stateDir, origin } = await setup({}, { probeWindowMs: 300 })
    origin.broken = true
    const second = new Promise<void>((resolve) => {
      const on = (s: TunnelState) => {
        if (s.status === 'starting' && launches(stateDir).length >= 1) {
          tunnel.off('state', on)
          resolve()
        }
      }
      tunnel.on('state', on)
    })
    await tunnel.start()
    await second
    expect(tunnel.state.status).not.toBe('ready')
    origin.broken = false
    const url = await nextReady(tunnel)
    expect(launches(stateDir).length).toBeGreaterThanOrEqual(2)
    expect(url).toBe(`https://${launches(stateDir).at(-1)!.host}`)
  })

  it('rechecks after the machine wakes up, and restarts when the URL stopped working', async () => {
    let wallOffsetMs = 0
    const clock = { wallMs: () => Date.now() + wallOffsetMs, monoMs: () => performance.now() }
    const { tunnel, stateDir, origin } = await setup({}, { clock, wakeCheckEveryMs: 20, wakeJumpMs: 10_000 })
    await tunnel.start()
    await nextReady(tunnel)
    const hits = origin.hits.http
    // The wall clock jumps a minute ahead of the monotonic clock: the machine slept.
    origin.broken = true
    const restarted = waitState(tunnel, (s) => s.status === 'starting')
    wallOffsetMs += 60_000
    await restarted
    expect(origin.hits.http).toBe(hits)
    origin.broken = false
    await nextReady(tunnel)
    expect(launches(stateDir)).toHaveLength(2)
  })

  it('stops the process on stop()', async () => {
    const { tunnel, stateDir } = await setup()
    await tunnel.start()
    await nextReady(tunnel)
    const pid = launches(stateDir)[0]!.pid
    await tunnel.stop()
    expect(tunnel.state).toEqual({ status: 'off' })
    expect(() => process.kill(pid, 0)).toThrow()
  })
})
