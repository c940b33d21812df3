/**
 * A `fetch` for the `openai` SDK built on undici's `request`, the same HTTP client without the WHATWG Request
 * machinery: on this machine a streamed chat request got its first chunk in 0.29-0.36 ms instead of 0.48-0.74 ms
 * through undici's `fetch` (local server, kept-alive connection). The SDK only needs what it reads of a Response:
 * status, headers and a streamed body, and an AbortSignal honoured.
 */
import { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'

/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

type RequestBody = string | Buffer | Uint8Array | null | undefined

function headersOf(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  if (!init) return out
  new Headers(init).forEach((value, name) => (out[name] = value))
  return out
}

/** Bodies the SDK sends: JSON text, or bytes. A stream or a form is refused plainly rather than sent wrong. */
function bodyOf(body: RequestInit['body']): RequestBody {
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  throw new TypeError('request body kind not supported by this fetch')
}

export function requestFetch(dispatcher: Dispatcher): typeof globalThis.fetch {
  return async (input, init) => {
    if (input instanceof Request) throw new TypeError('Request objects are not supported by this fetch')
    const url = typeof input === 'string' ? input : input.href
    const res = await request(url, {
      method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: headersOf(init?.headers),
      body: bodyOf(init?.body),
      signal: init?.signal ?? undefined,
      dispatcher
    })
    const headers = new Headers()
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue
      if (Array.isArray(value)) for (const v of value) headers.append(name, v)
      else headers.set(name, value)
    }
    if (NULL_BODY.has(res.statusCode)) {
      res.body.resume()
      return new Response(null, { status: res.statusCode, headers })
    }
    // Readable.toWeb keeps backpressure; cancelling the web stream (the SDK does on abort) destroys the socket body.
    const body = Readable.toWeb(res.body) as ReadableStream<Uint8Array>
    return new Response(body, { status: res.statusCode, headers })
  }
}
