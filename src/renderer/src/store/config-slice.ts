// What the core is configured with: settings (secrets masked), agent profiles, engines, voices.
import type { StateCreator } from 'zustand/vanilla'
import type { EngineList, Profile, SettingsView, VoiceList } from '../../../shared/api.js'
import type { AppState } from './index.js'

/** A list fetched from the core: not yet asked, here, or failed with a message (e.g. the key it needs). */
export type Fetched<T> = { state: 'idle' } | { state: 'ready'; data: T } | { state: 'error'; message: string }

export interface ConfigSlice {
  settingsView: SettingsView | null
  profiles: Fetched<Profile[]>
  /** `ready` with null data: this core has no engines API. */
  engines: Fetched<EngineList | null>
  voices: Fetched<VoiceList>
  setSettingsView(view: SettingsView): void
  setProfiles(profiles: Fetched<Profile[]>): void
  setEngines(engines: Fetched<EngineList | null>): void
  setVoices(voices: Fetched<VoiceList>): void
}

export const createConfigSlice: StateCreator<AppState, [], [], ConfigSlice> = (set) => ({
  settingsView: null,
  profiles: { state: 'idle' },
  engines: { state: 'idle' },
  voices: { state: 'idle' },
  setSettingsView: (settingsView) => set({ settingsView }),
  setProfiles: (profiles) => set({ profiles }),
  setEngines: (engines) => set({ engines }),
  setVoices: (voices) => set({ voices })
})
