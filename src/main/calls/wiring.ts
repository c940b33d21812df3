/** Wires live calls into the app: media endpoints on both listeners and the live-call routes. */
import type { App } from '../app.js'
import { CallbenchError } from '../../shared/errors.js'
import { registerBuiltinEngines } from '../agents/index.js'
import { sendJson } from '../server/http.js'
import { CallRegistry } from './registry.js'
import { getSilero } from '../vad/index.js'

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
  // GET /api/calls (the history, live calls merged) is served by server/routes/records.ts.
  // `?marks=0` leaves out the marks (hundreds a call-minute), for a client that reads only the rest: the benchmark
  // asks every call's view while hundreds of others run, and serialising their marks was part of what it measured.
  r.get('/api/calls/:id/live', ({ res, params, url }) => {
    const s = calls.get(params.id!)
    if (!s) throw new CallbenchError('call_not_found', 'No live call with that id')
    const timeline =
      url.searchParams.get('marks') === '0' ? s.timeline.filter((e) => !e.kind.startsWith('mark.')) : s.timeline
    sendJson(res, 200, { call: s.summary(), turns: s.turns, timeline, stats: s.stats })
  })
  app.onStop(() => calls.closeAll())
  // Load the shared Silero model in the background so the first call does not wait for it.
  if (app.settings.get().vad.method === 'silero') {
    getSilero().catch((err: unknown) =>
      app.log.warn('Silero model did not load; calls fall back to the energy VAD', { err: err as Error })
    )
  }
  return calls
}
