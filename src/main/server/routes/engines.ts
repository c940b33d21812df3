/** GET /api/engines: every engine with whether a call can use it now, and the reason (the key it needs) when not. */
import { AGENT_MODES, AGENT_MODE_LABELS } from '../../../shared/modes.js'
import type { EngineInfo } from '../../../shared/api.js'
import type { App } from '../../app.js'
import { listEngines } from '../../agents/engines.js'
import { sendJson } from '../http.js'

export function registerEngines(app: App): void {
  app.controlListener.router.get('/api/engines', async ({ res }) => {
    const deps = { secrets: app.secrets, config: app.config, settings: app.settings.get() }
    const defs = new Map(listEngines().map((d) => [d.mode, d]))
    const out: EngineInfo[] = []
    for (const mode of AGENT_MODES) {
      const def = defs.get(mode)
      const reason = def ? await (def.phoneUnavailable ?? def.unavailable).call(def, deps) : 'Not in this build'
      out.push({
        mode,
        label: AGENT_MODE_LABELS[mode],
        available: reason === undefined,
        ...(reason !== undefined ? { reason } : {})
      })
    }
    sendJson(res, 200, out)
  })
}
