/** Network failures in words: why a request never got an answer (refused, unknown host, timeout…), from any SDK's error. */

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_SOCKET: 'connection closed',
  TimeoutError: 'timed out',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host'
}

/** Why a request got no HTTP answer, when `err` (or one of its causes) says so; undefined for anything else. */
export function networkFailure(err: unknown): string | undefined {
  const seen = new Set<unknown>()
  let e: unknown = err
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e)
    const { code, name, errors } = e as { code?: unknown; name?: unknown; errors?: unknown }
    if (typeof code === 'string' && REASONS[code]) return REASONS[code]
    if (typeof name === 'string' && REASONS[name]) return REASONS[name]
    // Happy-eyeballs tries IPv4 and IPv6: Node reports an AggregateError of both refusals.
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const r = networkFailure(inner)
        if (r) return r
      }
    }
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** `host[:port]` of a base URL, for "could not reach …" messages; the URL itself when it does not parse. */
export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host
  } catch {
    return baseUrl
  }
}
