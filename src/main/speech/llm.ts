/** OpenAI Chat Completions, streamed: one conversation per call, history kept, abortable; the `openai` SDK client. */
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai'
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import { Agent } from 'undici'
import { CallbenchError } from '../../shared/errors.js'
import type { SecretStore } from '../settings/secrets.js'
import { requestFetch } from './request-fetch.js'

export const DEFAULT_LLM_MODEL = 'gpt-4o-mini'

/** Where the key and base URL come from (an App or an engine's AgentDeps both fit). */
export interface OpenAiSource {
  secrets: Pick<SecretStore, 'get'>
  config: (name: string) => string | undefined
}

let cached: { key: string; client: OpenAI } | undefined

/**
 * Idle connections are kept this long, ms. Node's fetch drops them after 4 s, shorter than the gap between two
 * turns of a call, so every turn paid a TCP and TLS handshake before its request could leave.
 */
const KEEP_ALIVE_MS = 120_000

/** One connection pool for every call: a turn reuses the connection the previous turn (of any call) left open. */
let keepAlive: Agent | undefined

function pool(): Agent {
  keepAlive ??= new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS })
  return keepAlive
}

/** The SDK client for the current `OPENAI_API_KEY` and `OPENAI_BASE_URL`; `not_configured` without a key. */
export async function openAiFrom(source: OpenAiSource): Promise<OpenAI> {
  const apiKey = await source.secrets.get('OPENAI_API_KEY')
  if (!apiKey) throw new CallbenchError('not_configured', 'OpenAI API key is not set', { field: 'OPENAI_API_KEY' })
  const baseURL = source.config('OPENAI_BASE_URL') || undefined
  const key = `${apiKey}\n${baseURL ?? ''}`
  if (cached?.key === key) return cached.client
  // Retries would replay a turn the caller is waiting on; one is enough to ride out a dropped keep-alive socket.
  // The SDK's requests go through undici's `request` on the shared keep-alive pool (see request-fetch.ts).
  const client = new OpenAI({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    maxRetries: 1,
    timeout: 30_000,
    fetch: requestFetch(pool())
  })
  cached = { key, client }
  return client
}

export interface ChatOptions {
  model: string
  /** System prompt. */
  instructions: string
  /** 0–2; the API's default when omitted. */
  temperature?: number
  /** Longest reply, tokens. Default 300 (a phone answer, not an essay). */
  maxTokens?: number
  /** User and assistant messages kept (the system prompt is always sent). Default 40. */
  maxHistoryMessages?: number
}

export type ChatRole = 'user' | 'assistant' | 'system'

/** Tokens one streamed reply used: as the service reported them, or estimated when the stream was cut first. */
export interface ChatUsage {
  promptTokens: number
  completionTokens: number
  /** Cut before the service's usage chunk: about 4 characters a token. */
  estimated: boolean
}

const CHARS_PER_TOKEN = 4

/** One call's conversation with the model. */
export class ChatConversation {
  readonly #client: OpenAI
  readonly #opts: Required<Omit<ChatOptions, 'temperature'>> & Pick<ChatOptions, 'temperature'>
  readonly #history: Array<{ role: ChatRole; content: string }> = []

