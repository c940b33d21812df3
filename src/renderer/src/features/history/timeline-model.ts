// What the call page's timeline draws, from a call's detail: speech, turns, barge-ins, clears, marks, notes.
import type { CallDetail } from '../../../../shared/api.js'

export interface Span {
  fromMs: number
  toMs: number
  label?: string
}

export interface Marker {
  atMs: number
  kind: 'barge_in' | 'clear' | 'mark' | 'note' | 'verdict' | 'reply' | 'dtmf' | 'error'
  label: string
}

export interface TimelineModel {
  durationMs: number
  /** Caller speech as the VAD segmented it. */
  speech: Span[]
  /** Each turn from the caller stopping to the first agent audio, labelled with its latency. */
  turns: Span[]
  markers: Marker[]
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

export function buildTimeline(detail: CallDetail, recordingMs: number | undefined): TimelineModel {
  const speech: Span[] = []
  const markers: Marker[] = []
  let openOnset: number | undefined
  for (const e of detail.events) {
    const d = e.data ?? {}
    switch (e.kind) {
      case 'vad.speech_start':
        openOnset = num(d.onsetMs) ?? e.atMs
        break
      case 'vad.speech_end': {
        const from = num(d.onsetMs) ?? openOnset
        const to = num(d.lastSpeechMs) ?? e.atMs
        if (from !== undefined && to > from) speech.push({ fromMs: from, toMs: to })
        openOnset = undefined
        break
      }
      case 'barge_in':
        if (d.playing !== false) markers.push({ atMs: e.atMs, kind: 'barge_in', label: 'Barge-in' })
        break
      case 'clear':
        markers.push({ atMs: e.atMs, kind: 'clear', label: `Clear${str(d.reason) ? ` (${str(d.reason)})` : ''}` })
        break
      case 'mark.played':
      case 'mark.cleared':
        markers.push({ atMs: e.atMs, kind: 'mark', label: `Mark ${str(d.name)}` })
        break
      case 'note':
        markers.push({ atMs: e.atMs, kind: 'note', label: str(d.text) || 'Bookmark' })
        break
      case 'verdict':
        markers.push({
          atMs: e.atMs,
          kind: 'verdict',
          label: `${d.verdict === 'pass' ? 'Pass' : 'Fail'}${str(d.text) ? `: ${str(d.text)}` : ''}`
        })
        break
      case 'reply.start':
        markers.push({ atMs: e.atMs, kind: 'reply', label: `Reply ${str(d.replyId)}` })
        break
      case 'dtmf':
        markers.push({ atMs: e.atMs, kind: 'dtmf', label: `DTMF ${str(d.digit)}` })
        break
      case 'engine.error':
      case 'engine.failed':
      case 'protocol.error':
        markers.push({ atMs: e.atMs, kind: 'error', label: `${e.kind} ${str(d.code)}` })
        break
    }
  }
  const turns: Span[] = []
  for (const t of detail.turns) {
    if (t.callerStoppedAtMs === undefined || t.firstAudioOutAtMs === undefined) continue
    turns.push({
      fromMs: t.callerStoppedAtMs,
      toMs: t.firstAudioOutAtMs,
      label: `${Math.round(t.totalMs ?? t.firstAudioOutAtMs - t.callerStoppedAtMs)} ms`
    })
  }
  const lastEvent = Math.max(0, ...detail.events.map((e) => e.atMs))
  const durationMs = recordingMs ?? detail.call.durationMs ?? lastEvent
  return { durationMs: Math.max(durationMs, 1), speech, turns, markers: markers.sort((a, b) => a.atMs - b.atMs) }
}
