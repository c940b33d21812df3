// Window-wide keyboard shortcuts: Esc hangs up, ? opens the help, b drops a bookmark, 1–4 switch views.
import { useEffect } from 'react'
import type { ApiClient } from '../api/client.js'
import { hangupCall } from '../features/live-call/hangup-call.js'
import type { AppStore } from '../store/index.js'
import type { View } from '../store/ui-slice.js'

export interface Shortcut {
  keys: string
  description: string
}

/** Listed in the help overlay. */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'Enter', description: 'Dial the number (in the dialer)' },
  { keys: 'Esc', description: 'Hang up the call shown (closes a dialog first)' },
  { keys: 'L', description: 'Call the agent (loopback)' },
  { keys: 'B', description: 'Bookmark the live call with a note' },
  { keys: '1 – 4', description: 'Call, History, Agents, Settings' },
  { keys: 'T', description: 'Switch light / dark theme' },
  { keys: '?', description: 'Show this help' }
]

const VIEWS: readonly View[] = ['call', 'history', 'agents', 'settings']

/** True when typing goes to a field, where single-letter shortcuts must not fire. */
function typingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

export interface ShortcutActions {
  startLoopback(): void
  bookmark(): void
  /** Enter outside a field: dial with the panel shown. */
  dial(): void
}

export function useShortcuts(api: ApiClient, store: AppStore, actions: ShortcutActions): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return
      const s = store.getState()
      if (e.key === 'Escape') {
        if (s.helpOpen) {
          s.setHelpOpen(false)
          e.preventDefault()
          return
        }
        if (document.querySelector('[role="dialog"][aria-modal="true"]')) return
        const callId = s.focusCallId
        const call = callId ? s.calls[callId] : undefined
        const loopbackLive =
          s.loopback.callId === callId && (s.loopback.status === 'starting' || s.loopback.status === 'active')
        if (callId && (loopbackLive || (call && call.state !== 'ended'))) {
          e.preventDefault()
          void hangupCall(api, store, callId).catch(() => {})
        }
        return
      }
      if (typingTarget(e.target)) return
      if (e.key === 'Enter') {
        // Enter on a button or link activates it; only Enter on the page itself dials.
        if (e.target instanceof HTMLElement && e.target.closest('button, a, [role="button"], summary')) return
        if (s.helpOpen) return
        e.preventDefault()
        actions.dial()
        return
      }
      switch (e.key) {
        case '?':
          s.setHelpOpen(!s.helpOpen)
          break
        case 'l':
        case 'L':
          actions.startLoopback()
          break
        case 'b':
        case 'B':
          actions.bookmark()
          break
        case 't':
        case 'T':
          s.setTheme(s.resolvedTheme === 'dark' ? 'light' : 'dark')
          break
        case '1':
        case '2':
        case '3':
        case '4':
          s.setView(VIEWS[Number(e.key) - 1]!)
          break
        default:
          return
      }
      e.preventDefault()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [api, store, actions])
}
