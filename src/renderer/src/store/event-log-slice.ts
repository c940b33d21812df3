// A bounded list of what happened on the events link, newest last.
import type { StateCreator } from 'zustand/vanilla'
import type { AppState } from './index.js'

export type EventLevel = 'debug' | 'info' | 'warn' | 'error'

export interface EventLogEntry {
  /** Increases by one per entry; a stable React key. */
  seq: number
  /** Epoch ms, as received by the console. */
  atMs: number
  type: string
  level: EventLevel
  summary: string
}

export interface EventLogSlice {
  eventLog: EventLogEntry[]
  appendEvent(entry: Omit<EventLogEntry, 'seq'>): void
  clearEventLog(): void
}

/** Older entries are dropped beyond this many. */
export const EVENT_LOG_LIMIT = 300

let nextSeq = 1

export const createEventLogSlice: StateCreator<AppState, [], [], EventLogSlice> = (set) => ({
  eventLog: [],
  appendEvent: (entry) =>
    set((s) => {
      const next = s.eventLog.length >= EVENT_LOG_LIMIT ? s.eventLog.slice(1 - EVENT_LOG_LIMIT) : s.eventLog.slice()
      next.push({ ...entry, seq: nextSeq++ })
      return { eventLog: next }
    }),
  clearEventLog: () => set({ eventLog: [] })
})
