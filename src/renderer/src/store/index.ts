// The console's one store, made of typed slices (zustand slices pattern); React reads it through useAppStore.
import { useStore } from 'zustand'
import { createStore, type StoreApi } from 'zustand/vanilla'
import { createCallsSlice, type CallsSlice } from './calls-slice.js'
import { createConnectionSlice, type ConnectionSlice } from './connection-slice.js'
import { createEventLogSlice, type EventLogSlice } from './event-log-slice.js'
import { createHealthSlice, type HealthSlice } from './health-slice.js'

export type AppState = ConnectionSlice & HealthSlice & EventLogSlice & CallsSlice
export type AppStore = StoreApi<AppState>

export function createAppStore(): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createConnectionSlice(...a),
    ...createHealthSlice(...a),
    ...createEventLogSlice(...a),
    ...createCallsSlice(...a)
  }))
}

/** The store the console renders from. */
export const appStore = createAppStore()

export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector)
}
