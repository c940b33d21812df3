// The events link as the console sees it: connecting, online or offline, with reconnect and ping figures.
import type { StateCreator } from 'zustand/vanilla'
import type { AppState } from './index.js'

export type LinkStatus = 'connecting' | 'online' | 'offline'

export interface LinkState {
  status: LinkStatus
  /** Reconnect attempts since the link was last online. */
  attempt: number
  /** When the next reconnect attempt is due (epoch ms), while offline. */
  retryAtMs: number | null
  /** When the last pong arrived (epoch ms). */
  lastPongAtMs: number | null
  /** Round trip of the last ping, ms. */
  rttMs: number | null
  /** Version the server announced in its hello. */
  serverVersion: string | null
}

export interface ConnectionSlice {
  link: LinkState
  setLink(patch: Partial<LinkState>): void
}

export const initialLink: LinkState = {
  status: 'connecting',
  attempt: 0,
  retryAtMs: null,
  lastPongAtMs: null,
  rttMs: null,
  serverVersion: null
}

export const createConnectionSlice: StateCreator<AppState, [], [], ConnectionSlice> = (set) => ({
  link: initialLink,
  setLink: (patch) => set((s) => ({ link: { ...s.link, ...patch } }))
})
