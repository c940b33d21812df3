/** Wires live calls into the app: media endpoints on both listeners and the live-call routes. */
import type { App } from '../app.js'
import { CallbenchError } from '../../shared/errors.js'
import { registerBuiltinEngines } from '../agents/index.js'
import { sendJson } from '../server/http.js'
import { CallRegistry } from './registry.js'

export function registerCalls(app: App, resourcesDir: string): CallRegistry {
  registerBuiltinEngines()
  const calls = new CallRegistry({
    hub: app.hub,
    log: app.log,
    secrets: app.secrets,
    config: app.config,
    settings: () => app.settings.get(),
    resourcesDir
  })
  app.publicListener.ws('/twilio/media', (ws, req) => calls.attach(ws, req, 'twilio'))
  // The same protocol on the control listener (token-checked): loopback calls, tests and the benchmark.
  app.controlListener.ws('/api/media', (ws, req) => calls.attach(ws, req, 'loopback'))

  const r = app.controlListener.router
  r.get('/api/calls', ({ res }) => {
    const list = calls.summaries()
    sendJson(res, 200, { calls: list, total: list.length, page: 1, pageSize: list.length })
  })
  r.get('/api/calls/:id/live', ({ res, params }) => {
    const s = calls.get(params.id!)
    if (!s) throw new CallbenchError('call_not_found', 'No live call with that id')
    sendJson(res, 200, { call: s.summary(), turns: s.turns, timeline: s.timeline, stats: s.stats })
  })
  app.onStop(() => calls.closeAll())
  return calls
}
