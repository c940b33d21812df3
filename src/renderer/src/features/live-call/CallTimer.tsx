// Elapsed time of a call, ticking once a second on its own (only this span re-renders).
import { useEffect, useState } from 'react'
import { formatDurationMs } from '../../../../shared/time-format.js'

export function CallTimer({ startedAt, endedAt }: { startedAt: string; endedAt?: string | undefined }) {
  const [nowMs, setNowMs] = useState(() => Date.now())
  useEffect(() => {
    if (endedAt) return
    const timer = setInterval(() => setNowMs(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [endedAt])
  const endMs = endedAt ? Date.parse(endedAt) : nowMs
  return (
    <time className="call-timer" data-testid="call-timer" aria-label="Call duration">
      {formatDurationMs(Math.max(0, endMs - Date.parse(startedAt)))}
    </time>
  )
}
