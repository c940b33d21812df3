// The events link state: a badge in the header, and a banner with a retry button while offline.
import { useEffect, useState } from 'react'
import { useConsole } from '../console-context.js'
import { useAppStore } from '../store/index.js'

const LABELS = { connecting: 'Connecting…', online: 'Online', offline: 'Offline' } as const

export function LinkBadge() {
  const status = useAppStore((s) => s.link.status)
  return (
    <span className={`badge badge-${status}`} role="status" data-testid="link-status">
      <span className="dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  )
}

export function OfflineBanner() {
  const { events } = useConsole()
  const status = useAppStore((s) => s.link.status)
  const retryAtMs = useAppStore((s) => s.link.retryAtMs)
  const attempt = useAppStore((s) => s.link.attempt)
  const [nowMs, setNowMs] = useState(() => Date.now())

  useEffect(() => {
    if (status !== 'offline') return
    const timer = setInterval(() => setNowMs(Date.now()), 500)
    return () => clearInterval(timer)
  }, [status])

  if (status !== 'offline') return null
  const inS = retryAtMs === null ? null : Math.max(0, Math.ceil((retryAtMs - nowMs) / 1000))
  return (
    <div className="banner banner-offline" role="alert" data-testid="offline-banner">
      <span>
        The console is offline: the core does not answer.
        {inS !== null && ` Retrying in ${inS} s (attempt ${attempt}).`}
      </span>
      <button type="button" onClick={() => events.reconnectNow()}>
        Retry now
      </button>
    </div>
  )
}
