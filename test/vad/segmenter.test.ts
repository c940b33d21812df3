import { describe, expect, it } from 'vitest'
import {
  Segmenter,
  resolveSegmenterOptions,
  type MisfireEvent,
  type SegmenterOptions,
  type SpeechEndEvent,
  type SpeechStartEvent
} from '../../src/main/vad/segmenter.js'

const WINDOW_MS = 32

/**
 * Runs scripted probabilities (one per 32 ms window, starting at `startMs`), with the lead detector's probability
 * per window when given, and records every event.
 */
function script(probabilities: number[], opts: SegmenterOptions = {}, startMs = 0, lead?: number[]) {
  const events: Array<
    | { type: 'speechStart'; e: SpeechStartEvent }
    | { type: 'speechEnd'; e: SpeechEndEvent }
    | { type: 'misfire'; e: MisfireEvent }
  > = []
  const states: string[] = []
  const seg = new Segmenter(opts, {
    speechStart: (e) => events.push({ type: 'speechStart', e }),
    speechEnd: (e) => events.push({ type: 'speechEnd', e }),
    misfire: (e) => events.push({ type: 'misfire', e })
  })
  probabilities.forEach((p, i) => {
    seg.push(p, startMs + i * WINDOW_MS, WINDOW_MS, lead?.[i])
    states.push(seg.state)
  })
  return { events, states, seg }
}

const rep = (p: number, n: number) => Array<number>(n).fill(p)

