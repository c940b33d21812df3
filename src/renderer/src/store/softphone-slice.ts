// The in-app softphone (Twilio Voice SDK) as the console shows it: call status, mute, quality warnings, devices.
import type { StateCreator } from 'zustand/vanilla'
import type { AppState } from './index.js'

export type SoftphoneStatus = 'idle' | 'connecting' | 'ringing' | 'open' | 'reconnecting' | 'closed' | 'failed'

export interface SoftphoneState {
  status: SoftphoneStatus
  muted: boolean
  /** Active call-quality warnings (Voice SDK `warning` names). */
  warnings: string[]
  error: string | null
  callSid: string | null
}

export interface AudioDeviceChoice {
  /** '' = the system default. */
  microphoneId: string
  speakerId: string
}

export interface SoftphoneSlice {
  softphone: SoftphoneState
  audioDevices: AudioDeviceChoice
  setSoftphone(patch: Partial<SoftphoneState>): void
  setAudioDevices(patch: Partial<AudioDeviceChoice>): void
}

const DEVICES_KEY = 'callbench.audioDevices'

function readDevices(): AudioDeviceChoice {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(DEVICES_KEY) ?? 'null') as Partial<AudioDeviceChoice> | null
    return {
      microphoneId: typeof v?.microphoneId === 'string' ? v.microphoneId : '',
      speakerId: typeof v?.speakerId === 'string' ? v.speakerId : ''
    }
  } catch {
    return { microphoneId: '', speakerId: '' }
  }
}

export const createSoftphoneSlice: StateCreator<AppState, [], [], SoftphoneSlice> = (set, get) => ({
  softphone: { status: 'idle', muted: false, warnings: [], error: null, callSid: null },
  audioDevices: readDevices(),
  setSoftphone: (patch) => set((s) => ({ softphone: { ...s.softphone, ...patch } })),
  setAudioDevices: (patch) => {
    const audioDevices = { ...get().audioDevices, ...patch }
    try {
      globalThis.localStorage?.setItem(DEVICES_KEY, JSON.stringify(audioDevices))
    } catch {
      // Kept for the session only.
    }
    set({ audioDevices })
  }
})
