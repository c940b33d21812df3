// The window's one loopback call: starts it, keeps the store's view of it, hangs it up.
import type { Connection } from '../../api/connection.js'
import type { AppStore } from '../../store/index.js'
import { LoopbackCall, type LoopbackCallStats } from './loopback-call.js'

let current: LoopbackCall | null = null

export interface StartLoopbackOptions {
  mode?: string | undefined
  profileId?: string | undefined
  microphoneId?: string | undefined
  speakerId?: string | undefined
}

/** Starts a loopback call unless one is already going on; returns its call id. */
export function startLoopback(connection: Connection, store: AppStore, opts: StartLoopbackOptions = {}): string {
  if (current) return current.callId
  const callId = globalThis.crypto.randomUUID()
  const devices = store.getState().audioDevices
  const call = new LoopbackCall({
    controlUrl: connection.controlUrl,
    token: connection.token,
    callId,
    microphoneId: devices.microphoneId || undefined,
    speakerId: devices.speakerId || undefined,
    ...opts,
    onPhase: (phase, detail) => {
      if (phase === 'ended' || phase === 'failed') {
        if (current === call) current = null
      }
      store
        .getState()
        .setLoopback({ status: phase, detail: detail ?? null, ...(phase === 'starting' ? { muted: false } : {}) })
    }
  })
  current = call
  store.getState().setLoopback({ status: 'starting', callId, detail: null })
  store.getState().focusCall(callId)
  void call.start()
  return callId
}

export function hangupLoopback(): void {
  current?.hangup()
}

export function loopbackDtmf(digit: string): void {
  current?.sendDtmf(digit)
}

export function setLoopbackMuted(store: AppStore, muted: boolean): void {
  current?.setMuted(muted)
  store.getState().setLoopback({ muted })
}

/** Counters of the loopback call going on, or null. */
export function loopbackStats(): LoopbackCallStats | null {
  return current?.stats ?? null
}
