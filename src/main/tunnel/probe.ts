/** End-to-end tunnel check: an HTTP request and a WebSocket upgrade through the public URL must reach our public listener. */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import WebSocket from 'ws'

/** Path of the probe on the public listener (HTTP GET and WebSocket upgrade). */
export const PROBE_PATH = '/twilio/probe'
/** Header carrying the probe nonce. */
export const PROBE_HEADER = 'x-callbench-probe'
/** A nonce is good for this long, ms. */
const NONCE_TTL_MS = 60_000

/**
 * One-time-ish nonces the public listener accepts on the probe path instead of a Twilio signature. Only this process
 * knows them, so to anyone else the probe path is as closed as every other unsigned request.
 */
export class ProbeBook {
  readonly #live = new Map<string, number>()

  issue(): string {
    const now = Date.now()
    for (const [n, exp] of this.#live) if (exp < now) this.#live.delete(n)
    const nonce = randomBytes(18).toString('base64url')
    this.#live.set(nonce, now + NONCE_TTL_MS)
    return nonce
  }

  /** True for a live nonce, compared in constant time. */
  valid(given: string | string[] | undefined): boolean {
    if (typeof given !== 'string' || given.length !== 24) return false
    const now = Date.now()
    const g = Buffer.from(given)
    let ok = false
    for (const [nonce, exp] of this.#live) {
      if (exp >= now && timingSafeEqual(g, Buffer.from(nonce))) ok = true
    }
    return ok
  }
}

export interface ProbeOptions {
  /** Gives out the nonce the public listener will accept. */
  issue: () => string
  /**
   * Where a request for the public URL actually goes. Default: the public URL itself. Lets a caller aim the check at
   * a local proxy in front of the tunnel, or through a resolver of its own.
   */
  resolve?: (publicUrl: URL) => URL | Promise<URL>
  /** Per attempt, ms. Default 8 000. */
  timeoutMs?: number
}

/** Builds the `probe(publicUrl)` the tunnel manager runs: resolves when both checks passed, rejects otherwise. */
export function createTunnelProbe(opts: ProbeOptions): (publicUrl: string) => Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 8_000
  return async (publicUrl) => {
    const base = new URL(PROBE_PATH, publicUrl)
    const target = opts.resolve ? await opts.resolve(base) : base
    const nonce = opts.issue()

    const res = await fetch(target, { headers: { [PROBE_HEADER]: nonce }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    const text = await res.text()
    if (res.status !== 200 || text !== nonce) throw new Error(`HTTP probe answered ${res.status}`)

    const wsUrl = new URL(target)
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:'
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: { [PROBE_HEADER]: nonce }, handshakeTimeout: timeoutMs, perMessageDeflate: false })
      const timer = setTimeout(() => {
        ws.terminate()
        reject(new Error('WebSocket probe timed out'))
      }, timeoutMs)
      ws.once('message', (data) => {
        clearTimeout(timer)
        ws.close()
        if (String(data) === nonce) resolve()
        else reject(new Error('WebSocket probe answered the wrong nonce'))
      })
      ws.once('unexpected-response', (_req, r) => {
        clearTimeout(timer)
        reject(new Error(`WebSocket probe upgrade answered ${r.statusCode}`))
      })
      ws.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }
}
