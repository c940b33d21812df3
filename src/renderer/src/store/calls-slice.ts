// Calls the console has heard about, and their latest audio levels (read by meters through a transient subscribe).
import type { StateCreator } from 'zustand/vanilla'
import type { CallSummary } from '../../../shared/calls.js'
import type { Levels } from '../../../shared/events.js'
import type { AppState } from './index.js'

export interface CallsSlice {
  calls: Record<string, CallSummary>
  levels: Record<string, Levels>
  upsertCall(call: CallSummary): void
  setLevels(callId: string, levels: Levels): void
}

export const createCallsSlice: StateCreator<AppState, [], [], CallsSlice> = (set) => ({
  calls: {},
  levels: {},
  upsertCall: (call) => set((s) => ({ calls: { ...s.calls, [call.id]: call } })),
  setLevels: (callId, levels) => set((s) => ({ levels: { ...s.levels, [callId]: levels } }))
})
