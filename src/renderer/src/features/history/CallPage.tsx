// One call: facts, cost, the recording with its timeline, the transcript (a line seeks), events, notes, export and S3.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { CallDetail } from '../../../../shared/api.js'
import type { TimelineEntry } from '../../../../shared/events.js'
import { AGENT_MODE_LABELS } from '../../../../shared/modes.js'
import { formatDateTime } from '../../../../shared/time-format.js'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { CallCostSchema, formatCost, type CallCost } from '../../../../shared/cost.js'
import { CostBreakdown, costTitle } from '../live-call/CostLine.js'
import { formatOffsetMs, timelineDetail, timelineLabel } from '../live-call/format.js'
import { DIRECTION_LABELS, formatDuration, otherParty, outcomeLabel } from './call-format.js'
import { CallNotes } from './CallNotes.js'
import { CallTimeline } from './CallTimeline.js'
import { downloadText } from './download.js'
import { buildTimeline } from './timeline-model.js'
import { TranscriptList } from './TranscriptList.js'
import { UploadControl } from './UploadState.js'
import { parseWav, type Wav } from './wav.js'

export function CallPage({ callId }: { callId: string }) {
  const { api } = useConsole()
  const timeZone = useAppStore((s) => s.settingsView?.settings.timeZone ?? '')
  const ended = useAppStore((s) => s.calls[callId]?.state === 'ended')
  const [detail, setDetail] = useState<CallDetail | null>(null)
  const [wav, setWav] = useState<Wav | null>(null)
  const [audioUrl, setAudioUrl] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [revision, setRevision] = useState(0)
  const audioRef = useRef<HTMLAudioElement>(null)

  useEffect(() => {
    const abort = new AbortController()
    api.call(callId, abort.signal).then(setDetail, (err: unknown) => {
      if (!abort.signal.aborted) setError(err instanceof Error ? err.message : 'The call could not be loaded')
    })
    return () => abort.abort()
  }, [api, callId, revision, ended])

  const hasRecording = Boolean(detail?.recording)
  useEffect(() => {
    if (!hasRecording) return
    const abort = new AbortController()
    let url: string | null = null
    api.recording(callId, abort.signal).then(
      (buffer) => {
        url = URL.createObjectURL(new Blob([buffer], { type: 'audio/wav' }))
        setAudioUrl(url)
        try {
          setWav(parseWav(buffer))
        } catch (err) {
          setError(err instanceof Error ? err.message : 'The recording could not be read')
        }
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError(err instanceof Error ? err.message : 'The recording could not be loaded')
      }
    )
    return () => {
      abort.abort()
      if (url) URL.revokeObjectURL(url)
    }
  }, [api, callId, hasRecording])

  // Notes added on this page arrive as events before the call log has written them: show them at once.
  const liveTimeline = useAppStore((s) => s.live[callId]?.timeline)
  const events = useMemo(() => mergeNotes(detail?.events ?? [], liveTimeline ?? []), [detail, liveTimeline])
  const cost = useMemo(() => costOf(events), [events])
  const model = useMemo(
    () => (detail ? buildTimeline({ ...detail, events }, wav?.durationMs ?? detail.recording?.durationMs) : null),
    [detail, events, wav]
  )
  const seek = useCallback((ms: number) => {
    const audio = audioRef.current
    if (!audio) return
    audio.currentTime = ms / 1000
    void audio.play().catch(() => {})
  }, [])

  const exportTranscript = async (format: 'txt' | 'json') => {
    try {
      if (format === 'txt') downloadText(`transcript-${callId}.txt`, await api.transcriptText(callId))
      else
        downloadText(
          `transcript-${callId}.json`,
          JSON.stringify(await api.transcript(callId), null, 2),
          'application/json'
        )
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Export failed')
    }
  }

  const call = detail?.call
  return (
    <div className="call-page" data-testid="call-page" data-call-id={callId}>
      <header className="call-page-header">
        <button
          type="button"
          onClick={() => appStore.getState().openHistoryCall(null)}
          aria-label="Back to the history"
        >
          ← History
        </button>
        <h2>{call ? `${otherParty(call)} · ${formatDateTime(call.startedAt, { timeZone })}` : 'Call'}</h2>
        <div className="toolbar">
          <button type="button" onClick={() => void exportTranscript('txt')}>
            Export transcript (.txt)
          </button>
          <button type="button" onClick={() => void exportTranscript('json')}>
            (.json)
          </button>
        </div>
      </header>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {call && (
        <section className="card">
          <dl className="facts facts-row">
            <dt>Direction</dt>
            <dd>{DIRECTION_LABELS[call.direction]}</dd>
            <dt>Engine</dt>
            <dd>{AGENT_MODE_LABELS[call.mode]}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(call)}</dd>
            <dt>Outcome</dt>
            <dd>{outcomeLabel(call)}</dd>
            <dt>Turns</dt>
            <dd>{call.turns ?? detail.turns.length}</dd>
            <dt>Median latency</dt>
            <dd>{call.medianTurnMs === undefined ? '—' : `${Math.round(call.medianTurnMs)} ms`}</dd>
            {call.endReason && (
              <>
                <dt>Ended by</dt>
                <dd>{call.endReason}</dd>
              </>
            )}
          </dl>
          {cost && (
            <details className="cost-line" data-testid="call-page-cost" data-total={cost.total}>
              <summary title={costTitle(cost)}>
                Estimated cost <strong>{formatCost(cost.total, cost.currency)}</strong>
              </summary>
              <CostBreakdown cost={cost} showRates />
              <p className="muted">Priced with the rates in Settings when the call ended; an estimate, not a bill.</p>
            </details>
          )}
          <UploadControl callId={callId} upload={detail.upload ?? call.upload} />
        </section>
      )}
      {detail && model && (
        <section className="card" aria-labelledby="recording-title">
          <h2 id="recording-title">Recording and timeline</h2>
          {detail.recording ? (
            <audio
              ref={audioRef}
              className="player"
              controls
              src={audioUrl ?? undefined}
              preload="auto"
              data-testid="call-audio"
            />
          ) : (
            <p className="muted">
              {detail.live ? 'The recording is ready once the call ends.' : 'No recording was kept for this call.'}
            </p>
          )}
          <CallTimeline model={model} wav={wav} audioRef={audioRef} onSeek={seek} />
        </section>
      )}
      {detail && (
        <div className="call-page-columns">
          <section className="card" aria-labelledby="call-transcript-title">
            <h2 id="call-transcript-title">Transcript</h2>
            <TranscriptList segments={detail.transcript} onSeek={seek} />
          </section>
          <div className="column">
            <CallNotes callId={callId} events={events} audioRef={audioRef} onAdded={() => setRevision((r) => r + 1)} />
            <section className="card" aria-labelledby="call-page-events-title">
              <h2 id="call-page-events-title">Events</h2>
              <ol className="call-events" aria-label="Call events">
                {events.map((e, i) => (
                  <li
                    key={i}
                    data-kind={e.kind}
                    className={`ce ce-${e.kind.replace(/[^a-z_]/gi, '-')}`}
                    onClick={() => seek(e.atMs)}
                  >
                    <time>{formatOffsetMs(e.atMs)}</time>
                    <span className="ce-label">{timelineLabel(e)}</span>
                    <span className="ce-detail muted">{timelineDetail(e)}</span>
                  </li>
                ))}
              </ol>
            </section>
          </div>
        </div>
      )}
    </div>
  )
}

/** The call's final cost estimate: its last `cost` timeline entry. */
function costOf(events: readonly TimelineEntry[]): CallCost | null {
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i]!.kind !== 'cost') continue
    const parsed = CallCostSchema.safeParse(events[i]!.data)
    return parsed.success ? parsed.data : null
  }
  return null
}

/** The call log's events plus notes and verdicts seen live and not yet in it, in time order. */
function mergeNotes(stored: readonly TimelineEntry[], live: readonly TimelineEntry[]): TimelineEntry[] {
  const key = (e: TimelineEntry) => `${e.kind}|${e.atMs}|${String(e.data?.text ?? '')}`
  const have = new Set(stored.map(key))
  const extra = live.filter((e) => (e.kind === 'note' || e.kind === 'verdict') && !have.has(key(e)))
  return extra.length ? [...stored, ...extra].sort((a, b) => a.atMs - b.atMs) : [...stored]
}
