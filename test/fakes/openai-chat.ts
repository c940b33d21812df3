/** A fake OpenAI Chat Completions endpoint on 127.0.0.1: SSE streaming with scripted replies, delays and abort tracking. */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'

// Protocol facts: PROTOCOLS.md §4.9 (chunks `chat.completion.chunk`, SSE `data: {json}\n\n`, then `data: [DONE]`).
// This file speaks the wire itself and imports nothing from src/.

export interface ChatMessage {
  role: string
  content: string
}

export interface FakeChatOptions {
  /** The key every request must carry as `Authorization: Bearer …`. Default 'test-key'. */
  apiKey?: string
  /** Time from the request to the first content token, ms. Default 0. */
  firstTokenDelayMs?: number
  /** Time between later tokens, ms. Default 0. */
  tokenIntervalMs?: number
  /** Model ids `GET /v1/models` lists. Default gpt-4o-mini, gpt-realtime and a few others. */
  models?: string[]
  /** The reply to request `index` (0-based), given its messages. Default "You said: <last user text>." */
  reply?: (messages: ChatMessage[], index: number) => string
}

export interface ChatRequestRecord {
  index: number
  model: string
  stream: boolean
  temperature: number | undefined
  messages: ChatMessage[]
  body: Record<string, unknown>
  /** The client's `X-Client-Request-Id` header, if it sent one (the app sends `<callId>:<replyId>`). */
  clientRequestId: string | undefined
  receivedAtMs: number
  firstTokenAtMs: number | undefined
  tokensSent: number
  /** When each content token went out (performance.now()), in order. */
  tokenSentAtMs: number[]
  /** The client went away before the reply was complete (an AbortSignal, a closed socket). */
  aborted: boolean
  abortedAtMs: number | undefined
  completed: boolean
}

