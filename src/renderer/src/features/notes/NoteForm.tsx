// The note being written at a bookmarked moment of the live call: Enter saves, Esc drops it.
import { useEffect, useRef, useState } from 'react'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { formatOffsetMs } from '../live-call/format.js'
import { saveNote } from './bookmark.js'

export function NoteForm({ callId }: { callId: string }) {
  const { api } = useConsole()
  const pending = useAppStore((s) => (s.pendingNote?.callId === callId ? s.pendingNote : null))
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const inputRef = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (pending) inputRef.current?.focus()
  }, [pending])
  if (!pending)
    return error ? (
      <p className="notice notice-error" role="alert">
        {error}
      </p>
    ) : null
  return (
    <form
      className="note-form"
      onSubmit={(e) => {
        e.preventDefault()
        saveNote(api, appStore, text).then(
          () => setError(null),
          (err: unknown) => setError(err instanceof Error ? err.message : 'The note was not saved')
        )
        setText('')
      }}
    >
      <label className="field">
        <span>Note at {formatOffsetMs(pending.atMs)}</span>
        <input
          ref={inputRef}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault()
              appStore.getState().setPendingNote(null)
            }
          }}
          placeholder="What happened here? (Enter saves)"
          data-testid="note-input"
        />
      </label>
    </form>
  )
}
