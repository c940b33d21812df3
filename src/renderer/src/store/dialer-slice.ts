// The dialer: the number being typed, recent and saved numbers (kept in localStorage), and the engine or profile chosen.
import type { StateCreator } from 'zustand/vanilla'
import type { AgentMode } from '../../../shared/modes.js'
import type { AppState } from './index.js'

export interface SavedNumber {
  number: string
  label: string
}

/** How a call is made. */
export type CallWay = 'phone' | 'app' | 'loopback'

export interface DialerSlice {
  dialNumber: string
  recentNumbers: string[]
  savedNumbers: SavedNumber[]
  callWay: CallWay
  /** '' = no profile. */
  callProfileId: string
  /** '' = the default engine (settings), or the profile's. */
  callMode: AgentMode | ''
  setDialNumber(value: string): void
  addRecent(number: string): void
  saveNumber(number: string, label: string): void
  removeSaved(number: string): void
  setCallWay(way: CallWay): void
  setCallProfile(profileId: string): void
  setCallMode(mode: AgentMode | ''): void
}

/** Recent numbers kept. */
export const RECENT_LIMIT = 10
const KEYS = {
  recent: 'callbench.recentNumbers',
  saved: 'callbench.savedNumbers',
  choice: 'callbench.callChoice'
} as const

function read<T>(key: string, fallback: T, valid: (v: unknown) => v is T): T {
  try {
    const raw = globalThis.localStorage?.getItem(key)
    const value: unknown = raw ? JSON.parse(raw) : undefined
    return valid(value) ? value : fallback
  } catch {
    return fallback
  }
}

function write(key: string, value: unknown): void {
  try {
    globalThis.localStorage?.setItem(key, JSON.stringify(value))
  } catch {
    // Storage refused (private window): the lists last for the session.
  }
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')
const isSavedList = (v: unknown): v is SavedNumber[] =>
  Array.isArray(v) && v.every((x) => typeof x?.number === 'string' && typeof x?.label === 'string')
interface Choice {
  way: CallWay
  profileId: string
  mode: AgentMode | ''
}
const isChoice = (v: unknown): v is Choice =>
  typeof v === 'object' &&
  v !== null &&
  ['phone', 'app', 'loopback'].includes((v as Choice).way) &&
  typeof (v as Choice).profileId === 'string'

export const createDialerSlice: StateCreator<AppState, [], [], DialerSlice> = (set, get) => {
  const choice = read<Choice>(KEYS.choice, { way: 'loopback', profileId: '', mode: '' }, isChoice)
  const saveChoice = () => {
    const s = get()
    write(KEYS.choice, { way: s.callWay, profileId: s.callProfileId, mode: s.callMode })
  }
  return {
    dialNumber: '',
    recentNumbers: read(KEYS.recent, [], isStringList),
    savedNumbers: read(KEYS.saved, [], isSavedList),
    callWay: choice.way,
    callProfileId: choice.profileId,
    callMode: choice.mode,
    setDialNumber: (dialNumber) => set({ dialNumber }),
    addRecent: (number) => {
      const recentNumbers = [number, ...get().recentNumbers.filter((n) => n !== number)].slice(0, RECENT_LIMIT)
      write(KEYS.recent, recentNumbers)
      set({ recentNumbers })
    },
    saveNumber: (number, label) => {
      const savedNumbers = [
        ...get().savedNumbers.filter((n) => n.number !== number),
        { number, label: label.trim() || number }
      ]
      write(KEYS.saved, savedNumbers)
      set({ savedNumbers })
    },
    removeSaved: (number) => {
      const savedNumbers = get().savedNumbers.filter((n) => n.number !== number)
      write(KEYS.saved, savedNumbers)
      set({ savedNumbers })
    },
    setCallWay: (callWay) => {
      set({ callWay })
      saveChoice()
    },
    setCallProfile: (callProfileId) => {
      set({ callProfileId, ...(callProfileId ? { callMode: '' as const } : {}) })
      saveChoice()
    },
    setCallMode: (callMode) => {
      set({ callMode, ...(callMode ? { callProfileId: '' } : {}) })
      saveChoice()
    }
  }
}
