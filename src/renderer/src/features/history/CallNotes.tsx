// Notes on a finished call: add one at the playhead, and the pass/fail verdict with a comment.
import { useState, type RefObject } from 'react'
import type { TimelineEntry } from '../../../../shared/events.js'
import { useConsole } from '../../console-context.js'
import { formatOffsetMs } from '../live-call/format.js'

export function CallNotes({
  callId,
  events,
  audioRef,
  onAdded
}: {
  callId: string
  events: TimelineEntry[]
  audioRef: RefObject<HTMLAudioElement | null>
  onAdded(): void
}) {
  const { api } = useConsole()
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const notes = events.filter((e) => e.kind === 'note' || e.kind === 'verdict')
  const add = (input: { text: string; verdict?: 'pass' | 'fail' }) => {
    const atMs = Math.round((audioRef.current?.currentTime ?? 0) * 1000)
    api.addNote(callId, { ...input, ...(input.verdict ? {} : { atMs }) }).then(
      () => {
        setText('')
        setError(null)
        onAdded()
      },
      (err: unknown) => setError(err instanceof Error ? err.message : 'Not saved')
    )
  }
  return (
    <section className="card" aria-labelledby="notes-title">
      <h2 id="notes-title">Notes</h2>
      <ul className="notes" data-testid="call-notes">
        {notes.length === 0 && <li className="muted">No notes yet.</li>}
        {notes.map((n, i) => (
          <li key={i} className={n.kind === 'verdict' ? `note verdict-${String(n.data?.verdict)}` : 'note'}>
            <time>{formatOffsetMs(n.atMs)}</time>{' '}
            {n.kind === 'verdict' && <strong>{n.data?.verdict === 'pass' ? 'Pass' : 'Fail'} </strong>}
            {typeof n.data?.text === 'string' ? n.data.text : ''}
          </li>
        ))}
      </ul>
      <form
        className="note-add"
        onSubmit={(e) => {
          e.preventDefault()
          if (text.trim()) add({ text })
        }}
      >
        <input
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Note at the playhead, or a comment for the verdict"
          aria-label="Note"
        />
        <button type="submit" disabled={!text.trim()}>
          Add note
        </button>
        <button type="button" className="btn-pass" onClick={() => add({ text, verdict: 'pass' })}>
          Pass
        </button>
        <button type="button" className="btn-fail" onClick={() => add({ text, verdict: 'fail' })}>
          Fail
        </button>
      </form>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}
