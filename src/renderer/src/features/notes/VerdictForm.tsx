// At the end of a call: pass or fail, with a comment, kept on the call's timeline.
import { useState } from 'react'
import { useConsole } from '../../console-context.js'
import type { TimelineEntry } from '../../../../shared/events.js'
import { useAppStore } from '../../store/index.js'

const NONE: readonly TimelineEntry[] = []

export function VerdictForm({ callId }: { callId: string }) {
  const { api } = useConsole()
  const saved = useAppStore((s) => (s.live[callId]?.timeline ?? NONE).findLast((e) => e.kind === 'verdict'))
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  if (saved) {
    const verdict = saved.data?.verdict === 'pass' ? 'Passed' : 'Failed'
    return (
      <p className={`notice ${saved.data?.verdict === 'pass' ? 'notice-ok' : 'notice-error'}`} data-testid="verdict">
        {verdict}
        {typeof saved.data?.text === 'string' && saved.data.text ? `: ${saved.data.text}` : ''}
      </p>
    )
  }
  const submit = (verdict: 'pass' | 'fail') => {
    setBusy(true)
    api.addNote(callId, { verdict, text: comment }).then(
      () => setError(null),
      (err: unknown) => {
        setError(err instanceof Error ? err.message : 'The verdict was not saved')
        setBusy(false)
      }
    )
  }
  return (
    <div className="verdict-form" role="group" aria-label="Verdict">
      <label className="field">
        <span>How did it go?</span>
        <input value={comment} onChange={(e) => setComment(e.target.value)} placeholder="Comment (optional)" />
      </label>
      <div className="toolbar">
        <button type="button" className="btn-pass" disabled={busy} onClick={() => submit('pass')}>
          Pass
        </button>
        <button type="button" className="btn-fail" disabled={busy} onClick={() => submit('fail')}>
          Fail
        </button>
      </div>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
