// The console's one store, made of typed slices (zustand slices pattern); React reads it through useAppStore.
import { useStore } from 'zustand'
import { createStore, type StoreApi } from 'zustand/vanilla'
import { createCallsSlice, type CallsSlice } from './calls-slice.js'
import { createConfigSlice, type ConfigSlice } from './config-slice.js'
import { createConnectionSlice, type ConnectionSlice } from './connection-slice.js'
import { createDialerSlice, type DialerSlice } from './dialer-slice.js'
import { createEventLogSlice, type EventLogSlice } from './event-log-slice.js'
import { createHealthSlice, type HealthSlice } from './health-slice.js'
import { createLoopbackSlice, type LoopbackSlice } from './loopback-slice.js'
import { createNotesSlice, type NotesSlice } from './notes-slice.js'
import { createSoftphoneSlice, type SoftphoneSlice } from './softphone-slice.js'
import { createUiSlice, type UiSlice } from './ui-slice.js'

export type AppState = ConnectionSlice &
  HealthSlice &
  EventLogSlice &
  CallsSlice &
  LoopbackSlice &
  UiSlice &
  ConfigSlice &
  DialerSlice &
  SoftphoneSlice &
  NotesSlice
export type AppStore = StoreApi<AppState>

export function createAppStore(): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createConnectionSlice(...a),
    ...createHealthSlice(...a),
    ...createEventLogSlice(...a),
    ...createCallsSlice(...a),
    ...createLoopbackSlice(...a),
    ...createUiSlice(...a),
    ...createConfigSlice(...a),
    ...createDialerSlice(...a),
    ...createSoftphoneSlice(...a),
    ...createNotesSlice(...a)
  }))
}

/** The store the console renders from. */
export const appStore = createAppStore()

export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector)
}
