// Where a call's S3 upload stands (live from upload.progress events), and the button that starts it.
import { useState } from 'react'
import type { UploadState as Upload } from '../../../../shared/calls.js'
import { useConsole } from '../../console-context.js'
import { useAppStore } from '../../store/index.js'

export function UploadBadge({ callId, upload }: { callId: string; upload: Upload | undefined }) {
  const live = useAppStore((s) => s.uploads[callId])
  const u = live ?? upload
  if (!u) return <span className="muted">—</span>
  const text =
    u.state === 'uploading'
      ? `${Math.round(u.percent ?? 0)}%`
      : u.state === 'done'
        ? 'Uploaded'
        : u.state === 'failed'
          ? 'Failed'
          : 'Queued'
  return (
    <span className={`upload upload-${u.state}`} title={u.error ?? u.url ?? ''}>
      {text}
    </span>
  )
}

export function UploadControl({ callId, upload }: { callId: string; upload: Upload | undefined }) {
  const { api } = useConsole()
  const s3 = useAppStore((s) => s.health?.services.s3 ?? false)
  const live = useAppStore((s) => s.uploads[callId])
  const [error, setError] = useState<string | null>(null)
  const u = live ?? upload
  const busy = u?.state === 'queued' || u?.state === 'uploading'
  return (
    <div className="upload-control" data-testid="upload-control">
      <button
        type="button"
        disabled={!s3 || busy}
        title={s3 ? '' : 'Set an S3 bucket and AWS keys in Settings'}
        onClick={() =>
          api.upload(callId).then(
            () => setError(null),
            (err: unknown) => setError(err instanceof Error ? err.message : 'Upload failed to start')
          )
        }
      >
        {u?.state === 'done' ? 'Upload again' : 'Push to S3'}
      </button>
      {u && (
        <span className="upload-progress">
          <progress max={100} value={u.state === 'done' ? 100 : (u.percent ?? 0)} aria-label="Upload progress" />
          <UploadBadge callId={callId} upload={upload} />
        </span>
      )}
      {u?.state === 'failed' && u.error && <span className="notice notice-error">{u.error}</span>}
      {error && (
        <span className="notice notice-error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}
