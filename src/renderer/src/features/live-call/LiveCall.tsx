// The call shown: state, timer, cost, meters, controls, listen-in, notes, the say box, and the verdict once it ends.
import { useShallow } from 'zustand/react/shallow'
import { AGENT_MODE_LABELS } from '../../../../shared/modes.js'
import { useAppStore } from '../../store/index.js'
import { LoopbackStats } from '../loopback/LoopbackStats.js'
import { NoteForm } from '../notes/NoteForm.js'
import { VerdictForm } from '../notes/VerdictForm.js'
import { AmdPanel } from './AmdPanel.js'
import { CallControls, type LocalLeg } from './CallControls.js'
import { CallTimer } from './CallTimer.js'
import { CostLine } from './CostLine.js'
import { LevelMeter } from './LevelMeter.js'
import { ListenIn } from './ListenIn.js'
import { SayBox } from './SayBox.js'

const STATE_LABELS = {
  connecting: 'Connecting…',
  ringing: 'Ringing…',
  active: 'Active',
  ending: 'Ending…',
  ended: 'Ended'
} as const
const DIRECTION_TITLES = { loopback: 'Loopback call', inbound: 'Inbound call', outbound: 'Outbound call' } as const

export function LiveCall({ callId }: { callId: string }) {
  const call = useAppStore((s) => s.calls[callId])
  const loopback = useAppStore(useShallow((s) => (s.loopback.callId === callId ? s.loopback : null)))
  const appCallSid = useAppStore((s) => (s.softphone.status === 'open' ? s.softphone.callSid : null))
  const loopbackLive = loopback?.status === 'starting' || loopback?.status === 'active'
  const state = call?.state ?? (loopback?.status === 'failed' || loopback?.status === 'ended' ? 'ended' : 'connecting')
  const local: LocalLeg = loopbackLive ? 'loopback' : appCallSid && call?.callSid === appCallSid ? 'app' : null
  const ended = state === 'ended'
  return (
    <section
      className="card live-call"
      aria-labelledby="live-call-title"
      data-testid="live-call"
      data-state={state}
      data-call-id={callId}
    >
      <header className="card-header">
        <h2 id="live-call-title">{DIRECTION_TITLES[call?.direction ?? 'loopback']}</h2>
        <span className={`pill pill-call-${state}`} role="status" data-testid="call-state">
          {STATE_LABELS[state]}
          {call?.twilioStatus && call.twilioStatus !== 'in-progress' && !ended ? ` (${call.twilioStatus})` : ''}
        </span>
      </header>
      <div className="live-call-facts">
        {call && <CallTimer startedAt={call.startedAt} endedAt={call.endedAt} />}
        {call && <span className="muted">{AGENT_MODE_LABELS[call.mode]}</span>}
        {(call?.direction === 'inbound' ? call.from : call?.to) && (
          <span className="muted">{call.direction === 'inbound' ? call.from : call.to}</span>
        )}
      </div>
      <CostLine callId={callId} />
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
      {call?.amd && <AmdPanel callId={callId} ended={ended} />}
      {!ended && <CallControls callId={callId} local={local} />}
      {!ended && state === 'active' && <ListenIn callId={callId} />}
      <NoteForm callId={callId} />
      {!ended && state === 'active' && <SayBox callId={callId} />}
      {ended && call?.endReason && <p className="muted">Ended: {call.endReason}</p>}
      {ended && call && <VerdictForm callId={callId} />}
    </section>
  )
}
