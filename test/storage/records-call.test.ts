import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ulawToLinear } from '../../src/main/audio/g711.js'
import { recordsOf } from '../../src/main/server/routes/records.js'
import { decodeEventBatch } from '../../src/main/storage/event-batch.js'
import { CallDetailSchema, CallListSchema, ProfileSchema } from '../../src/shared/api.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { loadSpeechClips, speechOf, TwilioMediaSim, type SpeechClip } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { parseWav, type ParsedWav } from './wav.js'

const FRAME = 160
const CALL_FRAMES = 1500 // 30 s of caller audio
const PRE_SPEECH_PAD_MS = 300 // settings.vad.preSpeechPadMs default: the echo replays from onset − pad

/** First sample index ≥ from where `pattern` occurs exactly in one channel. */
function find(w: ParsedWav, channel: number, pattern: Int16Array, from = 0): number {
  const n = w.frames - pattern.length
  outer: for (let i = Math.max(0, from); i <= n; i++) {
    for (let j = 0; j < pattern.length; j++) if (w.samples[(i + j) * 2 + channel] !== pattern[j]) continue outer
    return i
  }
  return -1
}

function decoded(clip: SpeechClip, fromByte: number, bytes = FRAME): Int16Array {
  const out = new Int16Array(bytes)
  for (let i = 0; i < bytes; i++) out[i] = ulawToLinear(clip.audio[fromByte + i]!)
  return out
}

