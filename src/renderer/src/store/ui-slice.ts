// Window state: which view is shown, the theme, the help overlay.
import type { StateCreator } from 'zustand/vanilla'
import { EMPTY_FILTERS, type HistoryFilters } from '../features/history/history-query.js'
import type { AppState } from './index.js'

export type View = 'call' | 'history' | 'agents' | 'settings'
export type Theme = 'system' | 'light' | 'dark'

export interface UiSlice {
  view: View
  theme: Theme
  /** The theme in effect (`system` resolved through prefers-color-scheme). */
  resolvedTheme: 'light' | 'dark'
  helpOpen: boolean
  /** The call page open in History, if any. */
  historyCallId: string | null
  /** The first-run card was put away. */
  firstRunDismissed: boolean
  historyFilters: HistoryFilters
  historyPage: number
  setView(view: View): void
  setTheme(theme: Theme): void
  setResolvedTheme(theme: 'light' | 'dark'): void
  setHelpOpen(open: boolean): void
  openHistoryCall(callId: string | null): void
  dismissFirstRun(): void
  setHistoryFilters(filters: HistoryFilters): void
  setHistoryPage(page: number): void
}

const THEME_KEY = 'callbench.theme'
const FIRST_RUN_KEY = 'callbench.firstRunDismissed'

function stored(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? null
  } catch {
    return null
  }
}

function store(key: string, value: string): void {
  try {
    globalThis.localStorage?.setItem(key, value)
  } catch {
    // Private windows may refuse storage; the setting then lasts for the session.
  }
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  view: 'call',
  theme: ((): Theme => {
    const t = stored(THEME_KEY)
    return t === 'light' || t === 'dark' ? t : 'system'
  })(),
  resolvedTheme: 'light',
  helpOpen: false,
  historyCallId: null,
  firstRunDismissed: stored(FIRST_RUN_KEY) === '1',
  historyFilters: EMPTY_FILTERS,
  historyPage: 1,
  setView: (view) => set({ view }),
  setTheme: (theme) => {
    store(THEME_KEY, theme)
    set({ theme })
  },
  setResolvedTheme: (resolvedTheme) => set({ resolvedTheme }),
  setHelpOpen: (helpOpen) => set({ helpOpen }),
  openHistoryCall: (historyCallId) => set({ historyCallId, view: 'history' }),
  dismissFirstRun: () => {
    store(FIRST_RUN_KEY, '1')
    set({ firstRunDismissed: true })
  },
  setHistoryFilters: (historyFilters) => set({ historyFilters, historyPage: 1 }),
  setHistoryPage: (historyPage) => set({ historyPage })
})
