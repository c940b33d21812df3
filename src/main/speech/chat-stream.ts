/** One streamed Chat Completions request on the wire (PROTOCOLS §4.9): a POST, then SSE `data:` events up to `[DONE]`. */
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import { request, type Dispatcher } from 'undici'
import { CallbenchError } from '../../shared/errors.js'

// The SDK's request and SSE layers cost about 2 ms of a turn (measured against the fake: request leg 2.7 ms
// through the SDK, 0.9 ms with undici alone; response leg 1.5 against 0.5). A turn is this one request, so it
// speaks the wire itself; everything else still goes through the SDK.

/** Where and as whom to ask. */
export interface ChatEndpoint {
  /** `<base URL>/chat/completions`. */
  url: string
  apiKey: string
  organization?: string
  project?: string
}

/** Longest wait for the response headers, and between two pieces of the body, ms (the SDK's request timeout). */
const TIMEOUT_MS = 30_000
/** Longest wait before the one retry of a 408, 409, 429 or 5xx, ms (a caller is waiting). */
const MAX_RETRY_WAIT_MS = 2_000
/** Wait before that retry when the service names none, ms (the SDK's first backoff). */
const RETRY_WAIT_MS = 500

/**
 * Sends `body` (a Chat Completions request with `stream: true`) and yields its chunks as they arrive. Retries
 * once: at once when the request never got an answer (a keep-alive socket the service had closed), after a short
 * wait on 408/409/429/5xx, as the SDK does with `maxRetries: 1`. Aborting `signal` closes the request; the
 * iteration then throws the abort. Other failures throw a CallbenchError.
 */
export async function* streamChat(
  endpoint: ChatEndpoint,
  body: string,
  signal: AbortSignal,
  dispatcher: Dispatcher,
  requestId?: string
): AsyncGenerator<ChatCompletionChunk> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${endpoint.apiKey}`,
    'content-type': 'application/json',
    accept: 'text/event-stream'
  }
  if (endpoint.organization) headers['openai-organization'] = endpoint.organization
  if (endpoint.project) headers['openai-project'] = endpoint.project
  if (requestId) headers['x-client-request-id'] = requestId
  const res = await send(endpoint.url, headers, body, signal, dispatcher)
  try {
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') continue
      let chunk: ChatCompletionChunk & { error?: { message?: string } }
      try {
        chunk = JSON.parse(data) as ChatCompletionChunk & { error?: { message?: string } }
      } catch (err) {
        throw new CallbenchError('invalid_message', 'OpenAI sent a stream event that is not JSON', { cause: err })
      }
      if (chunk.error) {
        throw new CallbenchError(
          'upstream_failed',
          `OpenAI stream error: ${String(chunk.error.message).slice(0, 200)}`,
          {
            retryable: true
          }
        )
      }
      yield chunk
    }
  } finally {
    // Read to its end, the connection goes back to the pool; cut short, it must not.
    if (!res.body.readableEnded) res.body.destroy()
  }
}

async function send(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  dispatcher: Dispatcher
): Promise<Dispatcher.ResponseData> {
  for (let attempt = 0; ; attempt++) {
    let res: Dispatcher.ResponseData
    try {
      res = await request(url, {
        method: 'POST',
        headers,
        body,
        signal,
        dispatcher,
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS
      })
    } catch (err) {
      if (signal.aborted) throw err
      const code = (err as { code?: string }).code
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
      if (attempt === 0 && !timedOut) continue
      throw timedOut
        ? new CallbenchError('upstream_timeout', 'OpenAI timed out', { cause: err, retryable: true })
        : new CallbenchError('upstream_failed', 'OpenAI request failed', { cause: err, retryable: true })
    }
    if (res.statusCode < 300) return res
    const text = await res.body.text().catch(() => '')
    const status = res.statusCode
    if (attempt === 0 && (status === 408 || status === 409 || status === 429 || status >= 500)) {
      await sleep(retryWaitMs(res.headers['retry-after']), undefined, { signal })
      continue
    }
    throw chatStatusError(status, messageOf(text))
  }
}

function retryWaitMs(header: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(header) ? header[0] : header)
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_WAIT_MS) : RETRY_WAIT_MS
}

/** `{"error":{"message":…}}`, the API's error body. */
function messageOf(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message
    if (typeof m === 'string') return m
  } catch {
    // Not JSON: a proxy's page.
  }
  return text.slice(0, 200)
}

/** An HTTP error status from OpenAI as a CallbenchError (a refused key, a missing model, a bad request, …). */
export function chatStatusError(status: number, message: string, cause?: unknown): CallbenchError {
  const opts = cause === undefined ? {} : { cause }
  if (status === 401 || status === 403)
    return new CallbenchError('upstream_failed', `OpenAI refused the API key (${status})`, opts)
  if (status === 404) return new CallbenchError('not_found', 'OpenAI model not found', { ...opts, field: 'llmModel' })
  if (status === 400)
    return new CallbenchError('bad_request', `OpenAI rejected the request: ${message.slice(0, 200)}`, opts)
  return new CallbenchError('upstream_failed', `OpenAI answered ${status}`, {
    ...opts,
    retryable: status === 429 || status >= 500
  })
}

/** The `data:` payloads of a server-sent event stream, one per event. */
async function* sseData(body: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buf = ''
  let data: string | undefined
  for await (const piece of body) {
    buf += decoder.decode(piece, { stream: true })
    let start = 0
    let nl: number
    while ((nl = buf.indexOf('\n', start)) >= 0) {
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      const line = buf.slice(start, end)
      start = nl + 1
      if (line === '') {
        if (data !== undefined) yield data
        data = undefined
      } else if (line.startsWith('data:')) {
        const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5)
        data = data === undefined ? value : `${data}\n${value}`
      }
    }
    buf = buf.slice(start)
  }
  if (data !== undefined) yield data
}