describe('call records of a simulated call (loopback media endpoint, echo engine)', () => {
  let testApp: TestApp
  let dataDir: string
  let events: ServerEvent[]
  const base = () => testApp.url
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(base() + path, { headers: { authorization: 'Bearer t', ...headers } })

  beforeAll(async () => {
    testApp = await startTestApp()
    ;({ dataDir, events } = testApp)
  })
  afterAll(async () => {
    await testApp.stop()
  })

  /** How many rows of the call log's table belong to the call. */
  const rowsOf = (table: string, id: string, where = '') =>
    (
      recordsOf(testApp.app)!
        .store.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE call_id = ? ${where}`)
        .get(id) as { n: number }
    ).n

  function ended(id: string): Promise<void> {
    return expect
      .poll(() => events.some((e) => e.type === 'call.ended' && e.call.id === id), { timeout: 10_000, interval: 20 })
      .toBe(true)
      .then(() => undefined)
  }

  it('30 s call, two turns and a barge-in: 2-channel 8 kHz WAV of the call length, agent where the caller heard it, and the record via the API', async () => {
    const [turn1, turn2, barge] = loadSpeechClips()
    const id = 'rec-30s'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: {
        mode: 'echo',
        vad: 'energy',
        silenceMs: '500',
        callId: id,
        from: '+15550100777',
        to: '+15550100999'
      }
    })
    await sim.connect()
    await sim.play([
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 200 },
      { ...speechOf(turn1!), label: 'turn1' },
      // The whole echo plays, then the second turn; the barge-in comes 300 ms into the second echo.
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 300 },
      { ...speechOf(turn2!), label: 'turn2' },
      { kind: 'waitForAgent', timeoutMs: 4000, until: 'speaking', afterMs: 300 },
      { ...speechOf(barge!), label: 'barge' },
      { kind: 'silence', durationMs: 200 }
    ])
    const sent = sim.stats().framesSent
    expect(sent).toBeLessThan(CALL_FRAMES - 50)
    await sim.play([{ kind: 'silence', durationMs: (CALL_FRAMES - sent - 1) * 20 }])
    // The last silence segment ends on its last frame; the stop follows the 1500th frame.
    await expect.poll(() => sim.stats().framesSent, { timeout: 2000, interval: 5 }).toBeGreaterThanOrEqual(CALL_FRAMES)
    await sim.hangup()
    await ended(id)
    const stats = sim.stats()

    // ---- the record through the API ----
    const res = await get(`/api/calls/${id}`)
    expect(res.status).toBe(200)
    const detail = CallDetailSchema.parse(await res.json())
    expect(detail.live).toBe(false)
    expect(detail.call).toMatchObject({
      id,
      state: 'ended',
      mode: 'echo',
      direction: 'loopback',
      outcome: 'completed',
      hasRecording: true
    })
    expect(detail.turns.length).toBeGreaterThanOrEqual(2)
    for (const t of detail.turns.slice(0, 2)) {
      expect(t.totalMs).toBeGreaterThan(0)
      expect(t.endOfSpeechWaitMs).toBeGreaterThanOrEqual(400)
      expect(t.firstAudioOutAtMs).toBeGreaterThan(t.callerStoppedAtMs!)
    }
    expect(detail.transcript.filter((s) => s.role === 'caller').length).toBeGreaterThanOrEqual(2)
    expect(detail.transcript[0]!.text).toMatch(/s of speech/)
    const kinds = detail.events.map((e) => e.kind)
    expect(kinds).toEqual(
      expect.arrayContaining(['call.start', 'reply.start', 'barge_in', 'clear', 'mark.sent', 'mark.played', 'call.end'])
    )
    // Marks, kept only at the call's end, still read back in time order with the rest.
    const times = detail.events.map((e) => e.atMs)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    // All of them from the one row written at the end, none from an events row each.
    const batches = recordsOf(testApp.app)!
      .store.db.prepare('SELECT entries_json FROM event_batches WHERE call_id = ?')
      .all(id) as Array<{ entries_json: string }>
    expect(batches).toHaveLength(1)
    expect(rowsOf('events', id, "AND kind LIKE 'mark.%'")).toBe(0)
    expect(decodeEventBatch(batches[0]!.entries_json)).toHaveLength(
      detail.events.filter((e) => e.kind.startsWith('mark.')).length
    )
    expect(detail.settings).toMatchObject({ defaultMode: 'echo', vad: { method: 'energy', silenceMs: 500 } })
    expect(detail.recording).toMatchObject({ channels: 2, sampleRateHz: 8000, url: `/api/calls/${id}/recording` })

    // ---- the recording ----
    const wavRes = await get(`/api/calls/${id}/recording`)
    expect(wavRes.status).toBe(200)
    expect(wavRes.headers.get('accept-ranges')).toBe('bytes')
    const wavBytes = Buffer.from(await wavRes.arrayBuffer())
    expect(wavBytes.equals(readFileSync(join(dataDir, 'recordings', `${id}.wav`)))).toBe(true)
    const wav = parseWav(wavBytes)
    expect(wav.channels).toBe(2)
    expect(wav.sampleRateHz).toBe(8000)
    // One recorded frame per caller frame: the recording is the caller's timeline, and as long as the call.
    expect(wav.frames).toBe(stats.framesSent * FRAME)
    // The call's length as the phone side saw it: media stream open to closed.
    const streamMs = stats.closedAtMs! - stats.connectedAtMs!
    expect(Math.abs(wav.durationMs - streamMs)).toBeLessThanOrEqual(40)
    expect(wav.durationMs).toBeGreaterThanOrEqual(CALL_FRAMES * 20)
    expect(detail.call.durationMs).toBe(wav.durationMs)

    // Where each caller utterance is on the left channel (exact G.711 decode of what the caller sent).
    const onsetSample = (clip: SpeechClip) => {
      const probeFrame = Math.floor(clip.onsetMs / 20) + 10
      const at = find(wav, 0, decoded(clip, probeFrame * FRAME))
      expect(at).toBeGreaterThan(0)
      return at - 10 * FRAME
    }
    const rec = (label: string) => stats.speech.find((s) => s.label === label)!
    // Sim time → recording sample: anchored on an utterance's onset frame, 8 samples per ms.
    const sampleAt = (label: string, clip: SpeechClip, simMs: number) =>
      onsetSample(clip) + Math.round((simMs - rec(label).onsetSentAtMs!) * 8)
    const speechEnds = detail.events
      .filter((e) => e.kind === 'vad.speech_end')
      .map((e) => e.data as { onsetMs: number; lastSpeechMs: number })
    expect(speechEnds.length).toBeGreaterThanOrEqual(2)

    // Reply 1 (the echo of turn 1) is a byte copy of the caller's stream from onset − pad: find it on the right channel.
    const s1 = Math.max(0, Math.round((speechEnds[0]!.onsetMs - PRE_SPEECH_PAD_MS) * 8))
    const len1 = Math.round((speechEnds[0]!.lastSpeechMs + 100) * 8) - s1
    const probe1 = onsetSample(turn1!) + 20 * FRAME
    const r1 = find(wav, 1, wav.samples.filter((_, i) => i % 2 === 0).subarray(probe1, probe1 + FRAME))
    const replyStart1 = r1 - (probe1 - s1)
    // It starts where the caller started hearing it (within two frames) and plays whole and contiguous.
    expect(Math.abs(replyStart1 - sampleAt('turn1', turn1!, rec('turn1').firstAgentMediaAtMs!))).toBeLessThanOrEqual(
      2 * FRAME
    )
    let mismatches = 0
    for (let i = 0; i < len1; i++)
      if (wav.samples[(replyStart1 + i) * 2 + 1] !== wav.samples[(s1 + i) * 2]) mismatches++
    expect(mismatches).toBe(0)

    // Reply 2 was cut by the barge-in: the right channel stops where the caller stopped hearing it (Twilio's clear).
    const bargeRec = rec('barge')
    expect(bargeRec.agentPlayingAtOnset).toBe(true)
    expect(bargeRec.clearAtMs).toBeDefined()
    const s2 = Math.max(0, Math.round((speechEnds[1]!.onsetMs - PRE_SPEECH_PAD_MS) * 8))
    const probe2 = onsetSample(turn2!) + 5 * FRAME
    const r2 = find(
      wav,
      1,
      wav.samples.filter((_, i) => i % 2 === 0).subarray(probe2, probe2 + FRAME),
      replyStart1 + len1
    )
    expect(r2).toBeGreaterThan(0)
    const replyStart2 = r2 - (probe2 - s2)
    expect(Math.abs(replyStart2 - sampleAt('turn2', turn2!, rec('turn2').firstAgentMediaAtMs!))).toBeLessThanOrEqual(
      2 * FRAME
    )
    let cut = 0
    while (wav.samples[(replyStart2 + cut) * 2 + 1] === wav.samples[(s2 + cut) * 2]) cut++
    const cutSample = replyStart2 + cut
    expect(Math.abs(cutSample - sampleAt('barge', barge!, bargeRec.clearAtMs!))).toBeLessThanOrEqual(2 * FRAME)
    // Nothing of the cut reply after the cut: silence until the next reply.
    let after = 0
    for (let i = cutSample; i < cutSample + 25 * FRAME; i++) after += Math.abs(wav.samples[i * 2 + 1]!)
    expect(after).toBe(0)

    // ---- the history lists it ----
    const list = CallListSchema.parse(await (await get('/api/calls?direction=loopback&number=0100777')).json())
    expect(list.calls.map((c) => c.id)).toContain(id)
    const searched = CallListSchema.parse(await (await get(`/api/calls?q=speech&mode=echo`)).json())
    expect(searched.calls.map((c) => c.id)).toContain(id)
  }, 90_000)

  it('a call on a profile runs with its overrides, and the history filters on the profile', async () => {
    const created = await fetch(base() + '/api/profiles', {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Patient', mode: 'echo', settings: { vad: { silenceMs: 900 } } })
    })
    expect(created.status).toBe(201)
    const profile = ProfileSchema.parse(await created.json())
    const id = 'rec-profile'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { profileId: profile.id, vad: 'energy', callId: id }
    })
    await sim.connect()
    await sim.play([{ kind: 'silence', durationMs: 400 }])
    await sim.hangup()
    await ended(id)
    const detail = CallDetailSchema.parse(await (await get(`/api/calls/${id}`)).json())
    expect(detail.call.profileId).toBe(profile.id)
    expect(detail.settings).toMatchObject({ vad: { silenceMs: 900, method: 'energy' } })
    const list = CallListSchema.parse(await (await get(`/api/calls?profileId=${profile.id}`)).json())
    expect(list.calls.map((c) => c.id)).toEqual([id])
    expect(list.total).toBe(1)
  })

  it('serves ranges (206/416), transcripts as txt and json, and deletes only with confirm', async () => {
    const id = 'rec-30s'
    const head = await get(`/api/calls/${id}/recording`, { range: 'bytes=0-43' })
    expect(head.status).toBe(206)
    const size = Number(head.headers.get('content-range')!.split('/')[1])
    expect(head.headers.get('content-range')).toBe(`bytes 0-43/${size}`)
    const h = Buffer.from(await head.arrayBuffer())
    expect(h.length).toBe(44)
    expect(h.toString('ascii', 0, 4)).toBe('RIFF')
    const tail = await get(`/api/calls/${id}/recording`, { range: 'bytes=-100' })
    expect(tail.status).toBe(206)
    expect(tail.headers.get('content-range')).toBe(`bytes ${size - 100}-${size - 1}/${size}`)
    expect((await tail.arrayBuffer()).byteLength).toBe(100)
    const beyond = await get(`/api/calls/${id}/recording`, { range: `bytes=${size}-` })
    expect(beyond.status).toBe(416)
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`)

    const txt = await get(`/api/calls/${id}/transcript?format=txt`)
    expect(txt.headers.get('content-type')).toMatch(/text\/plain/)
    expect(await txt.text()).toMatch(/^\[\d\d:\d\d\.\d\] Caller: \(\d+\.\d s of speech\)$/m)
    const json = (await (await get(`/api/calls/${id}/transcript`)).json()) as { callId: string; segments: unknown[] }
    expect(json.callId).toBe(id)
    expect(json.segments.length).toBeGreaterThanOrEqual(2)
    expect((await get(`/api/calls/${id}/transcript?format=xml`)).status).toBe(400)

    const del = (q: string) =>
      fetch(`${base()}/api/calls/${id}${q}`, { method: 'DELETE', headers: { authorization: 'Bearer t' } })
    const refused = await del('')
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { field: string } }).error.field).toBe('confirm')
    expect((await del('?confirm=true')).status).toBe(200)
    expect((await get(`/api/calls/${id}`)).status).toBe(404)
    expect([rowsOf('events', id), rowsOf('event_batches', id)]).toEqual([0, 0])
    expect((await get(`/api/calls/${id}/recording`)).status).toBe(404)
    expect(() => readFileSync(join(dataDir, 'recordings', `${id}.wav`))).toThrow(/ENOENT/)
    expect((await del('?confirm=true')).status).toBe(404)
  })
})
