/** Core control routes: health and settings. */
import { HealthSchema, SettingsUpdateSchema, type Health, type SettingsView } from '../../../shared/api.js'
import { SECRET_NAMES } from '../../../shared/settings.js'
import { warmElevenLabsSdk, warmingUp, type App } from '../../app.js'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { maskSecret } from '../../settings/secrets.js'
import { parseWith, readJson, sendJson } from '../http.js'

export async function settingsView(app: App): Promise<SettingsView> {
  const secrets = {} as SettingsView['secrets']
  for (const name of SECRET_NAMES) secrets[name] = maskSecret(await app.secrets.get(name))
  return { settings: app.settings.get(), secrets }
}

const LOOP_RESOLUTION_MS = 5

export function registerCoreRoutes(app: App): void {
  const r = app.controlListener.router
  // How late the event loop every call shares ran: the first thing to read when latencies have a tail.
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  loop.enable()
  const lateMs = (periodNs: number): number => Math.round(Math.max(0, periodNs / 1e6 - LOOP_RESOLUTION_MS) * 10) / 10
  r.get('/api/health', async ({ res, url }) => {
    const publicUrl = app.publicUrl()
    const phoneNumber = app.settings.get().twilio.phoneNumber || app.config('TWILIO_PHONE_NUMBER')
    const health: Health = {
      status: 'ok',
      version: app.version,
      uptimeS: Math.round((Date.now() - app.startedAtMs) / 100) / 10,
      services: await app.services(),
      tunnel: app.tunnelState(),
      activeCalls: app.activeCalls(),
      warmingUp: warmingUp(),
      eventLoopDelayMs: { p50: lateMs(loop.percentile(50)), p99: lateMs(loop.percentile(99)), max: lateMs(loop.max) },
      ...(publicUrl ? { publicUrl } : {}),
      ...(phoneNumber ? { phoneNumber } : {})
    }
    // `?resetLoop=1`: the next reading covers only what follows (the benchmark reads the steady state).
    if (url.searchParams.get('resetLoop') === '1') loop.reset()
    sendJson(res, 200, HealthSchema.parse(health))
  })
  r.get('/api/settings', async ({ res }) => sendJson(res, 200, await settingsView(app)))
  r.put('/api/settings', async ({ req, res }) => {
    const update = parseWith(SettingsUpdateSchema, await readJson(req))
    for (const [name, value] of Object.entries(update.secrets ?? {})) {
      const key = name as (typeof SECRET_NAMES)[number]
      if (value) {
        await app.secrets.set(key, value)
        if (key === 'ELEVENLABS_API_KEY') warmElevenLabsSdk(app)
      } else await app.secrets.delete(key)
    }
    if (update.settings) await app.settings.update(update.settings)
    app.log.info('settings updated', { secrets: Object.keys(update.secrets ?? {}).length })
    sendJson(res, 200, await settingsView(app))
  })
}
