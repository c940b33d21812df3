// Answering-machine detection on a Twilio call: the verdict badge with its timing, and the operator's overrides.
import { useState } from 'react'
import type { AmdOverride } from '../../../../shared/calls.js'
import { useConsole } from '../../console-context.js'
import { useAppStore } from '../../store/index.js'
import { amdOutcome, amdTiming, amdTone, amdVerdictLabel } from './amd-format.js'

const BUTTONS: readonly { action: AmdOverride; label: string; hint: string }[] = [
  { action: 'human', label: 'Human', hint: 'A person answered: stop any voicemail or hang-up and let the agent go on' },
  { action: 'voicemail', label: 'Leave voicemail', hint: 'A machine answered: leave the profile’s voicemail now' },
  { action: 'hangup', label: 'Machine: hang up', hint: 'A machine answered: end the call' }
]

export function AmdPanel({ callId, ended }: { callId: string; ended: boolean }) {
  const { api } = useConsole()
  const amd = useAppStore((s) => s.calls[callId]?.amd)
  const [busy, setBusy] = useState<AmdOverride | null>(null)
  const [error, setError] = useState<string | null>(null)
  if (!amd) return null
  const run = async (action: AmdOverride) => {
    // Not `disabled` while busy: a disabled button drops the keyboard focus.
    if (busy) return
    setBusy(action)
    try {
      await api.overrideAmd(callId, action)
      setError(null)
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Override failed')
    } finally {
      setBusy(null)
    }
  }
  const timing = amdTiming(amd)
  const outcome = amdOutcome(amd)
  return (
    <div className="amd" data-testid="amd">
      <div className="amd-verdict">
        <span className={`pill pill-amd-${amdTone(amd)}`} role="status" data-testid="amd-badge">
          AMD: {amdVerdictLabel(amd)}
        </span>
        {timing && (
          <span className="muted" data-testid="amd-timing">
            {timing}
          </span>
        )}
        {outcome && (
          <span className="muted" data-testid="amd-outcome">
            {outcome}
          </span>
        )}
      </div>
      {!ended && (
        <div className="toolbar" role="group" aria-label="Override answering-machine detection">
          <span className="muted" aria-hidden="true">
            Override:
          </span>
          {BUTTONS.map((b) => (
            <button
              key={b.action}
              type="button"
              title={b.hint}
              aria-pressed={amd.override === b.action}
              aria-busy={busy === b.action}
              onClick={() => void run(b.action)}
              data-testid={`amd-${b.action}`}
            >
              {busy === b.action ? 'Sending…' : b.label}
            </button>
          ))}
        </div>
      )}
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
