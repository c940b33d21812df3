// A finished call's transcript; each line seeks the recording to when it was said.
import type { TranscriptSegment } from '../../../../shared/api.js'
import { formatOffsetMs } from '../live-call/format.js'

const ROLE_LABELS = { caller: 'Caller', agent: 'Agent', operator: 'Operator' } as const

export function TranscriptList({ segments, onSeek }: { segments: TranscriptSegment[]; onSeek(ms: number): void }) {
  if (segments.length === 0) return <p className="muted">No transcript.</p>
  return (
    <ol className="transcript transcript-static" aria-label="Transcript" data-testid="call-transcript">
      {segments.map((s, i) => (
        <li key={i} className={`tl tl-${s.role} tl-clickable`} data-role={s.role} onClick={() => onSeek(s.atMs)}>
          <button
            type="button"
            className="tl-seek"
            onClick={(e) => {
              e.stopPropagation()
              onSeek(s.atMs)
            }}
            aria-label={`Play from ${formatOffsetMs(s.atMs)}: ${ROLE_LABELS[s.role]}`}
          >
            <time>{formatOffsetMs(s.atMs)}</time>
          </button>
          <span className="tl-role">{ROLE_LABELS[s.role]}</span>
          <span className="tl-text">
            {s.text}
            {s.correction && <span className="muted"> (as heard)</span>}
          </span>
        </li>
      ))}
    </ol>
  )
}
