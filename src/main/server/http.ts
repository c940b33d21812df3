/** Small HTTP helpers shared by both listeners: capped bodies, JSON replies, errors with stable codes. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import { CallbenchError, httpStatusOf, type ErrorBody } from '../../shared/errors.js'

/** Default cap on request bodies, bytes. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024

export async function readBody(req: IncomingMessage, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) throw new CallbenchError('payload_too_large', `Body over ${maxBytes} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      req.resume()
      throw new CallbenchError('payload_too_large', `Body over ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

export async function readJson(req: IncomingMessage, maxBytes?: number): Promise<unknown> {
  const body = await readBody(req, maxBytes)
  if (body.length === 0) return {}
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new CallbenchError('bad_request', 'Body is not valid JSON')
  }
}

/** Reads an application/x-www-form-urlencoded body (Twilio webhooks). */
export async function readForm(req: IncomingMessage, maxBytes?: number): Promise<Record<string, string>> {
  const body = await readBody(req, maxBytes)
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out[k] = v
  return out
}

/** Validates with a zod schema; a failure is a 400 naming the first bad field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue?.path.join('.') || undefined
  throw new CallbenchError('bad_request', field ? `Invalid field '${field}': ${issue?.message}` : `Invalid body: ${issue?.message}`, {
    field
  })
}

export function sendJson(res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(data)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers
  })
  res.end(body)
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof CallbenchError
      ? err
      : new CallbenchError('internal', 'Internal error', { cause: err })
  const body: ErrorBody = { error: { code: e.code, message: e.message } }
  if (e.field) body.error.field = e.field
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, httpStatusOf(e.code), body)
}
