// The right-hand column of the call view: transcript, turn latency, call events of the call shown.
import { useAppStore } from '../../store/index.js'
import { CallEvents } from '../live-call/CallEvents.js'
import { LatencyPanel } from '../live-call/LatencyPanel.js'
import { Transcript } from '../live-call/Transcript.js'

export function TranscriptColumn() {
  const callId = useAppStore((s) => s.focusCallId)
  if (!callId) {
    return (
      <div className="column">
        <section className="card placeholder" aria-labelledby="transcript-title">
          <h2 id="transcript-title">Transcript</h2>
          <p className="muted">The transcript, each turn’s latency and the call’s events appear here during a call.</p>
        </section>
      </div>
    )
  }
  return (
    <div className="column transcript-column">
      <Transcript callId={callId} />
      <LatencyPanel callId={callId} />
      <CallEvents callId={callId} />
    </div>
  )
}
