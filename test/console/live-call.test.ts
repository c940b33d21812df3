// A live call's transcript and timeline as the console keeps them: forming lines, settling, corrections, barge-in marks.
import { describe, expect, it } from 'vitest'
import {
  applyTimeline,
  applyTranscript,
  applyTurn,
  emptyLiveCall,
  MAX_LINES
} from '../../src/renderer/src/store/live-call.js'
import { MeterBallistics } from '../../src/renderer/src/features/live-call/meter-ballistics.js'
import { describeTurn } from '../../src/renderer/src/features/live-call/latency.js'

describe('live call transcript', () => {
  it('replaces the forming line with the text so far, then settles it', () => {
    let d = emptyLiveCall()
    d = applyTranscript(d, { role: 'caller', text: 'Hel', final: false, atMs: 100 })
    d = applyTranscript(d, { role: 'caller', text: 'Hello th', final: false, atMs: 300 })
    expect(d.lines).toHaveLength(1)
    expect(d.lines[0]).toMatchObject({ text: 'Hello th', final: false, atMs: 100 })
    d = applyTranscript(d, { role: 'caller', text: 'Hello there.', final: true, atMs: 900 })
    expect(d.lines).toEqual([{ key: 1, role: 'caller', text: 'Hello there.', final: true, atMs: 100 }])
    d = applyTranscript(d, { role: 'agent', text: 'Hi', final: false, atMs: 1200 })
    d = applyTranscript(d, { role: 'caller', text: 'Wait', final: false, atMs: 1300 })
    expect(d.lines.map((l) => [l.role, l.text, l.final])).toEqual([
      ['caller', 'Hello there.', true],
      ['agent', 'Hi', false],
      ['caller', 'Wait', false]
    ])
  })

  it('a correction rewrites the last settled line of that role', () => {
    let d = emptyLiveCall()
    d = applyTranscript(d, {
      role: 'agent',
      text: 'Your table is booked for eight people at nine.',
      final: true,
      atMs: 0
    })
    d = applyTranscript(d, { role: 'agent', text: 'Your table is booked', final: true, atMs: 50, correction: true })
    expect(d.lines).toHaveLength(1)
    expect(d.lines[0]!.text).toBe('Your table is booked')
  })

  it('marks the agent line a barge-in cut, once, and ignores barge-ins while the agent was silent', () => {
    let d = emptyLiveCall()
    d = applyTranscript(d, { role: 'agent', text: 'Let me tell you about', final: false, atMs: 1000 })
    d = applyTimeline(d, { atMs: 1500, kind: 'barge_in', data: { playing: false } })
    expect(d.lines[0]!.cutAtMs).toBeUndefined()
    d = applyTimeline(d, { atMs: 1600, kind: 'barge_in', data: { playing: true } })
    d = applyTimeline(d, { atMs: 1601, kind: 'clear', data: { reason: 'barge_in' } })
    expect(d.lines[0]!.cutAtMs).toBe(1600)
    expect(d.timeline.map((e) => e.kind)).toEqual(['barge_in', 'barge_in', 'clear'])
  })

  it('keeps turns in order and bounds the transcript', () => {
    let d = emptyLiveCall()
    d = applyTurn(d, { turn: 1, totalMs: 640 })
    d = applyTurn(d, { turn: 2, totalMs: 580 })
    expect(d.turns.map((t) => t.totalMs)).toEqual([640, 580])
    for (let i = 0; i < MAX_LINES + 10; i++)
      d = applyTranscript(d, { role: 'caller', text: `line ${i}`, final: true, atMs: i })
    expect(d.lines).toHaveLength(MAX_LINES)
    expect(d.lines.at(-1)!.text).toBe(`line ${MAX_LINES + 9}`)
  })
})

describe('MeterBallistics', () => {
  it('rises at once, falls at the release rate, holds the peak, then lets it fall', () => {
    const m = new MeterBallistics({ releaseDbPerS: 30, holdMs: 1000, peakFallDbPerS: 20 })
    m.tick(0)
    m.update(-20, -10, 0)
    expect(m.barDbfs).toBe(-20)
    expect(m.holdDbfs).toBe(-10)
    m.update(-100, -100, 0)
    m.tick(500)
    expect(m.barDbfs).toBeCloseTo(-35, 5)
    expect(m.holdDbfs).toBe(-10)
    m.tick(1500)
    expect(m.barDbfs).toBeCloseTo(-65, 5)
    expect(m.holdDbfs).toBeCloseTo(-30, 5)
    expect(m.tick(1500)).toBe(false)
  })
})

describe('turn latency tooltip', () => {
  it('lists the parts in order, and says when the reply was prepared inside the end-of-turn silence', () => {
    const base = { turn: 1, endOfSpeechWaitMs: 512, sttMs: 0, llmFirstTokenMs: 0, ttsFirstByteMs: 3.4, bridgeMs: 0.6 }
    expect(describeTurn(base)).toBe('end of speech 512 ms, STT 0 ms, LLM 0 ms, TTS 3 ms, bridge 1 ms')
    expect(describeTurn({ ...base, earlyReplyMs: 288 })).toBe(
      'end of speech 512 ms, early reply (started 288 ms before the end), STT 0 ms, LLM 0 ms, TTS 3 ms, bridge 1 ms'
    )
  })
})
