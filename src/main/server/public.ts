/** The public listener: the only thing the tunnel exposes. Twilio's routes only; everything else is 404. */
import type { IncomingMessage } from 'node:http'
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

export interface PublicListener extends Listener {
  /** Installs the signature check for every request and upgrade. */
  setVerifier(verify: NonNullable<PublicOptions['verify']>): void
}

export function createPublicListener(opts: PublicOptions): PublicListener {
  let verify = opts.verify
  const listener = new Listener({
    name: 'public',
    host: opts.host,
    port: opts.port,
    log: opts.log,
    // Twilio's media frames are ~300 bytes; cap well above that and far below anything abusive.
    maxWsPayloadBytes: 64 * 1024,
    gate: (req, url, kind) => verify?.(req, url, kind),
    // Unknown paths are 404 whether signed or not; only Twilio's routes check the signature.
    gateUnmatched: false
  }) as PublicListener
  listener.setVerifier = (v) => {
    verify = v
  }
  return listener
}
