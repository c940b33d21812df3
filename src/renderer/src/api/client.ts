// The only module that speaks the control API over HTTP; every response is parsed with the shared zod schemas.
import type { z } from 'zod'
import {
  CallListSchema,
  ErrorBodySchema,
  HealthSchema,
  SettingsViewSchema,
  type CallList,
  type Health,
  type SettingsUpdate,
  type SettingsView
} from '../../../shared/api.js'
import type { Connection } from './connection.js'

/** A failed request: the API's own error code, or `network` / `invalid_response` from this side. */
export class ApiError extends Error {
  readonly code: string
  /** HTTP status, 0 when no response arrived. */
  readonly status: number

  constructor(code: string, message: string, status: number, opts?: { cause?: unknown }) {
    super(message, opts)
    this.name = 'ApiError'
    this.code = code
    this.status = status
  }
}

export interface CallListQuery {
  page?: number
  pageSize?: number
}

export interface ApiClient {
  health(signal?: AbortSignal): Promise<Health>
  settings(signal?: AbortSignal): Promise<SettingsView>
  updateSettings(update: SettingsUpdate, signal?: AbortSignal): Promise<SettingsView>
  calls(query?: CallListQuery, signal?: AbortSignal): Promise<CallList>
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export function createApiClient(conn: Connection, fetchImpl: FetchLike = (i, init) => fetch(i, init)): ApiClient {
  async function request<S extends z.ZodType>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    opts: { body?: unknown; signal?: AbortSignal | undefined } = {}
  ): Promise<z.infer<S>> {
    const headers: Record<string, string> = { authorization: `Bearer ${conn.token}`, accept: 'application/json' }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetchImpl(conn.controlUrl + path, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: opts.signal ?? null
      })
    } catch (err) {
      throw new ApiError('network', 'The control API is unreachable', 0, { cause: err })
    }
    const json: unknown = await res.json().catch(() => undefined)
    if (!res.ok) {
      const body = ErrorBodySchema.safeParse(json)
      if (body.success) throw new ApiError(body.data.error.code, body.data.error.message, res.status)
      throw new ApiError('http_error', `HTTP ${res.status} from ${path}`, res.status)
    }
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      throw new ApiError('invalid_response', `Unexpected response from ${path}`, res.status, { cause: parsed.error })
    }
    return parsed.data
  }

  return {
    health: (signal) => request('GET', '/api/health', HealthSchema, { signal }),
    settings: (signal) => request('GET', '/api/settings', SettingsViewSchema, { signal }),
    updateSettings: (update, signal) => request('PUT', '/api/settings', SettingsViewSchema, { body: update, signal }),
    calls: (query = {}, signal) => {
      const params = new URLSearchParams()
      if (query.page !== undefined) params.set('page', String(query.page))
      if (query.pageSize !== undefined) params.set('pageSize', String(query.pageSize))
      const qs = params.size > 0 ? `?${params}` : ''
      return request('GET', `/api/calls${qs}`, CallListSchema, { signal })
    }
  }
}
