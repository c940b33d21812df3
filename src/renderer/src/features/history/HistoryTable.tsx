// The history table: one row per call, newest first; a click or Enter opens the call's page.
import type { CallSummary } from '../../../../shared/calls.js'
import { AGENT_MODE_LABELS } from '../../../../shared/modes.js'
import { formatDateTime } from '../../../../shared/time-format.js'
import { appStore } from '../../store/index.js'
import { DIRECTION_LABELS, formatDuration, otherParty, outcomeLabel } from './call-format.js'
import { UploadBadge } from './UploadState.js'

export function HistoryTable({ calls, timeZone }: { calls: CallSummary[]; timeZone: string }) {
  const open = (id: string) => appStore.getState().openHistoryCall(id)
  return (
    <table className="history-table" data-testid="history-table">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Number</th>
          <th scope="col">Direction</th>
          <th scope="col">Engine</th>
          <th scope="col">Duration</th>
          <th scope="col">Outcome</th>
          <th scope="col">Turns</th>
          <th scope="col">Median latency</th>
          <th scope="col">Upload</th>
        </tr>
      </thead>
      <tbody>
        {calls.map((c) => (
          <tr
            key={c.id}
            tabIndex={0}
            onClick={() => open(c.id)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault()
                e.stopPropagation()
                open(c.id)
              }
            }}
            aria-label={`Open the call of ${formatDateTime(c.startedAt, { timeZone })}`}
            data-call-id={c.id}
          >
            <td>
              <time dateTime={c.startedAt}>{formatDateTime(c.startedAt, { timeZone })}</time>
            </td>
            <td>{otherParty(c)}</td>
            <td>{DIRECTION_LABELS[c.direction]}</td>
            <td>{AGENT_MODE_LABELS[c.mode]}</td>
            <td className="num">{formatDuration(c)}</td>
            <td>{outcomeLabel(c)}</td>
            <td className="num">{c.turns ?? 0}</td>
            <td className="num">{c.medianTurnMs === undefined ? '—' : `${Math.round(c.medianTurnMs)} ms`}</td>
            <td>
              <UploadBadge callId={c.id} upload={c.upload} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
