/** Stable error codes shared by the core, the control API and the console. */
export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'payload_too_large',
  'conflict',
  'not_configured',
  'upstream_failed',
  'upstream_timeout',
  'upstream_closed',
  'invalid_message',
  'call_not_found',
  'call_ended',
  'unsupported',
  'rate_limited',
  'internal'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** The body every failing control API request answers with. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string }
}

/** An error with a stable code, a retryable flag and an optional cause. */
export class CallbenchError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly field?: string

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown; field?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'CallbenchError'
    this.code = code
    this.retryable = opts.retryable ?? false
    if (opts.field !== undefined) this.field = opts.field
  }
}

/** HTTP status for each error code. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'bad_request':
    case 'invalid_message':
      return 400
    case 'unauthorized':
      return 401
    case 'forbidden':
      return 403
    case 'not_found':
    case 'call_not_found':
      return 404
    case 'conflict':
    case 'call_ended':
      return 409
    case 'payload_too_large':
      return 413
    case 'rate_limited':
      return 429
    case 'not_configured':
    case 'unsupported':
      return 422
    case 'upstream_failed':
    case 'upstream_closed':
      return 502
    case 'upstream_timeout':
      return 504
    case 'internal':
      return 500
  }
}
