// Display helpers for the live call: call-clock offsets and timeline entries in a few words.
import type { TimelineEntry } from '../../../../shared/events.js'
import { formatCost, usageFromData } from '../../../../shared/cost.js'

/** Call clock ms → `m:ss.s`. */
export function formatOffsetMs(ms: number): string {
  const tenths = Math.max(0, Math.round(ms / 100))
  const m = Math.floor(tenths / 600)
  const s = (tenths % 600) / 10
  return `${m}:${s.toFixed(1).padStart(4, '0')}`
}

const KIND_LABELS: Record<string, string> = {
  'call.start': 'Call started',
  'call.end': 'Call ended',
  'reply.start': 'Agent reply',
  'reply.end': 'Reply sent',
  barge_in: 'Barge-in',
  clear: 'Playback cleared',
  dtmf: 'DTMF',
  'hangup.requested': 'Hang-up requested',
  'engine.error': 'Engine error',
  'engine.failed': 'Engine failed',
  'protocol.error': 'Protocol error',
  'vad.misfire': 'VAD misfire',
  'vad.start': 'Speech started',
  'vad.end': 'Speech ended',
  'vad.speech_start': 'Speech started',
  'vad.speech_end': 'Speech ended',
  note: 'Bookmark',
  'twilio.status': 'Twilio status',
  amd: 'Answering machine detection',
  'amd.override': 'AMD override',
  'voicemail.left': 'Voicemail left',
  'hangup.cancelled': 'Hang-up taken back',
  truncate: 'Reply truncated',
  speech_started: 'Caller speaking',
  'response.created': 'Response started',
  'response.done': 'Response done',
  'session.ready': 'Session ready',
  verdict: 'Verdict',
  'mark.played': 'Mark played',
  'mark.sent': 'Mark sent',
  'mark.cleared': 'Mark cleared',
  usage: 'Usage',
  cost: 'Cost estimate'
}

export function timelineLabel(entry: TimelineEntry): string {
  return KIND_LABELS[entry.kind] ?? entry.kind
}

/** A short, safe summary of an entry's data (no long values). */
export function timelineDetail(entry: TimelineEntry): string {
  const d = entry.data
  if (!d) return ''
  switch (entry.kind) {
    case 'call.start':
      return [d.mode, d.direction].filter((v) => typeof v === 'string').join(', ')
    case 'call.end':
    case 'clear':
    case 'hangup.requested':
    case 'hangup.cancelled':
      return typeof d.reason === 'string' ? d.reason : ''
    case 'amd.override':
      return typeof d.action === 'string' ? d.action : ''
    case 'voicemail.left':
      return typeof d.via === 'string' ? `via ${d.via}` : ''
    case 'barge_in':
      return d.playing === true ? 'cut the agent' : 'agent was silent'
    case 'dtmf':
      return typeof d.digit === 'string' ? d.digit : ''
    case 'twilio.status':
      return typeof d.status === 'string' ? d.status : ''
    case 'amd':
      return typeof d.answeredBy === 'string' ? d.answeredBy : ''
    case 'note':
      return typeof d.text === 'string' ? d.text : ''
    case 'verdict':
      return `${d.verdict === 'pass' ? 'pass' : 'fail'}${typeof d.text === 'string' && d.text ? `: ${d.text}` : ''}`
    case 'engine.error':
    case 'engine.failed':
    case 'protocol.error':
      return typeof d.code === 'string' ? d.code : ''
    case 'cost':
      return typeof d.total === 'number' && typeof d.currency === 'string' ? formatCost(d.total, d.currency) : ''
    case 'usage':
      return usageDetail(d)
    default:
      return ''
  }
}

const USAGE_UNITS: Record<string, string> = {
  openaiAudioInTokens: 'audio tokens in',
  openaiTextInTokens: 'text tokens in',
  openaiCachedInTokens: 'cached tokens in',
  openaiAudioOutTokens: 'audio tokens out',
  openaiTextOutTokens: 'text tokens out',
  ttsChars: 'TTS chars',
  llmInTokens: 'LLM tokens in',
  llmOutTokens: 'LLM tokens out'
}

/** An engine's usage report in a few words (`120 audio tokens out, 45 TTS chars`, `3.2 s STT`). */
function usageDetail(d: Record<string, unknown>): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(usageFromData(d))) {
    if (key === 'sttMs') parts.push(`${(value / 1000).toFixed(1)} s STT`)
    else if (USAGE_UNITS[key]) parts.push(`${Math.round(value)} ${USAGE_UNITS[key]}`)
  }
  if (d.clocked === 'elevenlabsAgentMs') parts.push('agent minutes metered')
  return parts.join(', ')
}
