// Fetches what the console shows from the core into the store; failures land in the store, never thrown at the UI.
import type { SettingsUpdate, SettingsView } from '../../../shared/api.js'
import type { AppStore } from '../store/index.js'
import type { ApiClient } from './client.js'

function message(err: unknown, fallback: string): string {
  return err instanceof Error ? err.message : fallback
}

export async function loadSettings(api: ApiClient, store: AppStore): Promise<void> {
  try {
    store.getState().setSettingsView(await api.settings())
  } catch {
    // Shown as missing; the health panel already says when the core is unreachable.
  }
}

export async function loadProfiles(api: ApiClient, store: AppStore): Promise<void> {
  try {
    const { profiles } = await api.profiles()
    store.getState().setProfiles({ state: 'ready', data: profiles })
  } catch (err) {
    store.getState().setProfiles({ state: 'error', message: message(err, 'Profiles could not be loaded') })
  }
}

export async function loadEngines(api: ApiClient, store: AppStore): Promise<void> {
  try {
    store.getState().setEngines({ state: 'ready', data: await api.engines() })
  } catch (err) {
    store.getState().setEngines({ state: 'error', message: message(err, 'Engines could not be loaded') })
  }
}

export async function loadVoices(api: ApiClient, store: AppStore, refresh = false): Promise<void> {
  try {
    store.getState().setVoices({ state: 'ready', data: await api.voices(refresh) })
  } catch (err) {
    store.getState().setVoices({ state: 'error', message: message(err, 'Voices could not be loaded') })
  }
}

/** Everything the views need at start and after each reconnect. */
export async function loadAll(api: ApiClient, store: AppStore): Promise<void> {
  await Promise.all([loadSettings(api, store), loadProfiles(api, store), loadEngines(api, store)])
}

/** Saves a settings patch (deep-merged over the current settings by the core) and/or secrets. */
export async function saveSettings(api: ApiClient, store: AppStore, update: SettingsUpdate): Promise<SettingsView> {
  const view = await api.updateSettings(update)
  store.getState().setSettingsView(view)
  return view
}
