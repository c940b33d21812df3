// The window's own loopback call: where it stands (the audio and socket live in features/loopback).
import type { StateCreator } from 'zustand/vanilla'
import type { AppState } from './index.js'

export type LoopbackStatus = 'idle' | 'starting' | 'active' | 'ended' | 'failed'

export interface LoopbackState {
  status: LoopbackStatus
  callId: string | null
  /** Why it ended or failed, for the user. */
  detail: string | null
  muted: boolean
}

export interface LoopbackSlice {
  loopback: LoopbackState
  setLoopback(patch: Partial<LoopbackState>): void
}

export const createLoopbackSlice: StateCreator<AppState, [], [], LoopbackSlice> = (set) => ({
  loopback: { status: 'idle', callId: null, detail: null, muted: false },
  setLoopback: (patch) => set((s) => ({ loopback: { ...s.loopback, ...patch } }))
})
