// The history's pieces: WAV parsing and peaks, the timeline model from a call's detail, the query from the filters.
import { describe, expect, it } from 'vitest'
import { EMPTY_FILTERS, nextDay, toQuery } from '../../src/renderer/src/features/history/history-query.js'
import { buildTimeline } from '../../src/renderer/src/features/history/timeline-model.js'
import { parseWav, peaks } from '../../src/renderer/src/features/history/wav.js'
import type { CallDetail } from '../../src/shared/api.js'

function stereoWav(left: number[], right: number[], rate = 8000, extraChunk = false): ArrayBuffer {
  const frames = left.length
  const list = extraChunk ? 12 : 0
  const buf = Buffer.alloc(44 + list + frames * 4)
  buf.write('RIFF', 0, 'ascii')
  buf.writeUInt32LE(36 + list + frames * 4, 4)
  buf.write('WAVE', 8, 'ascii')
  buf.write('fmt ', 12, 'ascii')
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(1, 20)
  buf.writeUInt16LE(2, 22)
  buf.writeUInt32LE(rate, 24)
  buf.writeUInt32LE(rate * 4, 28)
  buf.writeUInt16LE(4, 32)
  buf.writeUInt16LE(16, 34)
  let at = 36
  if (extraChunk) {
    buf.write('LIST', at, 'ascii')
    buf.writeUInt32LE(4, at + 4)
    buf.write('INFO', at + 8, 'ascii')
    at += 12
  }
  buf.write('data', at, 'ascii')
  // A crash-left header may claim more than the file holds.
  buf.writeUInt32LE(0xffffffff, at + 4)
  for (let i = 0; i < frames; i++) {
    buf.writeInt16LE(left[i]!, at + 8 + i * 4)
    buf.writeInt16LE(right[i]!, at + 10 + i * 4)
  }
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
}

describe('parseWav', () => {
  it('splits the caller (left) and agent (right) channels, past other chunks and an oversized data length', () => {
    const wav = parseWav(stereoWav([16384, -16384, 0, 0], [0, 0, 8192, -32768], 8000, true))
    expect(wav.channels).toBe(2)
    expect(wav.sampleRateHz).toBe(8000)
    expect(wav.durationMs).toBe(0.5)
    expect([...wav.samples[0]!]).toEqual([0.5, -0.5, 0, 0])
    expect([...wav.samples[1]!]).toEqual([0, 0, 0.25, -1])
  })

  it('refuses what is not a 16-bit PCM WAV', () => {
    expect(() => parseWav(new ArrayBuffer(8))).toThrow('Not a WAV')
    const mulaw = Buffer.from(stereoWav([0], [0]))
    mulaw.writeUInt16LE(7, 20)
    expect(() => parseWav(mulaw.buffer.slice(mulaw.byteOffset, mulaw.byteOffset + mulaw.byteLength))).toThrow(
      'Only PCM'
    )
  })

  it('reduces a channel to min/max per column', () => {
    const p = peaks(Float32Array.of(0.1, -0.2, 0.5, 0.3, -0.9, 0), 3)
    expect([...p.max].map((v) => +v.toFixed(2))).toEqual([0.1, 0.5, 0])
    expect([...p.min].map((v) => +v.toFixed(2))).toEqual([-0.2, 0, -0.9])
  })
})

describe('buildTimeline', () => {
  it('turns events and turns into speech spans, latency bars and markers', () => {
    const detail: CallDetail = {
      call: {
        id: 'c',
        direction: 'loopback',
        mode: 'echo',
        state: 'ended',
        startedAt: '2026-01-01T00:00:00Z',
        durationMs: 9000
      },
      turns: [{ turn: 1, callerStoppedAtMs: 2400, firstAudioOutAtMs: 2950, totalMs: 550 }],
      transcript: [],
      events: [
        { atMs: 0, kind: 'reply.start', data: { replyId: 'greeting' } },
        { atMs: 520, kind: 'vad.speech_start', data: { onsetMs: 500 } },
        { atMs: 530, kind: 'barge_in', data: { playing: true } },
        { atMs: 531, kind: 'clear', data: { reason: 'barge_in' } },
        { atMs: 900, kind: 'barge_in', data: { playing: false } },
        { atMs: 2900, kind: 'vad.speech_end', data: { onsetMs: 500, lastSpeechMs: 2400 } },
        { atMs: 3000, kind: 'mark.played', data: { name: '1:4' } },
        { atMs: 5000, kind: 'note', data: { text: 'odd pause' } },
        { atMs: 9000, kind: 'verdict', data: { verdict: 'fail', text: 'too slow' } }
      ],
      live: false
    }
    const m = buildTimeline(detail, 9100)
    expect(m.durationMs).toBe(9100)
    expect(m.speech).toEqual([{ fromMs: 500, toMs: 2400 }])
    expect(m.turns).toEqual([{ fromMs: 2400, toMs: 2950, label: '550 ms' }])
    expect(m.markers.map((x) => [x.kind, x.label])).toEqual([
      ['reply', 'Reply greeting'],
      ['barge_in', 'Barge-in'],
      ['clear', 'Clear (barge_in)'],
      ['mark', 'Mark 1:4'],
      ['note', 'odd pause'],
      ['verdict', 'Fail: too slow']
    ])
  })
})

describe('history query', () => {
  it('keeps only the filters set, digits of the number, and whole days in the user’s zone', () => {
    expect(toQuery(EMPTY_FILTERS, 1, 50, '')).toEqual({ page: 1, pageSize: 50 })
    const q = toQuery(
      {
        ...EMPTY_FILTERS,
        q: ' table two ',
        number: '+1 (555) 12',
        direction: 'outbound',
        fromDate: '2026-03-14',
        toDate: '2026-03-14'
      },
      2,
      50,
      'America/New_York'
    )
    expect(q).toEqual({
      page: 2,
      pageSize: 50,
      q: 'table two',
      number: '155512',
      direction: 'outbound',
      from: '2026-03-14T04:00:00.000Z',
      to: '2026-03-15T04:00:00.000Z'
    })
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
  })
})
