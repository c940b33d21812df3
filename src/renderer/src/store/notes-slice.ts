// The bookmark being written on the live call (b key): which call, and where on its clock.
import type { StateCreator } from 'zustand/vanilla'
import type { AppState } from './index.js'

export interface PendingNote {
  callId: string
  /** Call clock when b was pressed, ms. */
  atMs: number
}

export interface NotesSlice {
  pendingNote: PendingNote | null
  setPendingNote(note: PendingNote | null): void
}

export const createNotesSlice: StateCreator<AppState, [], [], NotesSlice> = (set) => ({
  pendingNote: null,
  setPendingNote: (pendingNote) => set({ pendingNote })
})
