/** The control listener: REST /api/*, the events WebSocket and the built console; 127.0.0.1 and token only. */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { timingSafeEqual } from 'node:crypto'
import type { WebSocket } from 'ws'
import { CallbenchError } from '../../shared/errors.js'
import { ClientMessageSchema, type ServerEvent } from '../../shared/events.js'
import type { EventHub } from '../events/hub.js'
import type { Logger } from '../log.js'
import { Listener } from './listener.js'

export interface ControlOptions {
  port: number
  token: string
  log: Logger
  hub: EventHub
  version: string
  /** Folder of the built console (index.html); omitted = no console served. */
  rendererDir?: string
  /**
   * Commands the console may send on the events socket as `{type, id, ...}`; the result (or error) comes
   * back as `{type:'reply', id, ok, data|error}`. Features register theirs here (e.g. `say`, `get_call`).
   */
  commands?: Map<string, (msg: Record<string, unknown>) => Promise<unknown>>
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg'
}

/** Events at most this far behind on a socket before high-rate ones (levels) are dropped for it. */
const MAX_BUFFERED_BYTES = 1 << 20

function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function createControlListener(opts: ControlOptions): Listener {
  const { token, log } = opts
  let listener: Listener
  const allowedHosts = () => new Set([`127.0.0.1:${listener.port}`, `localhost:${listener.port}`])

  const gate = (req: IncomingMessage, url: URL, kind: 'http' | 'upgrade') => {
    // DNS rebinding: a page on another name resolving to 127.0.0.1 must not reach us.
    if (!allowedHosts().has(req.headers.host ?? '')) throw new CallbenchError('forbidden', 'Host not allowed')
    const origin = req.headers.origin
    if (origin && !allowedHosts().has(origin.replace(/^https?:\/\//, ''))) {
      throw new CallbenchError('forbidden', 'Origin not allowed')
    }
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/')
    if (!isApi && kind === 'http') return
    const auth = req.headers.authorization
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
    const given = bearer ?? (kind === 'upgrade' ? url.searchParams.get('token') : undefined)
    if (!tokenMatches(given, token)) throw new CallbenchError('unauthorized', 'Missing or wrong token')
  }

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!opts.rendererDir || (req.method !== 'GET' && req.method !== 'HEAD')) return false
    if (url.pathname.startsWith('/api/')) return false
    const root = normalize(opts.rendererDir)
    let rel: string
    try {
      rel = decodeURIComponent(url.pathname)
    } catch {
      return false
    }
    let file = normalize(join(root, rel))
    if (file !== root && !file.startsWith(root + sep)) return false
    let info = await stat(file).catch(() => undefined)
    if (!info || info.isDirectory()) {
      // Single-page app: unknown paths get the console.
      if (extname(rel)) return false
      file = join(root, 'index.html')
      info = await stat(file).catch(() => undefined)
      if (!info) return false
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=3600',
      ...(file.endsWith('.html')
        ? {
            'content-security-policy':
              "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:* wss: https:; media-src 'self' blob: data: https:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'"
          }
        : {})
    })
    if (req.method === 'HEAD') res.end()
    else createReadStream(file).pipe(res)
    return true
  }

  listener = new Listener({ name: 'control', host: '127.0.0.1', port: opts.port, log, gate, fallback: serveStatic })
  listener.ws('/api/events', (ws, _req, url) => attachEventsSocket(ws, url, opts))
  return listener
}

function attachEventsSocket(ws: WebSocket, url: URL, opts: ControlOptions): void {
  let callFilter: Set<string> | undefined = url.searchParams.get('calls')?.split(',').filter(Boolean).length
    ? new Set(url.searchParams.get('calls')!.split(',').filter(Boolean))
    : undefined
  const send = (event: ServerEvent) => {
    if (ws.readyState !== ws.OPEN) return
    if (event.type === 'call.levels') {
      if (callFilter && !callFilter.has(event.callId)) return
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return
    }
    ws.send(JSON.stringify(event))
  }
  const unsubscribe = opts.hub.subscribe(send)
  send({ type: 'hello', version: opts.version, serverTimeMs: Date.now() })
  ws.on('message', (data, isBinary) => {
    if (isBinary) return
    let parsed: unknown
    try {
      parsed = JSON.parse(data.toString())
    } catch {
      return
    }
    const msg = ClientMessageSchema.safeParse(parsed)
    if (!msg.success) {
      const { id, type } = (parsed ?? {}) as { id?: unknown; type?: unknown }
      const command = typeof type === 'string' ? opts.commands?.get(type) : undefined
      if (command && typeof id === 'string') {
        command(parsed as Record<string, unknown>).then(
          (data) => send({ type: 'reply', id, ok: true, data }),
          (err: unknown) => {
            const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Command failed')
            send({ type: 'reply', id, ok: false, error: { code: e.code, message: e.message } })
          }
        )
      } else if (typeof id === 'string') {
        send({ type: 'reply', id, ok: false, error: { code: 'bad_request', message: 'Unknown or invalid message' } })
      }
      return
    }
    switch (msg.data.type) {
      case 'ping':
        send({ type: 'pong', id: msg.data.id, serverTimeMs: Date.now() })
        break
      case 'subscribe':
        callFilter = msg.data.callIds ? new Set(msg.data.callIds) : undefined
        break
    }
  })
  ws.on('close', unsubscribe)
  ws.on('error', unsubscribe)
}
