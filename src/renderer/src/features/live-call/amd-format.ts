// Answering-machine detection in a few words: Twilio's verdict, how it fell against the greeting, the operator's word.
import type { AmdOverride, CallAmd } from '../../../../shared/calls.js'

/** How the badge is coloured: a person, a machine, or nothing known yet. */
export type AmdTone = 'human' | 'machine' | 'pending' | 'unknown'

const VERDICTS: Record<string, string> = {
  human: 'Human',
  machine_start: 'Machine',
  machine_end_beep: 'Machine (beep)',
  machine_end_silence: 'Machine (silence)',
  machine_end_other: 'Machine',
  fax: 'Fax',
  unknown: 'Unknown'
}

const OVERRIDES: Record<AmdOverride, string> = {
  human: 'you said human',
  voicemail: 'you left a voicemail',
  hangup: 'you hung up'
}

const ACTIONS: Record<string, string> = {
  hangup: 'policy hung up',
  leave_message: 'policy is leaving a voicemail',
  skipped: 'policy skipped'
}

export function amdVerdictLabel(amd: CallAmd): string {
  if (!amd.answeredBy) return 'Detecting…'
  return VERDICTS[amd.answeredBy] ?? amd.answeredBy
}

export function amdTone(amd: CallAmd): AmdTone {
  const by = amd.override === 'human' ? 'human' : amd.override === 'voicemail' ? 'machine_start' : amd.answeredBy
  if (!by) return 'pending'
  if (by === 'human') return 'human'
  if (by.startsWith('machine') || by === 'fax') return 'machine'
  return 'unknown'
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** "decided in 2.4 s · 0.4 s into the greeting (0.3 s heard)", or "before the greeting". */
export function amdTiming(amd: CallAmd): string {
  if (!amd.answeredBy) return ''
  const parts: string[] = []
  if (amd.detectionMs !== undefined) parts.push(`decided in ${seconds(amd.detectionMs)}`)
  if (amd.intoGreetingMs !== undefined) {
    const heard = amd.greetingHeardMs !== undefined ? ` (${seconds(amd.greetingHeardMs)} heard)` : ''
    parts.push(`${seconds(amd.intoGreetingMs)} into the greeting${heard}`)
  } else if (amd.atMs !== undefined) {
    parts.push('before the greeting')
  }
  return parts.join(' · ')
}

/** What was done about the verdict: the operator's override, else the policy's action when it did something. */
export function amdOutcome(amd: CallAmd): string {
  if (amd.override) return OVERRIDES[amd.override]
  return (amd.action && ACTIONS[amd.action]) ?? ''
}
