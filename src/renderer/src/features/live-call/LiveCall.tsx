// The call going on: state, timer, both level meters, and hang-up.
import { useShallow } from 'zustand/react/shallow'
import { AGENT_MODE_LABELS } from '../../../../shared/modes.js'
import { useAppStore } from '../../store/index.js'
import { LoopbackStats } from '../loopback/LoopbackStats.js'
import { CallTimer } from './CallTimer.js'
import { HangupButton } from './HangupButton.js'
import { LevelMeter } from './LevelMeter.js'

const STATE_LABELS = { connecting: 'Connecting…', ringing: 'Ringing…', active: 'Active', ending: 'Ending…', ended: 'Ended' } as const

export function LiveCall({ callId }: { callId: string }) {
  const call = useAppStore((s) => s.calls[callId])
  const loopback = useAppStore(useShallow((s) => (s.loopback.callId === callId ? s.loopback : null)))
  const state = call?.state ?? (loopback?.status === 'failed' ? 'ended' : 'connecting')
  return (
    <section className="card live-call" aria-labelledby="live-call-title" data-testid="live-call" data-state={state} data-call-id={callId}>
      <header className="card-header">
        <h2 id="live-call-title">
          {call?.direction === 'loopback' || loopback ? 'Loopback call' : call?.direction === 'inbound' ? 'Inbound call' : 'Call'}
        </h2>
        <span className={`pill pill-call-${state}`} role="status" data-testid="call-state">
          {STATE_LABELS[state]}
        </span>
      </header>
      <div className="live-call-facts">
        {call && <CallTimer startedAt={call.startedAt} endedAt={call.endedAt} />}
        {call && <span className="muted">{AGENT_MODE_LABELS[call.mode]}</span>}
        {call?.to && <span className="muted">{call.to}</span>}
      </div>
      {loopback?.detail && loopback.status === 'failed' && (
        <p className="notice notice-error" role="alert">
          {loopback.detail}
        </p>
      )}
      <div className="meters">
        <LevelMeter callId={callId} side="caller" />
        <LevelMeter callId={callId} side="agent" />
      </div>
      {loopback && <LoopbackStats />}
      {state !== 'ended' && <HangupButton callId={callId} />}
      {call?.endReason && state === 'ended' && <p className="muted">Ended: {call.endReason}</p>}
    </section>
  )
}
