// Hangs up the shown call (Esc does the same).
import { useState } from 'react'
import { useConsole } from '../../console-context.js'
import { appStore } from '../../store/index.js'
import { hangupCall } from './hangup-call.js'

export function HangupButton({ callId }: { callId: string }) {
  const { api } = useConsole()
  const [error, setError] = useState<string | null>(null)
  const onClick = () => {
    hangupCall(api, appStore, callId).then(
      () => setError(null),
      (err: unknown) => setError(err instanceof Error ? err.message : 'Hang-up failed')
    )
  }
  return (
    <div className="hangup">
      <button type="button" className="btn-danger" onClick={onClick} aria-keyshortcuts="Escape" data-testid="hangup">
        Hang up
      </button>
      {error && (
        <span className="notice notice-error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}
