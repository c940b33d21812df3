// The call view: the call panel (the live call on top while it lasts, the first run or the dialer) and the transcript column.
import { useAppStore } from '../../store/index.js'
import { Dialer } from '../dialer/Dialer.js'
import { FirstRun } from '../first-run/FirstRun.js'
import { LiveCall } from '../live-call/LiveCall.js'
import { TranscriptColumn } from './TranscriptColumn.js'

export function CallView() {
  const callId = useAppStore((s) => s.focusCallId)
  const live = useAppStore((s) => {
    const id = s.focusCallId
    if (!id) return false
    const state = s.calls[id]?.state
    return state
      ? state !== 'ended'
      : s.loopback.callId === id && (s.loopback.status === 'starting' || s.loopback.status === 'active')
  })
  const firstRun = useAppStore(
    (s) => !s.firstRunDismissed && s.health !== null && !Object.values(s.health.services).some(Boolean)
  )
  const launcher = firstRun ? <FirstRun /> : <Dialer />
  return (
    <div className="call-view">
      <div className="column call-column">
        {live && callId && <LiveCall callId={callId} />}
        {launcher}
        {!live && callId && <LiveCall callId={callId} />}
      </div>
      <TranscriptColumn />
    </div>
  )
}
