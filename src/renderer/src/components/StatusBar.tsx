// The bottom line: tunnel, Twilio number, configured services, active calls.
import type { Services } from '../../../shared/api.js'
import { useAppStore } from '../store/index.js'

const SERVICE_LABELS: Record<keyof Services, string> = {
  twilio: 'Twilio',
  openai: 'OpenAI',
  elevenlabs: 'ElevenLabs',
  s3: 'S3'
}
const TUNNEL_LABELS = {
  off: 'off',
  starting: 'starting…',
  ready: 'ready',
  error: 'error',
  external: 'external URL'
} as const

export function StatusBar() {
  const health = useAppStore((s) => s.health)
  const twilioNumber = useAppStore((s) => s.health?.phoneNumber ?? s.settingsView?.settings.twilio.phoneNumber ?? '')
  return (
    <footer className="status-bar" aria-label="Status" data-testid="status-bar">
      <span className={`sb-item sb-tunnel-${health?.tunnel.status ?? 'off'}`} data-testid="status-tunnel">
        Tunnel: {health ? TUNNEL_LABELS[health.tunnel.status] : '…'}
      </span>
      <span className="sb-item" data-testid="status-number">
        Number: {twilioNumber || <span className="muted">none</span>}
      </span>
      <span className="sb-item">
        <span className="sr-only">Services: </span>
        {(Object.keys(SERVICE_LABELS) as (keyof Services)[]).map((key) => (
          <span key={key} className={health?.services[key] ? 'svc svc-on' : 'svc svc-off'}>
            <span aria-hidden="true">{health?.services[key] ? '●' : '○'}</span> {SERVICE_LABELS[key]}
            <span className="sr-only">{health?.services[key] ? ' configured' : ' not configured'}</span>
          </span>
        ))}
      </span>
      <span className="sb-item sb-calls" data-testid="status-active-calls">
        Active calls: {health?.activeCalls ?? 0}
      </span>
    </footer>
  )
}
