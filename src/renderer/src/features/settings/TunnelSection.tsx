// The tunnel Twilio reaches us through: its state and public URL (with copy), start and stop.
import { useEffect, useState } from 'react'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'

const LABELS = { off: 'Off', starting: 'Starting…', ready: 'Ready', error: 'Error', external: 'External URL' } as const

export function TunnelSection() {
  const { api } = useConsole()
  const tunnel = useAppStore((s) => s.health?.tunnel ?? null)
  const [binary, setBinary] = useState<string | null | undefined>(undefined)
  const [error, setError] = useState<string | null>(null)
  const [copied, setCopied] = useState(false)
  useEffect(() => {
    api.tunnel().then(
      (v) => setBinary(v.binary ?? null),
      () => setBinary(undefined)
    )
  }, [api])
  if (!tunnel) return <p className="muted">Loading…</p>
  const act = (fn: () => Promise<unknown>) => {
    setError(null)
    fn().catch((err: unknown) => setError(err instanceof Error ? err.message : 'Tunnel request failed'))
  }
  const running = tunnel.status === 'starting' || tunnel.status === 'ready'
  const copy = () => {
    if (!tunnel.publicUrl) return
    void navigator.clipboard.writeText(tunnel.publicUrl).then(() => {
      setCopied(true)
      setTimeout(() => setCopied(false), 1500)
    })
  }
  return (
    <div className="tunnel" data-testid="tunnel-section">
      <p>
        <span className={`pill pill-tunnel-${tunnel.status}`}>{LABELS[tunnel.status]}</span>{' '}
        {tunnel.message && <span className="muted">{tunnel.message}</span>}
      </p>
      {tunnel.publicUrl && (
        <div className="field-inline">
          <code className="url" data-testid="tunnel-url">
            {tunnel.publicUrl}
          </code>
          <button type="button" onClick={copy}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      {tunnel.status !== 'external' && (
        <div className="toolbar">
          <button
            type="button"
            disabled={running}
            onClick={() => act(async () => appStore.getState().setTunnel(await api.startTunnel()))}
          >
            Start tunnel
          </button>
          <button
            type="button"
            disabled={!running}
            onClick={() => act(async () => appStore.getState().setTunnel(await api.stopTunnel()))}
          >
            Stop tunnel
          </button>
        </div>
      )}
      {binary === null && <p className="muted">cloudflared was not found; set CLOUDFLARED_PATH or install it.</p>}
      {binary && (
        <p className="muted">
          cloudflared: <code>{binary}</code>
        </p>
      )}
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
