// The AMD badge's words: Twilio's verdict, its timing against the greeting, and what was done about it.
import { describe, expect, it } from 'vitest'
import {
  amdOutcome,
  amdTiming,
  amdTone,
  amdVerdictLabel
} from '../../src/renderer/src/features/live-call/amd-format.js'

describe('AMD badge text', () => {
  it('says it is detecting until the verdict arrives', () => {
    const amd = { detection: 'enable' as const }
    expect(amdVerdictLabel(amd)).toBe('Detecting…')
    expect(amdTone(amd)).toBe('pending')
    expect(amdTiming(amd)).toBe('')
    expect(amdOutcome(amd)).toBe('')
  })

  it('names the verdict and times it against the greeting', () => {
    const amd = {
      detection: 'detect-message-end' as const,
      answeredBy: 'machine_end_beep',
      detectionMs: 2410,
      atMs: 2950,
      greetingStartedAtMs: 120,
      intoGreetingMs: 2830,
      greetingHeardMs: 2600,
      action: 'leave_message'
    }
    expect(amdVerdictLabel(amd)).toBe('Machine (beep)')
    expect(amdTone(amd)).toBe('machine')
    expect(amdTiming(amd)).toBe('decided in 2.4 s · 2.8 s into the greeting (2.6 s heard)')
    expect(amdOutcome(amd)).toBe('policy is leaving a voicemail')
  })

  it('says when the verdict came before any greeting, and keeps unknown values as Twilio sent them', () => {
    const amd = {
      detection: 'enable' as const,
      answeredBy: 'machine_other_new',
      detectionMs: 900,
      atMs: 40,
      action: 'continue'
    }
    expect(amdTiming(amd)).toBe('decided in 0.9 s · before the greeting')
    expect(amdVerdictLabel(amd)).toBe('machine_other_new')
    expect(amdOutcome(amd)).toBe('')
    expect(amdTone({ detection: 'enable', answeredBy: 'unknown' })).toBe('unknown')
  })

  it('lets the operator’s override colour the badge and say what was done', () => {
    const amd = { detection: 'enable' as const, answeredBy: 'machine_start', action: 'hangup' }
    expect(amdTone({ ...amd, override: 'human' })).toBe('human')
    expect(amdOutcome({ ...amd, override: 'human' })).toBe('you said human')
    expect(amdTone({ detection: 'enable', answeredBy: 'human', override: 'voicemail' })).toBe('machine')
    expect(amdOutcome({ ...amd, override: 'hangup' })).toBe('you hung up')
    expect(amdOutcome(amd)).toBe('policy hung up')
  })
})
