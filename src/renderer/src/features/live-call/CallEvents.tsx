// The call's timeline as it happens: replies, barge-ins, clears, DTMF, errors.
import { useEffect, useRef } from 'react'
import type { TimelineEntry } from '../../../../shared/events.js'
import { useAppStore } from '../../store/index.js'
import { formatOffsetMs, timelineDetail, timelineLabel } from './format.js'

const NONE: readonly TimelineEntry[] = []

export function CallEvents({ callId }: { callId: string }) {
  const timeline = useAppStore((s) => s.live[callId]?.timeline ?? NONE)
  const listRef = useRef<HTMLOListElement>(null)
  useEffect(() => {
    const list = listRef.current
    if (list) list.scrollTop = list.scrollHeight
  }, [timeline.length])
  return (
    <section className="card card-fill" aria-labelledby="call-events-title">
      <h2 id="call-events-title">Call events</h2>
      <ol ref={listRef} className="call-events" aria-label="Call events" data-testid="call-events" tabIndex={0}>
        {timeline.length === 0 && <li className="muted">Nothing yet.</li>}
        {timeline.map((entry, i) => (
          <li
            key={i}
            data-kind={entry.kind}
            className={`ce ce-${entry.kind.replace(/[^a-z_]/gi, '-')}${entry.kind === 'barge_in' && entry.data?.playing === false ? ' ce-quiet' : ''}`}
          >
            <time>{formatOffsetMs(entry.atMs)}</time>
            <span className="ce-label">{timelineLabel(entry)}</span>
            <span className="ce-detail muted">{timelineDetail(entry)}</span>
          </li>
        ))}
      </ol>
    </section>
  )
}
