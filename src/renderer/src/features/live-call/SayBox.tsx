// Speak text into the live call (the operator's voice through TTS, or the engine's own), and stop it.
import { useState } from 'react'
import { useConsole } from '../../console-context.js'

export function SayBox({ callId }: { callId: string }) {
  const { api } = useConsole()
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; message: string } | null>(null)
  const say = async () => {
    if (!text.trim()) return
    setBusy(true)
    try {
      const r = await api.say(callId, { text })
      setStatus({ kind: 'ok', message: r.via === 'agent' ? 'The agent is saying it' : 'Speaking' })
      setText('')
    } catch (err) {
      setStatus({ kind: 'error', message: err instanceof Error ? err.message : 'Could not speak into the call' })
    } finally {
      setBusy(false)
    }
  }
  const stop = () => {
    api.stopSpeaking(callId).then(
      () => setStatus({ kind: 'ok', message: 'Stopped' }),
      (err: unknown) => setStatus({ kind: 'error', message: err instanceof Error ? err.message : 'Could not stop' })
    )
  }
  return (
    <form
      className="say-box"
      onSubmit={(e) => {
        e.preventDefault()
        void say()
      }}
    >
      <label className="field">
        <span>Say into the call</span>
        <textarea
          rows={2}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault()
              void say()
            }
          }}
          placeholder="Type, then Enter (Shift+Enter for a new line)"
          data-testid="say-text"
        />
      </label>
      <div className="toolbar">
        <button type="submit" disabled={busy || !text.trim()}>
          {busy ? 'Sending…' : 'Say'}
        </button>
        <button type="button" onClick={stop}>
          Stop speaking
        </button>
        {status && (
          <span
            className={status.kind === 'error' ? 'say-status error' : 'say-status muted'}
            role={status.kind === 'error' ? 'alert' : 'status'}
          >
            {status.message}
          </span>
        )}
      </div>
    </form>
  )
}
