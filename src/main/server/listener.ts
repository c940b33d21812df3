/** One HTTP listener with a router, WebSocket upgrade routes and per-request error handling. */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { CallbenchError, httpStatusOf } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import { sendError } from './http.js'
import { Router } from './router.js'
import { fastTextFrames } from './ws-fast-receive.js'

export type UpgradeHandler = (ws: WebSocket, req: IncomingMessage, url: URL, params: Record<string, string>) => void

/** Runs after the gate and before the upgrade; throws a CallbenchError (404…) to refuse it with that status. */
export type UpgradeCheck = (req: IncomingMessage, url: URL, params: Record<string, string>) => void | Promise<void>

interface UpgradeRoute {
  handler: UpgradeHandler
  check: UpgradeCheck | undefined
}

/** Decides whether a request may proceed; throws a CallbenchError (401/403…) if not. */
export type Gate = (req: IncomingMessage, url: URL, kind: 'http' | 'upgrade') => void | Promise<void>

export interface ListenerOptions {
  name: string
  host: string
  port: number
  log: Logger
  /** Max WebSocket message size, bytes. Default 64 KiB. */
  maxWsPayloadBytes?: number
  /** Runs before the handler of every request and upgrade. */
  gate?: Gate
  /** Also gate requests no route matches (default true); false answers them 404 without the gate. */
  gateUnmatched?: boolean
  /** Handles requests no route matched (static files). Return false to fall through to 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean
}

export class Listener {
  readonly router = new Router()
  readonly #upgrades = new Map<string, UpgradeRoute>()
  /** Upgrade paths with `:param` segments. */
  readonly #upgradeRoutes = new Router<UpgradeRoute>()
  readonly #server: Server
  readonly #wss: WebSocketServer
  readonly #opts: ListenerOptions
  readonly #sockets = new Set<Socket>()

  constructor(opts: ListenerOptions) {
    this.#opts = opts
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxWsPayloadBytes ?? 64 * 1024 })
    this.#server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      void this.#handle(req, res)
    })
    this.#server.on('connection', (s) => {
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
    })
    this.#server.on('upgrade', (req, socket, head) => void this.#upgrade(req, socket as Socket, head))
    this.#server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    })
  }

  /** A WebSocket endpoint; `path` may have `:param` segments (exact paths win). */
  ws(path: string, handler: UpgradeHandler, check?: UpgradeCheck): this {
    if (path.includes('/:')) this.#upgradeRoutes.get(path, { handler, check })
    else this.#upgrades.set(path, { handler, check })
    return this
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    return this.port
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate()
    this.#wss.close()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
      for (const s of this.#sockets) s.destroy()
    })
  }

  #url(req: IncomingMessage): URL {
    return new URL(req.url ?? '/', 'http://localhost')
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = this.#url(req)
      const match = this.router.match(req.method ?? 'GET', url.pathname)
      if (match || this.#opts.gateUnmatched !== false) await this.#opts.gate?.(req, url, 'http')
      if (match === 'method') throw new CallbenchError('bad_request', 'Method not allowed')
      if (match) {
        await match.handler({ req, res, params: match.params, url })
        return
      }
      if (match === undefined && this.#opts.fallback && (await this.#opts.fallback(req, res, url))) return
      throw new CallbenchError('not_found', 'Not found')
    } catch (err) {
      if (!(err instanceof CallbenchError) || err.code === 'internal') {
        this.#opts.log.error('request failed', {
          listener: this.#opts.name,
          path: req.url?.split('?')[0],
          err: err as Error
        })
      }
      sendError(res, err)
    }
  }

  async #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    try {
      const url = this.#url(req)
      const exact = this.#upgrades.get(url.pathname)
      const match = exact ? undefined : this.#upgradeRoutes.match('GET', url.pathname)
      const route = exact ?? (typeof match === 'object' ? match.handler : undefined)
      if (!route) throw new CallbenchError('not_found', 'Not found')
      const params = typeof match === 'object' ? match.params : {}
      await this.#opts.gate?.(req, url, 'upgrade')
      await route.check?.(req, url, params)
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        fastTextFrames(ws)
        route.handler(ws, req, url, params)
      })
    } catch (err) {
      const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Internal error')
      const status = httpStatusOf(e.code)
      this.#opts.log.warn('upgrade refused', { listener: this.#opts.name, status, path: req.url?.split('?')[0] })
      const text = STATUS_CODES[status] ?? 'Bad Request'
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
  }
}
