// Where uploads go (S3 bucket, prefix, region, endpoint), whether every call is pushed when it ends, and the time zone.
import { useMemo, useState } from 'react'
import type { Settings } from '../../../../shared/settings.js'
import { formatDateTime } from '../../../../shared/time-format.js'
import { saveSettings } from '../../api/load.js'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'

export function StorageSection() {
  const { api, refreshHealth } = useConsole()
  const settings = useAppStore((s) => s.settingsView?.settings ?? null)
  // Unsaved edits of the S3 form; null shows what is saved. (Seeding local state from the store at mount left the
  // form on "Loading…" for good when the view opened before the settings arrived.)
  const [draft, setDraft] = useState<Settings['s3'] | null>(null)
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; message: string } | null>(null)
  const zones = useMemo(
    () => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []),
    []
  )
  if (!settings) return <p className="muted">Loading…</p>
  const s3 = draft ?? settings.s3
  const save = async (patch: Partial<Settings>): Promise<boolean> => {
    try {
      await saveSettings(api, appStore, { settings: patch })
      setStatus({ kind: 'ok', message: 'Saved' })
      void refreshHealth()
      return true
    } catch (err) {
      setStatus({ kind: 'error', message: err instanceof Error ? err.message : 'Not saved' })
      return false
    }
  }
  const text = (key: 'bucket' | 'prefix' | 'region' | 'endpoint', label: string, placeholder = '') => (
    <label className="field">
      <span>{label}</span>
      <input value={s3[key]} placeholder={placeholder} onChange={(e) => setDraft({ ...s3, [key]: e.target.value })} />
    </label>
  )
  return (
    <div className="storage">
      <form
        aria-label="S3 uploads"
        onSubmit={(e) => {
          e.preventDefault()
          // Saved: the form shows the stored values again (the server may have normalised them), unless it was
          // edited again meanwhile.
          const sent = s3
          void save({ s3: sent }).then((ok) => ok && setDraft((d) => (d === sent ? null : d)))
        }}
      >
        <div className="grid-2">
          {text('bucket', 'Bucket')}
          {text('prefix', 'Key prefix')}
          {text('region', 'Region')}
          {text('endpoint', 'Endpoint (S3-compatible stores)', 'https://…')}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={s3.forcePathStyle}
            onChange={(e) => setDraft({ ...s3, forcePathStyle: e.target.checked })}
          />{' '}
          Path-style URLs
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={s3.autoUpload}
            onChange={(e) => setDraft({ ...s3, autoUpload: e.target.checked })}
            data-testid="auto-upload"
          />{' '}
          Upload every call when it ends
        </label>
        <div className="toolbar">
          <button type="submit">Save uploads</button>
        </div>
      </form>
      <label className="field">
        <span>Time zone for dates and times</span>
        <select
          value={settings.timeZone}
          onChange={(e) => void save({ timeZone: e.target.value })}
          data-testid="time-zone"
        >
          <option value="">This computer’s ({Intl.DateTimeFormat().resolvedOptions().timeZone})</option>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">Now: {formatDateTime(Date.now(), { timeZone: settings.timeZone })}</p>
      {status && (
        <p
          className={status.kind === 'ok' ? 'muted' : 'notice notice-error'}
          role={status.kind === 'ok' ? 'status' : 'alert'}
        >
          {status.message}
        </p>
      )}
    </div>
  )
}