  constructor(client: OpenAI, opts: ChatOptions) {
    this.#client = client
    this.#opts = {
      model: opts.model || DEFAULT_LLM_MODEL,
      instructions: opts.instructions,
      maxTokens: opts.maxTokens ?? 300,
      maxHistoryMessages: opts.maxHistoryMessages ?? 40,
      ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {})
    }
  }

  /** User and assistant turns so far, oldest first (system prompt not included). */
  get history(): ReadonlyArray<{ role: ChatRole; content: string }> {
    return this.#history
  }

  add(role: ChatRole, content: string): void {
    if (!content.trim()) return
    appendMessage(this.#history, role, content)
    const excess = this.#history.length - this.#opts.maxHistoryMessages
    if (excess > 0) this.#history.splice(0, excess)
  }

  /**
   * Streams the model's reply to the conversation so far, as text deltas. The reply is not added to the history:
   * the caller adds what was actually spoken (all of it, or the heard part after a barge-in). Aborting `signal`
   * ends the iteration quietly and closes the HTTP request; other failures throw a CallbenchError.
   * `requestId` goes out as `X-Client-Request-Id`, so the request can be traced to its call and reply.
   * `onUsage` gets the tokens the reply used once it ends, however it ends (the service bills a cut reply too).
   * `pendingUser` is caller text answered as if added, without adding it (an early reply, before the turn is over).
   */
  async *stream(
    signal: AbortSignal,
    opts: { requestId?: string; onUsage?: (usage: ChatUsage) => void; pendingUser?: string } = {}
  ): AsyncGenerator<string> {
    const history = this.#history.map((m) => ({ role: m.role, content: m.content }))
    const pending = opts.pendingUser?.trim()
    if (pending) appendMessage(history, 'user', pending)
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: this.#opts.instructions },
      ...history.map((m) => m as ChatCompletionMessageParam)
    ]
    let reported: ChatUsage | undefined
    let replyChars = 0
    try {
      const stream = await this.#client.chat.completions.create(
        {
          model: this.#opts.model,
          messages,
          stream: true,
          ...(opts.onUsage ? { stream_options: { include_usage: true } } : {}),
          max_completion_tokens: this.#opts.maxTokens,
          ...(this.#opts.temperature !== undefined ? { temperature: this.#opts.temperature } : {})
        },
        { signal, ...(opts.requestId ? { headers: { 'X-Client-Request-Id': opts.requestId } } : {}) }
      )
      for await (const chunk of stream) {
        if (chunk.usage) {
          const u = chunk.usage
          reported = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, estimated: false }
        }
        const delta = chunk.choices[0]?.delta?.content
        if (delta) {
          replyChars += delta.length
          yield delta
        }
      }
    } catch (err) {
      if (signal.aborted) return
      throw llmError(err)
    } finally {
      opts.onUsage?.(reported ?? estimateUsage(messages, replyChars))
    }
  }

  /** The whole reply at once (the Gather fallback, where nothing can be spoken before the webhook answers). */
  async complete(signal?: AbortSignal): Promise<string> {
    const controller = new AbortController()
    const onAbort = () => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      let text = ''
      for await (const delta of this.stream(controller.signal)) text += delta
      return text
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }
}

/** Adds a message: two caller turns in a row (the first reply was cut before anything was heard) read as one. */
function appendMessage(list: Array<{ role: ChatRole; content: string }>, role: ChatRole, content: string): void {
  const last = list[list.length - 1]
  if (last && last.role === role && role === 'user') last.content = `${last.content} ${content}`
  else list.push({ role, content })
}

function estimateUsage(messages: readonly ChatCompletionMessageParam[], replyChars: number): ChatUsage {
  let promptChars = 0
  for (const m of messages) promptChars += typeof m.content === 'string' ? m.content.length : 0
  return {
    promptTokens: Math.ceil(promptChars / CHARS_PER_TOKEN),
    completionTokens: Math.ceil(replyChars / CHARS_PER_TOKEN),
    estimated: true
  }
}

/** Maps an SDK failure to a CallbenchError. */
export function llmError(err: unknown): CallbenchError {
  if (err instanceof CallbenchError) return err
  if (err instanceof APIUserAbortError)
    return new CallbenchError('upstream_closed', 'OpenAI request was aborted', { cause: err })
  if (err instanceof APIConnectionTimeoutError) {
    return new CallbenchError('upstream_timeout', 'OpenAI timed out', { cause: err, retryable: true })
  }
  if (err instanceof APIError && err.status !== undefined) return chatStatusError(err.status, err.message, err)
  // An `error` event in the middle of the stream: the SDK raises it without an HTTP status.
  if (err instanceof APIError) {
    return new CallbenchError('upstream_failed', `OpenAI stream failed: ${err.message.slice(0, 200)}`, {
      cause: err,
      retryable: true
    })
  }
  return new CallbenchError('upstream_failed', 'OpenAI request failed', { cause: err, retryable: true })
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
