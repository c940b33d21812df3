/** Tunnel wiring: the cloudflared manager's lifecycle, its state on the events stream, /api/tunnel and the public probe. */
import { CallbenchError } from '../../../shared/errors.js'
import type { TunnelState } from '../../../shared/events.js'
import type { App } from '../../app.js'
import { CloudflaredTunnel, type TunnelOptions } from '../../tunnel/cloudflared.js'
import { createTunnelProbe, PROBE_HEADER, PROBE_PATH, type ProbeBook, type ProbeOptions } from '../../tunnel/probe.js'
import { sendJson } from '../http.js'

export interface TunnelWiringOptions {
  /** Start the tunnel once the app is up. */
  autoStart: boolean
  /** `--cloudflared <path>`. */
  cloudflaredPath?: string | undefined
  probes: ProbeBook
}

/** Lets the embedding code tune the tunnel before it starts (timings, environment, where the probe connects). */
export interface TunnelController {
  readonly current: CloudflaredTunnel | undefined
  configure(overrides: Partial<Omit<TunnelOptions, 'localUrl' | 'log' | 'probe' | 'workDir'>> & { probeResolve?: ProbeOptions['resolve'] }): void
  start(): Promise<TunnelState>
  stop(): Promise<TunnelState>
}

export function registerTunnel(app: App, opts: TunnelWiringOptions): TunnelController {
  const log = app.log.child({ component: 'tunnel' })
  let overrides: Parameters<TunnelController['configure']>[0] = {}
  let tunnel: CloudflaredTunnel | undefined

  const external = () => app.tunnelState().status === 'external'

  const ensure = (): CloudflaredTunnel => {
    if (tunnel) return tunnel
    const { probeResolve, ...rest } = overrides
    tunnel = new CloudflaredTunnel({
      env: process.env,
      ...rest,
      localUrl: `http://127.0.0.1:${app.publicListener.port}`,
      binary: rest.binary ?? opts.cloudflaredPath ?? app.config('CLOUDFLARED_PATH'),
      workDir: app.dataDir,
      log: app.log,
      probe: createTunnelProbe({ issue: () => opts.probes.issue(), ...(probeResolve ? { resolve: probeResolve } : {}) })
    })
    tunnel.on('state', (state) => app.setTunnelState(state))
    return tunnel
  }

  const controller: TunnelController = {
    get current() {
      return tunnel
    },
    configure(o) {
      overrides = { ...overrides, ...o }
    },
    async start() {
      if (external()) throw new CallbenchError('conflict', 'A public URL was given (--public-url); the tunnel is not used')
      // A missing binary is reported in the tunnel state (and the events stream) with how to install it.
      await ensure()
        .start()
        .catch(() => undefined)
      return app.tunnelState()
    },
    async stop() {
      if (external()) throw new CallbenchError('conflict', 'A public URL was given (--public-url); there is no tunnel to stop')
      await tunnel?.stop()
      return app.tunnelState()
    }
  }

  // The probe answers only a request carrying a live nonce (the verifier lets exactly those through unsigned).
  app.publicListener.router.get(PROBE_PATH, ({ req, res }) => {
    const nonce = req.headers[PROBE_HEADER]
    if (typeof nonce !== 'string' || !opts.probes.valid(nonce)) throw new CallbenchError('not_found', 'Not found')
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(nonce)
  })
  app.publicListener.ws(PROBE_PATH, (ws, req) => {
    const nonce = req.headers[PROBE_HEADER]
    if (typeof nonce !== 'string' || !opts.probes.valid(nonce)) return ws.close(1008)
    ws.send(nonce)
    ws.close(1000)
  })

  const r = app.controlListener.router
  r.get('/api/tunnel', ({ res }) => sendJson(res, 200, { tunnel: app.tunnelState(), binary: tunnel?.binary ?? null }))
  r.post('/api/tunnel/start', async ({ res }) => sendJson(res, 200, { tunnel: await controller.start() }))
  r.post('/api/tunnel/stop', async ({ res }) => sendJson(res, 200, { tunnel: await controller.stop() }))

  app.onStop(() => tunnel?.stop())
  if (opts.autoStart && !external()) {
    // After startApp has bound the public listener (the port goes into cloudflared's --url).
    setImmediate(() => {
      try {
        void app.publicListener.port
      } catch {
        return
      }
      controller.start().catch((err: unknown) => log.warn('tunnel did not start', { err: err as Error }))
    })
  }
  return controller
}
