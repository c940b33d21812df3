/** A tiny method + path router with `:param` segments, used by both listeners. */
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  params: Record<string, string>
  url: URL
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void

interface Route<H> {
  method: string
  parts: string[]
  handler: H
}

/** `H` is the handler type: HTTP handlers by default, WebSocket upgrade handlers on the listeners' upgrade table. */
export class Router<H = RouteHandler> {
  readonly #routes: Route<H>[] = []

  add(method: string, path: string, handler: H): this {
    this.#routes.push({ method: method.toUpperCase(), parts: path.split('/').filter(Boolean), handler })
    return this
  }
  get(path: string, h: H): this {
    return this.add('GET', path, h)
  }
  post(path: string, h: H): this {
    return this.add('POST', path, h)
  }
  put(path: string, h: H): this {
    return this.add('PUT', path, h)
  }
  delete(path: string, h: H): this {
    return this.add('DELETE', path, h)
  }

  /** The matching handler and params, `'method'` when only the method is wrong, or undefined. */
  match(method: string, pathname: string): { handler: H; params: Record<string, string> } | 'method' | undefined {
    const segs = pathname.split('/').filter(Boolean)
    let methodMismatch = false
    for (const route of this.#routes) {
      if (route.parts.length !== segs.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < segs.length; i++) {
        const part = route.parts[i]!
        const seg = segs[i]!
        if (part.startsWith(':')) {
          try {
            params[part.slice(1)] = decodeURIComponent(seg)
          } catch {
            ok = false
            break
          }
        } else if (part !== seg) {
          ok = false
          break
        }
      }
      if (!ok) continue
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        methodMismatch = true
        continue
      }
      return { handler: route.handler, params }
    }
    return methodMismatch ? 'method' : undefined
  }
}
