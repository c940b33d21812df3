// Fetches the health report into the store; failures land in `healthError`, never thrown at the UI.
import type { ApiClient } from '../../api/client.js'
import type { AppStore } from '../../store/index.js'

export async function loadHealth(api: ApiClient, store: AppStore, now: () => number = Date.now): Promise<void> {
  try {
    const health = await api.health()
    store.getState().setHealth(health, now())
  } catch (err) {
    store.getState().setHealthError(err instanceof Error ? err.message : 'Health check failed')
  }
}
