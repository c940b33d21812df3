// Health of the core: version, uptime, configured services, tunnel and active calls.
import { useEffect, useState } from 'react'
import type { Services } from '../../../../shared/api.js'
import type { TunnelState } from '../../../../shared/events.js'
import { useConsole } from '../../console-context.js'
import { useAppStore } from '../../store/index.js'
import { formatUptime } from './format.js'

const SERVICE_LABELS: Record<keyof Services, string> = {
  twilio: 'Twilio',
  openai: 'OpenAI',
  elevenlabs: 'ElevenLabs',
  s3: 'S3'
}

const TUNNEL_LABELS: Record<TunnelState['status'], string> = {
  off: 'Off',
  starting: 'Starting…',
  ready: 'Ready',
  error: 'Error',
  external: 'External URL'
}

export function HealthPanel() {
  const { refreshHealth } = useConsole()
  const health = useAppStore((s) => s.health)
  const receivedAtMs = useAppStore((s) => s.healthReceivedAtMs)
  const error = useAppStore((s) => s.healthError)
  const [refreshing, setRefreshing] = useState(false)

  const onRefresh = () => {
    setRefreshing(true)
    void refreshHealth().finally(() => setRefreshing(false))
  }

  return (
    <section className="card" aria-labelledby="health-title" data-testid="health-panel">
      <header className="card-header">
        <h2 id="health-title">Health</h2>
        <button type="button" onClick={onRefresh} disabled={refreshing}>
          {refreshing ? 'Refreshing…' : 'Refresh'}
        </button>
      </header>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {health === null ? (
        !error && <p className="muted">Loading…</p>
      ) : (
        <dl className="facts">
          <dt>Version</dt>
          <dd data-testid="health-version">{health.version}</dd>
          <dt>Uptime</dt>
          <dd>
            <Uptime uptimeS={health.uptimeS} receivedAtMs={receivedAtMs ?? Date.now()} />
          </dd>
          <dt>Active calls</dt>
          <dd data-testid="health-active-calls">{health.activeCalls}</dd>
          <dt>Tunnel</dt>
          <dd>
            <span className={`pill pill-tunnel-${health.tunnel.status}`}>{TUNNEL_LABELS[health.tunnel.status]}</span>
            {health.publicUrl && <code className="url">{health.publicUrl}</code>}
            {health.tunnel.message && <span className="muted"> {health.tunnel.message}</span>}
          </dd>
          <dt>Services</dt>
          <dd>
            <ul className="services" aria-label="Configured services">
              {(Object.keys(SERVICE_LABELS) as (keyof Services)[]).map((key) => (
                <li key={key} className={health.services[key] ? 'svc svc-on' : 'svc svc-off'}>
                  <span aria-hidden="true">{health.services[key] ? '●' : '○'}</span> {SERVICE_LABELS[key]}
                  <span className="sr-only">{health.services[key] ? ' configured' : ' not configured'}</span>
                </li>
              ))}
            </ul>
          </dd>
        </dl>
      )}
    </section>
  )
}

/** Ticks once a second from the last report, so uptime moves without polling the core; stands still while offline. */
function Uptime({ uptimeS, receivedAtMs }: { uptimeS: number; receivedAtMs: number }) {
  const online = useAppStore((s) => s.link.status === 'online')
  const [nowMs, setNowMs] = useState(() => Date.now())
  useEffect(() => {
    if (!online) return
    const timer = setInterval(() => setNowMs(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [online])
  return <span data-testid="health-uptime">{formatUptime(uptimeS + Math.max(0, nowMs - receivedAtMs) / 1000)}</span>
}
