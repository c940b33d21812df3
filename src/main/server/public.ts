/** The public listener: the only thing the tunnel exposes. Twilio's routes only; everything else is 404. */
import type { IncomingMessage } from 'node:http'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import { Listener } from './listener.js'

export interface PublicOptions {
  host: string
  port: number
  log: Logger
  /**
   * Checks a request's Twilio signature (telephony wires it); throws `forbidden` if invalid.
   * Until it is set, requests pass (loopback development only).
   */
  verify?: (req: IncomingMessage, url: URL, kind: 'http' | 'upgrade') => void | Promise<void>
}

/** Requests per second the public listener takes before answering 429 (Twilio's webhooks are a few per call). */
const MAX_REQUESTS_PER_SECOND = 200

/** A token bucket: `take()` is false once the rate is exceeded. */
export function rateLimiter(perSecond: number, now: () => number = () => performance.now()): { take(): boolean } {
  let tokens = perSecond
  let last = now()
  return {
    take() {
      const t = now()
      tokens = Math.min(perSecond, tokens + ((t - last) / 1000) * perSecond)
      last = t
      if (tokens < 1) return false
      tokens -= 1
      return true
    }
  }
}

export interface PublicListener extends Listener {
  /** Installs the signature check for every request and upgrade. */
  setVerifier(verify: NonNullable<PublicOptions['verify']>): void
}

export function createPublicListener(opts: PublicOptions): PublicListener {
  let verify = opts.verify
  const limiter = rateLimiter(MAX_REQUESTS_PER_SECOND)
  const listener = new Listener({
    name: 'public',
    host: opts.host,
    port: opts.port,
    log: opts.log,
    // Twilio's media frames are ~300 bytes; cap well above that and far below anything abusive.
    maxWsPayloadBytes: 64 * 1024,
    gate: (req, url, kind) => {
      if (!limiter.take()) throw new CallbenchError('rate_limited', 'Too many requests')
      return verify?.(req, url, kind)
    },
    // Unknown paths are 404 whether signed or not; only Twilio's routes check the signature.
    gateUnmatched: false
  }) as PublicListener
  listener.setVerifier = (v) => {
    verify = v
  }
  return listener
}