describe('Segmenter', () => {
  it('reports the onset as the first speech window, not the confirming one', () => {
    // 10 quiet windows, then speech: minSpeechMs 150 needs 5 windows of 32 ms (160 ms).
    const { events, states } = script([...rep(0.02, 10), ...rep(0.9, 8)], { minSpeechMs: 150 }, 1000)
    expect(events).toEqual([
      {
        type: 'speechStart',
        e: { onsetMs: 1000 + 10 * 32, paddedStartMs: 1000 + 10 * 32 - 300, confirmedAtMs: 1000 + 15 * 32 }
      }
    ])
    expect(states.slice(9, 16)).toEqual([
      'quiet',
      'starting',
      'starting',
      'starting',
      'starting',
      'speaking',
      'speaking'
    ])
  })

  it('clamps the padded start to the first window seen', () => {
    const { events } = script([0.9, 0.9, 0.9, 0.9, 0.9], { minSpeechMs: 100, preSpeechPadMs: 300 }, 40)
    expect(events[0]).toEqual({
      type: 'speechStart',
      e: { onsetMs: 40, paddedStartMs: 40, confirmedAtMs: 40 + 4 * 32 }
    })
  })

  it('ends the turn after silenceMs of silence, with the last speech time and the decision time', () => {
    // Speech windows 0–9, then silence: 500 ms of silence needs 16 windows (512 ms).
    const { events, states } = script([...rep(0.9, 10), ...rep(0.01, 20)], { minSpeechMs: 150, silenceMs: 500 })
    expect(events.map((x) => x.type)).toEqual(['speechStart', 'speechEnd'])
    expect(events[1]!.e).toEqual({ onsetMs: 0, lastSpeechMs: 320, decidedAtMs: 320 + 16 * 32, speechMs: 320 })
    expect(states[10]).toBe('stopping')
    expect(states[24]).toBe('stopping')
    expect(states[25]).toBe('quiet')
  })

  it('calls a start shorter than minSpeechMs a misfire once startGapMs of silence follows, and never announces it', () => {
    const { events } = script([...rep(0.01, 3), ...rep(0.9, 3), ...rep(0.01, 20)], {
      minSpeechMs: 150,
      silenceMs: 500,
      startGapMs: 200
    })
    // 200 ms of silence is 7 windows (224 ms).
    expect(events).toEqual([
      { type: 'misfire', e: { onsetMs: 96, lastSpeechMs: 192, decidedAtMs: 192 + 7 * 32, speechMs: 96 } }
    ])
  })

  it('does not let blips further apart than startGapMs add up to a start', () => {
    // Bursts of 2 windows (64 ms) every 12 windows: 320 ms gaps, never 150 ms in one start.
    const blips = Array.from({ length: 6 }, () => [...rep(0.9, 2), ...rep(0.01, 10)]).flat()
    const { events } = script([...blips, ...rep(0.9, 6)], { minSpeechMs: 150, startGapMs: 200 })
    expect(events.map((x) => x.type)).toEqual([...rep(0, 6).map(() => 'misfire'), 'speechStart'])
    expect(events.at(-1)!.e).toMatchObject({ onsetMs: 72 * 32 })
  })

  it('adds speech up across a gap shorter than startGapMs (vad-web semantics)', () => {
    // 3 speech windows, 4 silent, 2 speech: 5 × 32 = 160 ms ≥ 150 ms once the second burst arrives.
    const { events } = script([...rep(0.9, 3), ...rep(0.01, 4), ...rep(0.9, 2)], { minSpeechMs: 150, silenceMs: 500 })
    expect(events).toEqual([{ type: 'speechStart', e: { onsetMs: 0, paddedStartMs: 0, confirmedAtMs: 9 * 32 } }])
  })

  it('returns from stopping to speaking when speech resumes, restarting the silence count', () => {
    const probs = [...rep(0.9, 6), ...rep(0.01, 10), ...rep(0.9, 2), ...rep(0.01, 15), 0.01]
    const { events, states } = script(probs, { minSpeechMs: 150, silenceMs: 500 })
    expect(states[15]).toBe('stopping')
    expect(states[16]).toBe('speaking')
    expect(events.map((x) => x.type)).toEqual(['speechStart', 'speechEnd'])
    // The end is decided 16 silent windows after the resumed speech, not after the first pause.
    expect(events[1]!.e).toEqual({ onsetMs: 0, lastSpeechMs: 18 * 32, decidedAtMs: 34 * 32, speechMs: 8 * 32 })
  })

  it('neither adds nor resets silence for windows between the two thresholds', () => {
    // threshold 0.5 → negative 0.35. Windows at 0.4 hold the state.
    const probs = [...rep(0.9, 6), ...rep(0.01, 8), ...rep(0.4, 50), ...rep(0.01, 7)]
    const { events, states } = script(probs, { threshold: 0.5, minSpeechMs: 150, silenceMs: 500 })
    expect(states[63]).toBe('stopping')
    expect(events.map((x) => x.type)).toEqual(['speechStart'])
    const end = script([...probs, 0.01], { threshold: 0.5, minSpeechMs: 150, silenceMs: 500 }).events
    expect(end.map((x) => x.type)).toEqual(['speechStart', 'speechEnd'])
    expect(end[1]!.e).toMatchObject({ lastSpeechMs: 6 * 32 })
  })

  it('does not start on probabilities just under the threshold', () => {
    const { events, states } = script(rep(0.49, 40), { threshold: 0.5, minSpeechMs: 0 })
    expect(events).toEqual([])
    expect(new Set(states)).toEqual(new Set(['quiet']))
  })

  it('starts at once with minSpeechMs 0', () => {
    const { events } = script([0.01, 0.8], { minSpeechMs: 0 })
    expect(events).toEqual([{ type: 'speechStart', e: { onsetMs: 32, paddedStartMs: 0, confirmedAtMs: 64 } }])
  })

  it('handles several turns in a row', () => {
    const turn = [...rep(0.9, 8), ...rep(0.01, 16)]
    const { events } = script([...turn, ...turn, ...turn], { minSpeechMs: 150, silenceMs: 500 })
    expect(events.map((x) => x.type)).toEqual([
      'speechStart',
      'speechEnd',
      'speechStart',
      'speechEnd',
      'speechStart',
      'speechEnd'
    ])
    expect(events.filter((x) => x.type === 'speechStart').map((x) => x.e.onsetMs)).toEqual([0, 24 * 32, 48 * 32])
  })

  it('reset() drops a segment in progress silently', () => {
    const { seg, events } = script(rep(0.9, 8), { minSpeechMs: 150 })
    expect(seg.speaking).toBe(true)
    seg.reset()
    expect(seg.state).toBe('quiet')
    for (let i = 0; i < 30; i++) seg.push(0.01, 1000 + i * 32, 32)
    expect(events.map((x) => x.type)).toEqual(['speechStart'])
  })

  it('derives the negative threshold from the positive one', () => {
    expect(resolveSegmenterOptions({ threshold: 0.5 }).negativeThreshold).toBeCloseTo(0.35)
    expect(resolveSegmenterOptions({ threshold: 0.15 }).negativeThreshold).toBe(0.05)
    expect(resolveSegmenterOptions({ threshold: 0.6, negativeThreshold: 0.2 }).negativeThreshold).toBe(0.2)
    expect(resolveSegmenterOptions({ threshold: 0.3, negativeThreshold: 0.9 }).negativeThreshold).toBe(0.3)
    expect(resolveSegmenterOptions({ threshold: 0 }).threshold).toBe(0.01)
    expect(resolveSegmenterOptions({})).toEqual({
      threshold: 0.5,
      negativeThreshold: expect.closeTo(0.35, 9),
      minSpeechMs: 150,
      silenceMs: 500,
      preSpeechPadMs: 300,
      startGapMs: 200,
      onsetLeadMs: 0,
      pauseMs: 0
    })
    expect(resolveSegmenterOptions({ silenceMs: 150 }).startGapMs).toBe(150)
  })

  describe('onset lead (another detector before the first speech window)', () => {
    const opts: SegmenterOptions = { minSpeechMs: 64, silenceMs: 500, onsetLeadMs: 200 }

    it('counts a short lead run as speech: the onset moves to its start and the first speech window confirms', () => {
      // Quiet, then 3 windows the lead detector calls speech while the model does not, then the model's speech.
      const probs = [...rep(0.01, 10), ...rep(0.02, 3), ...rep(0.95, 6)]
      const lead = [...rep(0, 10), ...rep(0.9, 9)]
      const { events, states } = script(probs, opts, 1000, lead)
      expect(events).toEqual([
        {
          type: 'speechStart',
          e: { onsetMs: 1000 + 10 * 32, paddedStartMs: 1000 + 10 * 32 - 300, confirmedAtMs: 1000 + 14 * 32 }
        }
      ])
      expect(states[13]).toBe('speaking')
      // Without the lead the same probabilities confirm one window later, at the model's own onset.
      const plain = script(probs, { ...opts, onsetLeadMs: 0 }, 1000, lead).events
      expect(plain[0]).toMatchObject({ e: { onsetMs: 1000 + 13 * 32, confirmedAtMs: 1000 + 15 * 32 } })
    })

    it('ignores a lead run longer than onsetLeadMs (steady noise the model does not call speech)', () => {
      const probs = [...rep(0.01, 2), ...rep(0.02, 7), ...rep(0.95, 4)]
      const lead = rep(0.9, 13)
      const { events } = script(probs, opts, 0, lead)
      expect(events[0]).toEqual({
        type: 'speechStart',
        e: { onsetMs: 9 * 32, paddedStartMs: 0, confirmedAtMs: 11 * 32 }
      })
    })

    it('never starts on lead evidence alone', () => {
      const { events, states } = script(rep(0.3, 60), opts, 0, rep(1, 60))
      expect(events).toEqual([])
      expect(new Set(states)).toEqual(new Set(['quiet']))
    })

    it('leaves the end of a turn as it was: lead evidence after the start counts for nothing', () => {
      // Speech, then model silence while the lead detector still hears sound (breath, line noise after speech).
      const probs = [...rep(0.95, 10), ...rep(0.05, 20)]
      const lead = [...rep(1, 10), ...rep(1, 8), ...rep(0, 12)]
      const withLead = script(probs, opts, 0, lead).events
      const without = script(probs, { ...opts, onsetLeadMs: 0 }).events
      expect(withLead).toEqual(without)
      expect(withLead.map((x) => x.type)).toEqual(['speechStart', 'speechEnd'])
    })

    it('does not carry a lead run across a reset', () => {
      const starts: SpeechStartEvent[] = []
      const s = new Segmenter(opts, { speechStart: (e) => starts.push(e) })
      for (let i = 0; i < 3; i++) s.push(0.02, i * 32, 32, 0.9)
      s.reset()
      s.push(0.95, 96, 32, 0.9)
      s.push(0.95, 128, 32, 0.9)
      expect(starts).toEqual([{ onsetMs: 96, paddedStartMs: 0, confirmedAtMs: 160 }])
    })
  })
})

