// Where the console finds the control API: the Electron preload's bridge, or the page's own origin plus `#token=`.
import type { DesktopHelpers } from '../../../shared/bridge.js'

export interface Connection {
  /** Base URL of the control API, without a trailing slash. */
  controlUrl: string
  token: string
  /** Present only inside the Electron window. */
  desktop?: DesktopHelpers
}

const TOKEN_STORAGE_KEY = 'callbench.token'

/** The subset of `window` this module reads, so it can run against a fake in tests. */
export interface ConnectionSource {
  callbench?: Window['callbench']
  location: { origin: string; hash: string; pathname: string; search: string }
  history?: { replaceState(data: unknown, unused: string, url?: string): void }
  sessionStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void }
}

/**
 * Resolves the control API connection, or null when there is no token to use.
 * In a browser the token arrives once in the URL hash; it is kept in sessionStorage and removed from the
 * address bar so it does not end up in bookmarks, screenshots or shared links.
 */
export function resolveConnection(source: ConnectionSource): Connection | null {
  const bridge = source.callbench
  if (bridge && bridge.controlUrl && bridge.token) {
    return { controlUrl: trimSlash(bridge.controlUrl), token: bridge.token, desktop: bridge.desktop }
  }
  const fromHash = new URLSearchParams(source.location.hash.replace(/^#/, '')).get('token')
  if (fromHash) {
    source.sessionStorage?.setItem(TOKEN_STORAGE_KEY, fromHash)
    source.history?.replaceState(null, '', source.location.pathname + source.location.search)
  }
  const token = fromHash || source.sessionStorage?.getItem(TOKEN_STORAGE_KEY)
  if (!token) return null
  return { controlUrl: trimSlash(source.location.origin), token }
}

/** The events WebSocket URL for a connection. */
export function eventsUrl(conn: Connection): string {
  const url = new URL('/api/events', conn.controlUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('token', conn.token)
  return url.toString()
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url
}
