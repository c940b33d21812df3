// Live log of what arrives on the events link, with a ping button to check the round trip.
import { useEffect, useRef, useState } from 'react'
import { useConsole } from '../../console-context.js'
import { useAppStore } from '../../store/index.js'
import type { EventLevel } from '../../store/event-log-slice.js'

const LEVEL_ORDER: Record<EventLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export function EventLog() {
  const { events } = useConsole()
  const entries = useAppStore((s) => s.eventLog)
  const clear = useAppStore((s) => s.clearEventLog)
  const online = useAppStore((s) => s.link.status === 'online')
  const rttMs = useAppStore((s) => s.link.rttMs)
  const [showDebug, setShowDebug] = useState(true)
  const listRef = useRef<HTMLOListElement>(null)
  const stickToBottom = useRef(true)

  const visible = showDebug ? entries : entries.filter((e) => LEVEL_ORDER[e.level] > LEVEL_ORDER.debug)

  useEffect(() => {
    const list = listRef.current
    if (list && stickToBottom.current) list.scrollTop = list.scrollHeight
  }, [visible.length])

  return (
    <section className="card card-log" aria-labelledby="events-title">
      <header className="card-header">
        <h2 id="events-title">Events</h2>
        <div className="toolbar">
          <span className="muted" data-testid="ping-rtt">
            {rttMs === null ? '' : `last pong ${rttMs} ms`}
          </span>
          <button type="button" onClick={() => events.ping()} disabled={!online}>
            Ping
          </button>
          <label className="check">
            <input type="checkbox" checked={showDebug} onChange={(e) => setShowDebug(e.target.checked)} /> Debug
          </label>
          <button type="button" onClick={clear} disabled={entries.length === 0}>
            Clear
          </button>
        </div>
      </header>
      <ol
        ref={listRef}
        className="event-log"
        role="log"
        aria-live="polite"
        aria-label="Event log"
        tabIndex={0}
        data-testid="event-log"
        onScroll={(e) => {
          const el = e.currentTarget
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24
        }}
      >
        {visible.length === 0 && <li className="muted">No events yet.</li>}
        {visible.map((entry) => (
          <li key={entry.seq} className={`ev ev-${entry.level}`} data-type={entry.type}>
            <time dateTime={new Date(entry.atMs).toISOString()}>{formatClock(entry.atMs)}</time>
            <span className="ev-type">{entry.type}</span>
            <span className="ev-summary">{entry.summary}</span>
          </li>
        ))}
      </ol>
    </section>
  )
}

function formatClock(atMs: number): string {
  const d = new Date(atMs)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}