describe('Segmenter pause and resume', () => {
  /** Events by type, with the pause and resume handlers on. */
  function run(probabilities: number[], opts: SegmenterOptions) {
    const events: Array<{ type: string; atMs?: number; lastSpeechMs?: number; decidedAtMs?: number }> = []
    const seg = new Segmenter(opts, {
      speechStart: () => events.push({ type: 'speechStart' }),
      speechEnd: (e) => events.push({ type: 'speechEnd', lastSpeechMs: e.lastSpeechMs, decidedAtMs: e.decidedAtMs }),
      misfire: () => events.push({ type: 'misfire' }),
      pause: (e) => events.push({ type: 'pause', atMs: e.atMs, lastSpeechMs: e.lastSpeechMs }),
      resume: (e) => events.push({ type: 'resume', atMs: e.atMs })
    })
    probabilities.forEach((p, i) => seg.push(p, i * WINDOW_MS, WINDOW_MS))
    return { events, seg }
  }
  const opts = { minSpeechMs: 64, silenceMs: 320, pauseMs: 128 }

  it('pauses once pauseMs of silence follows speech, then ends the turn at silenceMs as before', () => {
    // Speech in windows 0-4 (ends at 160 ms), then silence: pause after 4 windows (288), end after 10 (480).
    const { events } = run([...rep(0.9, 5), ...rep(0.02, 12)], opts)
    expect(events).toEqual([
      { type: 'speechStart' },
      { type: 'pause', atMs: 160 + 128, lastSpeechMs: 160 },
      { type: 'speechEnd', lastSpeechMs: 160, decidedAtMs: 160 + 320 }
    ])
  })

  it('resumes on speech after a pause, and pauses again at the next silent spell', () => {
    const { events } = run([...rep(0.9, 5), ...rep(0.02, 5), ...rep(0.9, 3), ...rep(0.02, 11)], opts)
    expect(events.map((e) => e.type)).toEqual(['speechStart', 'pause', 'resume', 'pause', 'speechEnd'])
    expect(events[2]).toEqual({ type: 'resume', atMs: 10 * WINDOW_MS })
    expect(events[4]).toEqual({ type: 'speechEnd', lastSpeechMs: 13 * WINDOW_MS, decidedAtMs: 13 * WINDOW_MS + 320 })
  })

  it('says nothing of a short gap, of a start that misfires, or with pauseMs off or not under silenceMs', () => {
    // A 96 ms gap inside the turn: under pauseMs, so neither pause nor resume.
    expect(
      run([...rep(0.9, 5), ...rep(0.02, 3), ...rep(0.9, 3), ...rep(0.02, 11)], opts).events.map((e) => e.type)
    ).toEqual(['speechStart', 'pause', 'speechEnd'])
    // One speech window, then silence: a misfire, never a pause.
    expect(run([0.9, ...rep(0.02, 12)], { ...opts, startGapMs: 200 }).events.map((e) => e.type)).toEqual(['misfire'])
    for (const pauseMs of [0, 320, 400])
      expect(run([...rep(0.9, 5), ...rep(0.02, 12)], { ...opts, pauseMs }).events.map((e) => e.type)).toEqual([
        'speechStart',
        'speechEnd'
      ])
  })

  it('forgets a pause on reset: speech after it is a new turn, not a resume', () => {
    const { events, seg } = run([...rep(0.9, 5), ...rep(0.02, 5)], opts)
    seg.reset()
    for (let i = 0; i < 3; i++) seg.push(0.9, (20 + i) * WINDOW_MS, WINDOW_MS)
    expect(events.map((e) => e.type)).toEqual(['speechStart', 'pause', 'speechStart'])
  })
})
