// Calls the console has heard about: summaries, latest audio levels (read by meters through a transient subscribe),
// and each live call's transcript, turns and timeline.
import type { StateCreator } from 'zustand/vanilla'
import type { CallSummary, TurnMetrics, UploadState } from '../../../shared/calls.js'
import type { Levels, TimelineEntry } from '../../../shared/events.js'
import type { CallCost } from '../../../shared/cost.js'
import type { AppState } from './index.js'
import {
  addNote,
  applyTimeline,
  applyTranscript,
  applyTurn,
  emptyLiveCall,
  type CallNote,
  type LiveCallData,
  type TranscriptUpdate
} from './live-call.js'

export interface CallsSlice {
  calls: Record<string, CallSummary>
  levels: Record<string, Levels>
  live: Record<string, LiveCallData>
  /** Upload progress by call id (upload.progress events). */
  uploads: Record<string, UploadState>
  /** The latest cost estimate by call id (call.cost events). */
  costs: Record<string, CallCost>
  /** The call the call view shows. */
  focusCallId: string | null
  upsertCall(call: CallSummary): void
  setLevels(callId: string, levels: Levels): void
  addTranscript(callId: string, update: TranscriptUpdate): void
  addTimeline(callId: string, entry: TimelineEntry): void
  addTurn(callId: string, metrics: TurnMetrics): void
  addNote(callId: string, note: CallNote): void
  setUpload(callId: string, upload: UploadState): void
  setCost(callId: string, cost: CallCost): void
  focusCall(callId: string | null): void
}

function withLive(s: AppState, callId: string, fn: (d: LiveCallData) => LiveCallData): Pick<CallsSlice, 'live'> {
  return { live: { ...s.live, [callId]: fn(s.live[callId] ?? emptyLiveCall()) } }
}

export const createCallsSlice: StateCreator<AppState, [], [], CallsSlice> = (set) => ({
  calls: {},
  levels: {},
  live: {},
  uploads: {},
  costs: {},
  focusCallId: null,
  upsertCall: (call) =>
    set((s) => ({
      calls: { ...s.calls, [call.id]: { ...s.calls[call.id], ...call } },
      // A call that starts while none is shown takes the call view.
      ...(call.state !== 'ended' && (s.focusCallId === null || s.calls[s.focusCallId]?.state === 'ended')
        ? { focusCallId: call.id }
        : {})
    })),
  setLevels: (callId, levels) => set((s) => ({ levels: { ...s.levels, [callId]: levels } })),
  addTranscript: (callId, update) => set((s) => withLive(s, callId, (d) => applyTranscript(d, update))),
  addTimeline: (callId, entry) => set((s) => withLive(s, callId, (d) => applyTimeline(d, entry))),
  addTurn: (callId, metrics) => set((s) => withLive(s, callId, (d) => applyTurn(d, metrics))),
  addNote: (callId, note) => set((s) => withLive(s, callId, (d) => addNote(d, note))),
  setUpload: (callId, upload) => set((s) => ({ uploads: { ...s.uploads, [callId]: upload } })),
  setCost: (callId, cost) => set((s) => ({ costs: { ...s.costs, [callId]: cost } })),
  focusCall: (callId) => set({ focusCallId: callId })
})
