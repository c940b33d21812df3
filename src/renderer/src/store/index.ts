// The console's one store, made of typed slices (zustand slices pattern); React reads it through useAppStore.
import { useStore } from 'zustand'
import { createStore, type StoreApi } from 'zustand/vanilla'
import { createCallsSlice, type CallsSlice } from './calls-slice.js'
import { createConnectionSlice, type ConnectionSlice } from './connection-slice.js'
import { createEventLogSlice, type EventLogSlice } from './event-log-slice.js'
import { createHealthSlice, type HealthSlice } from './health-slice.js'
import { createLoopbackSlice, type LoopbackSlice } from './loopback-slice.js'
import { createUiSlice, type UiSlice } from './ui-slice.js'

export type AppState = ConnectionSlice & HealthSlice & EventLogSlice & CallsSlice & LoopbackSlice & UiSlice
export type AppStore = StoreApi<AppState>

export function createAppStore(): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createConnectionSlice(...a),
    ...createHealthSlice(...a),
    ...createEventLogSlice(...a),
    ...createCallsSlice(...a),
    ...createLoopbackSlice(...a),
    ...createUiSlice(...a)
  }))
}

/** The store the console renders from. */
export const appStore = createAppStore()

export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector)
}
