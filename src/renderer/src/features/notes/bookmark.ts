// The b key: marks the moment on the live call's clock and opens the note form there.
import type { ApiClient } from '../../api/client.js'
import type { AppStore } from '../../store/index.js'

/** Call clock of a call that started at `startedAt` (ISO), as the core counts it (same machine, same wall clock). */
export function callClockMs(startedAt: string, nowMs = Date.now()): number {
  return Math.max(0, Math.round(nowMs - Date.parse(startedAt)))
}

export function bookmarkLiveCall(_api: ApiClient, store: AppStore): void {
  const s = store.getState()
  const callId = s.focusCallId
  const call = callId ? s.calls[callId] : undefined
  if (!callId || !call || call.state === 'ended') return
  s.setView('call')
  s.setPendingNote({ callId, atMs: callClockMs(call.startedAt) })
}

/** Saves a note (or just the bookmark) at the marked moment. */
export async function saveNote(api: ApiClient, store: AppStore, text: string): Promise<void> {
  const pending = store.getState().pendingNote
  if (!pending) return
  store.getState().setPendingNote(null)
  await api.addNote(pending.callId, { text: text.trim() || 'Bookmark', atMs: pending.atMs })
}
