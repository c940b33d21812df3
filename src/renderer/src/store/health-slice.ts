// The last health report from the core, and when it arrived (uptime ticks on from there).
import type { StateCreator } from 'zustand/vanilla'
import type { Health } from '../../../shared/api.js'
import type { TunnelState } from '../../../shared/events.js'
import type { AppState } from './index.js'

export interface HealthSlice {
  health: Health | null
  /** When `health` was received (epoch ms). */
  healthReceivedAtMs: number | null
  healthError: string | null
  setHealth(health: Health, receivedAtMs: number): void
  setHealthError(message: string): void
  /** A `tunnel.state` event updates the tunnel part without a refetch. */
  setTunnel(tunnel: TunnelState): void
}

export const createHealthSlice: StateCreator<AppState, [], [], HealthSlice> = (set) => ({
  health: null,
  healthReceivedAtMs: null,
  healthError: null,
  setHealth: (health, receivedAtMs) => set({ health, healthReceivedAtMs: receivedAtMs, healthError: null }),
  setHealthError: (message) => set({ healthError: message }),
  setTunnel: (tunnel) =>
    set((s) => (s.health ? { health: { ...s.health, tunnel, publicUrl: tunnel.publicUrl ?? s.health.publicUrl } } : {}))
})