/** Splits a reply into tokens the way a model streams them: words with their leading space, punctuation apart. */
export function tokenize(text: string): string[] {
  return text.match(/\s*[\w'’-]+|\s*[^\w\s]|\s+/g) ?? []
}

export class FakeOpenAiChat extends EventEmitter<{
  request: [ChatRequestRecord]
  aborted: [ChatRequestRecord]
  completed: [ChatRequestRecord]
}> {
  readonly requests: ChatRequestRecord[] = []
  /** Requests whose body was not acceptable, by reason. */
  readonly rejected: string[] = []
  /** TCP connections accepted so far (a client that keeps its connections alive opens few). */
  connections = 0
  firstTokenDelayMs: number
  tokenIntervalMs: number
  /** What `GET /v1/models` lists; change it to take a model away. */
  models: string[]
  reply: (messages: ChatMessage[], index: number) => string
  readonly #apiKey: string
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  private constructor(opts: FakeChatOptions) {
    super()
    this.#apiKey = opts.apiKey ?? 'test-key'
    this.firstTokenDelayMs = opts.firstTokenDelayMs ?? 0
    this.tokenIntervalMs = opts.tokenIntervalMs ?? 0
    this.models = opts.models ?? ['gpt-4o-mini', 'gpt-4o', 'gpt-realtime', 'gpt-realtime-mini', 'whisper-1']
    this.reply =
      opts.reply ??
      ((messages) => `You said: ${[...messages].reverse().find((m) => m.role === 'user')?.content ?? ''}.`)
    this.#server = createServer((req, res) => void this.#handle(req, res))
    this.#server.on('connection', (s) => {
      this.connections++
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
    })
  }

  static async start(opts: FakeChatOptions = {}): Promise<FakeOpenAiChat> {
    const fake = new FakeOpenAiChat(opts)
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve))
    return fake
  }

  /** For `OPENAI_BASE_URL` and the SDK's `baseURL`. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`
  }

  get apiKey(): string {
    return this.#apiKey
  }

  /** Resolves with the next request to arrive (or the one with this index, if it already came). */
  nextRequest(index = this.requests.length): Promise<ChatRequestRecord> {
    const seen = this.requests[index]
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => {
      const on = (r: ChatRequestRecord) => {
        if (r.index !== index) return
        this.off('request', on)
        resolve(r)
      }
      this.on('request', on)
    })
  }

  /** Resolves once request `r` was aborted by the client. */
  whenAborted(r: ChatRequestRecord): Promise<ChatRequestRecord> {
    if (r.aborted) return Promise.resolve(r)
    return new Promise((resolve) => {
      const on = (a: ChatRequestRecord) => {
        if (a !== r) return
        this.off('aborted', on)
        resolve(a)
      }
      this.on('aborted', on)
    })
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
      for (const s of this.#sockets) s.destroy()
    })
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.headers.authorization !== `Bearer ${this.#apiKey}`) {
      return json(res, 401, {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          param: null
        }
      })
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return json(res, 200, {
        object: 'list',
        data: this.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' }))
      })
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      return json(res, 404, { error: { message: 'Not found', type: 'invalid_request_error', code: null, param: null } })
    }
    let body: Record<string, unknown>
    try {
      body = JSON.parse((await readAll(req)).toString('utf8')) as Record<string, unknown>
    } catch {
      this.rejected.push('invalid json')
      return json(res, 400, {
        error: {
          message: 'We could not parse the JSON body of your request.',
          type: 'invalid_request_error',
          code: null,
          param: null
        }
      })
    }
    const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : undefined
    if (typeof body.model !== 'string' || !messages || messages.length === 0) {
      this.rejected.push('missing model or messages')
      return json(res, 400, {
        error: {
          message: "Missing required parameter: 'messages'.",
          type: 'invalid_request_error',
          code: null,
          param: 'messages'
        }
      })
    }
    const record: ChatRequestRecord = {
      index: this.requests.length,
      model: body.model,
      stream: body.stream === true,
      temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
      messages: messages.map((m) => ({
        role: m.role,
        content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content)
      })),
      body,
      clientRequestId:
        typeof req.headers['x-client-request-id'] === 'string' ? req.headers['x-client-request-id'] : undefined,
      receivedAtMs: performance.now(),
      firstTokenAtMs: undefined,
      tokensSent: 0,
      tokenSentAtMs: [],
      aborted: false,
      abortedAtMs: undefined,
      completed: false
    }
    this.requests.push(record)
    const text = this.reply(record.messages, record.index)
    res.on('close', () => {
      if (record.completed) return
      record.aborted = true
      record.abortedAtMs = performance.now()
      this.emit('aborted', record)
    })
    this.emit('request', record)
    const id = 'chatcmpl-' + randomBytes(12).toString('hex')
    const created = Math.floor(Date.now() / 1000)
    const model = record.model

    if (!record.stream) {
      await delay(this.firstTokenDelayMs)
      if (res.destroyed) return
      record.completed = true
      json(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            finish_reason: 'stop',
            logprobs: null
          }
        ],
        usage: { prompt_tokens: 10, completion_tokens: tokenize(text).length, total_tokens: 10 + tokenize(text).length }
      })
      this.emit('completed', record)
      return
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive'
    })
    res.flushHeaders()
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`
    res.write(chunk({ role: 'assistant', content: '', refusal: null }, null))
    await delay(this.firstTokenDelayMs)
    const tokens = tokenize(text)
    for (let i = 0; i < tokens.length; i++) {
      if (res.destroyed) return
      if (i > 0 && this.tokenIntervalMs > 0) await delay(this.tokenIntervalMs)
      if (res.destroyed) return
      res.write(chunk({ content: tokens[i] }, null))
      const sentAtMs = performance.now()
      record.firstTokenAtMs ??= sentAtMs
      record.tokenSentAtMs.push(sentAtMs)
      record.tokensSent++
    }
    if (res.destroyed) return
    res.write(chunk({}, 'stop'))
    const opts = body.stream_options as { include_usage?: boolean } | undefined
    if (opts?.include_usage) {
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: 10, completion_tokens: tokens.length, total_tokens: 10 + tokens.length } })}\n\n`
      )
    }
    record.completed = true
    res.end('data: [DONE]\n\n')
    this.emit('completed', record)
  }
}

function json(res: ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}
