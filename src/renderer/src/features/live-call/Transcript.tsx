// The transcript as it forms: settled lines, the forming line greyed, barge-ins marked where they cut the agent.
import { useEffect, useRef } from 'react'
import { useAppStore } from '../../store/index.js'
import type { TranscriptLine } from '../../store/live-call.js'
import { formatOffsetMs } from './format.js'

const NONE: readonly TranscriptLine[] = []
const ROLE_LABELS = { caller: 'Caller', agent: 'Agent', operator: 'Operator' } as const

export function Transcript({ callId }: { callId: string }) {
  const lines = useAppStore((s) => s.live[callId]?.lines ?? NONE)
  const listRef = useRef<HTMLOListElement>(null)
  const stick = useRef(true)
  useEffect(() => {
    const list = listRef.current
    if (list && stick.current) list.scrollTop = list.scrollHeight
  }, [lines])
  return (
    <section className="card card-fill" aria-labelledby="transcript-title">
      <h2 id="transcript-title">Transcript</h2>
      <ol
        ref={listRef}
        className="transcript"
        role="log"
        aria-live="polite"
        aria-label="Transcript"
        data-testid="transcript"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24
        }}
      >
        {lines.length === 0 && <li className="muted">No speech yet.</li>}
        {lines.map((line) => (
          <li
            key={line.key}
            className={`tl tl-${line.role}${line.final ? '' : ' tl-interim'}`}
            data-role={line.role}
            data-final={line.final}
          >
            <time>{formatOffsetMs(line.atMs)}</time>
            <span className="tl-role">{ROLE_LABELS[line.role]}</span>
            <span className="tl-text">
              {line.text}
              {line.cutAtMs !== undefined && (
                <span
                  className="barge-in"
                  data-testid="barge-in-marker"
                  title={`Barge-in at ${formatOffsetMs(line.cutAtMs)}`}
                >
                  {' '}
                  ⟂ barge-in
                </span>
              )}
            </span>
          </li>
        ))}
      </ol>
    </section>
  )
}
