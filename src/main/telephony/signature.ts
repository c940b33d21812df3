/** Twilio request signatures on the public listener: every webhook and Media Streams upgrade, checked over the public URL. */
import type { IncomingMessage } from 'node:http'
import twilio from 'twilio'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'

/** Webhook bodies are a few hundred bytes of form fields; anything near this is not Twilio. */
const MAX_WEBHOOK_BODY_BYTES = 64 * 1024

async function readCapped(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new CallbenchError('payload_too_large', 'Body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const params = new WeakMap<IncomingMessage, Record<string, string>>()

/** The form fields of a webhook the verifier already read (the body can be read once only). */
export function webhookParams(req: IncomingMessage): Record<string, string> {
  const p = params.get(req)
  if (!p) throw new CallbenchError('forbidden', 'Request was not verified')
  return p
}

/** Joins the known public base with the request's path and query; never Host or X-Forwarded-*. */
export function publicRequestUrl(publicBase: string, reqUrl: string, kind: 'http' | 'upgrade'): string {
  const base = publicBase.replace(/\/+$/, '')
  if (kind === 'http') return base + reqUrl
  // The upgrade is signed over the wss:// URL written in our TwiML (PROTOCOLS §1.2), which never has a query.
  return base.replace(/^http/, 'ws') + reqUrl
}

export interface VerifierOptions {
  /** Current Twilio auth token (read per request, so a token set at runtime applies at once). */
  authToken: () => Promise<string | undefined>
  /** Current public base URL (tunnel or --public-url). */
  publicUrl: () => string | undefined
  log: Logger
  /**
   * Unsigned requests are let through only when this is true, no public URL exists (nothing is exposed) and the
   * request comes from loopback: a local development mode that must be asked for explicitly.
   */
  allowUnsignedLoopback?: boolean
  /** Requests that pass without a signature (the tunnel probe with its nonce). */
  exempt?: (req: IncomingMessage, url: URL) => boolean
}

export type RejectReason = 'no_auth_token' | 'no_public_url' | 'missing_signature' | 'bad_signature' | 'query_on_upgrade' | 'bad_body'

function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? ''
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1'
}

/** Builds the public listener's gate: resolves for a valid request, throws `forbidden` (403) otherwise. */
export function createTwilioVerifier(opts: VerifierOptions) {
  const reject = (req: IncomingMessage, url: URL, kind: string, reason: RejectReason): never => {
    opts.log.warn('twilio request rejected', { kind, path: url.pathname, reason, remote: req.socket.remoteAddress })
    throw new CallbenchError('forbidden', 'Forbidden')
  }

  return async (req: IncomingMessage, url: URL, kind: 'http' | 'upgrade'): Promise<void> => {
    if (opts.exempt?.(req, url)) return
    const signature = req.headers['x-twilio-signature']
    const publicUrl = opts.publicUrl()
    const token = await opts.authToken()

    const devUnsigned = opts.allowUnsignedLoopback === true && !publicUrl && isLoopback(req)
    if (!devUnsigned) {
      if (!token) reject(req, url, kind, 'no_auth_token')
      if (!publicUrl) reject(req, url, kind, 'no_public_url')
      if (typeof signature !== 'string' || !signature) reject(req, url, kind, 'missing_signature')
    }

    const reqUrl = req.url ?? '/'
    if (kind === 'upgrade') {
      if (reqUrl.includes('?')) reject(req, url, kind, 'query_on_upgrade')
      if (devUnsigned) return
      const full = publicRequestUrl(publicUrl!, reqUrl, 'upgrade')
      if (!twilio.validateRequest(token!, signature as string, full, {})) reject(req, url, kind, 'bad_signature')
      return
    }

    let form: Record<string, string> = {}
    let raw = ''
    if (req.method === 'POST') {
      try {
        raw = await readCapped(req, MAX_WEBHOOK_BODY_BYTES)
      } catch {
        reject(req, url, kind, 'bad_body')
      }
      const type = req.headers['content-type'] ?? ''
      if (type.startsWith('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(raw)) form[k] = v
      }
    }
    if (!devUnsigned) {
      const full = publicRequestUrl(publicUrl!, reqUrl, 'http')
      // JSON-bodied webhooks carry bodySHA256 in the query and sign the URL alone (PROTOCOLS §2.5).
      const ok = url.searchParams.has('bodySHA256')
        ? twilio.validateRequestWithBody(token!, signature as string, full, raw)
        : twilio.validateRequest(token!, signature as string, full, form)
      if (!ok) reject(req, url, kind, 'bad_signature')
    }
    if (req.method !== 'POST') form = Object.fromEntries(url.searchParams)
    params.set(req, form)
  }
}
