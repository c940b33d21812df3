/** The openai-realtime mode: the OpenAI Realtime fake, and its figures (bridge-added latency, barge-in, truncation, start-up loss). */
import {
  CANCELLED_AUDIO_BYTE,
  FakeRealtimeServer,
  type FakeRealtimeOptions,
  type FakeRealtimeSession
} from '../../test/fakes/openai-realtime.js'
import type { SimStats } from '../../test/fakes/twilio-media-sim.js'
import type { EngineFakes } from '../engines.js'
import { distribution } from '../report.js'
import { clearsAfterCause, firstFrameTimes, matchFirstFrames, MATCH_WINDOW_MS, settled } from './match.js'

/** One μ-law frame: 20 ms, 160 bytes. */
const FRAME_MS = 20
const FRAME_BYTES = 160

/** The Realtime fake as the benchmark runs it (no per-append log, no audio kept: a long run would grow without bound). */
export function startRealtimeFake(extra: FakeRealtimeOptions = {}): Promise<FakeRealtimeServer> {
  return FakeRealtimeServer.start({ logAppends: false, recordAudio: false, ...extra })
}

/** Waits (bounded) for the fake's sessions to close, so the last appends are counted. */
export function sessionsClosed(fake: FakeRealtimeServer): Promise<void> {
  return settled(fake.sessions.filter((s) => !s.closed).map((s) => s.untilClosed()))
}

export function sessionsProgress(fake: FakeRealtimeServer): string {
  const open = fake.sessions.filter((s) => !s.closed).length
  const replies = fake.sessions.reduce((n, s) => n + s.responses.length, 0)
  return `${fake.sessions.length} sessions (${open} open), ${replies} replies`
}

/**
 * Barge-in as the Realtime service drives it: `speech_started` sent → `clear` at Twilio; and the frames of a
 * cancelled response the caller heard (the fake makes them of a marker byte the simulated caller counts).
 */
export function realtimeBargeIn(s: FakeRealtimeSession, sim: SimStats, clearMs: number[]): number {
  clearsAfterCause(s.speechStartedSentAtMs, sim.clears, clearMs)
  return sim.markerFrames
}

/** Sent time of caller frame k: due at startAtMs + 20 k, late by lateness[k]. Frames sent before `atMs`. */
function framesSentBefore(sim: SimStats, atMs: number): number {
  let k = 0
  while (k < sim.lateness.length && sim.startAtMs + FRAME_MS * k + sim.lateness[k]! < atMs) k++
  return k
}

/** The played position at each truncate: the sim's position at the nearest clear, minus `audio_end_ms`. */
function truncationErrors(s: FakeRealtimeSession, sim: SimStats, into: number[]): number {
  let unmatched = 0
  for (const t of s.truncations) {
    let best = -1
    for (let i = 0; i < sim.clears.length; i++) {
      const gap = Math.abs(sim.clears[i]! - t.atMs)
      if (gap < MATCH_WINDOW_MS && (best < 0 || gap < Math.abs(sim.clears[best]! - t.atMs))) best = i
    }
    const played = best < 0 ? undefined : sim.playedAtClearMs[best]
    if (played === undefined) unmatched++
    else into.push(t.audioEndMs - played)
  }
  return unmatched
}

export async function startOpenAiRealtime(): Promise<EngineFakes> {
  // Replies long enough to be still streaming when the caller barges in (3 s at twice real time), and two deltas
  // still in flight after each cancel, as the service sends them: the bridge must drop them.
  const fake = await startRealtimeFake({ replyDurationMs: 3_000, speedFactor: 2, lateDeltasAfterCancel: 2 })
  return {
    env: { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.baseUrl },
    simOptions: { markerByte: CANCELLED_AUDIO_BYTE },
    close: () => fake.close(),
    progress: () => sessionsProgress(fake),
    figures: async (results, ctx) => {
      await sessionsClosed(fake)
      const bridge: number[] = []
      const clear: number[] = []
      const truncateError: number[] = []
      let unmatched = 0
      let afterClear = 0
      let truncations = 0
      let cancelled = 0
      let truncationsUnmatched = 0
      let sentBeforeReady = 0
      let lostAtStart = 0
      let lostLater = 0
      let refused = 0
      let invalid = 0
      let appendsBeforeUpdate = 0
      let appends = 0
      let callerFrames = 0
      for (const r of results) {
        const s = fake.sessionFor(ctx.callIdOf(r.index))
        if (!s) continue
        const sent = s.responses.map((x) => x.firstDeltaSentAtMs).filter((t): t is number => t !== undefined)
        unmatched += matchFirstFrames(sent, firstFrameTimes(r.sim), bridge)
        afterClear += realtimeBargeIn(s, r.sim, clear)
        truncations += s.truncations.length
        cancelled += s.responses.filter((x) => x.status === 'cancelled').length
        truncationsUnmatched += truncationErrors(s, r.sim, truncateError)
        refused += s.truncations.filter((t) => !t.accepted).length
        invalid += s.invalidEvents.length
        appendsBeforeUpdate += s.appendsBeforeSessionUpdate
        appends += s.appends
        callerFrames += r.sim.framesSent
        // Only calls that ran to their own hang-up: a failed call stops forwarding by design.
        if (r.error) continue
        const readyAtMs = s.sent.find((e) => e.type === 'session.updated')?.atMs
        const before = readyAtMs === undefined ? r.sim.framesSent : framesSentBefore(r.sim, readyAtMs)
        const lost = Math.max(0, r.sim.framesSent - Math.floor(s.audioBytesReceived / FRAME_BYTES))
        sentBeforeReady += before
        lostAtStart += Math.min(lost, before)
        lostLater += Math.max(0, lost - before)
      }
      const outsideFrame = truncateError.filter((ms) => Math.abs(ms) > FRAME_MS).length
      const signed = distribution(truncateError)
      const failures: string[] = []
      if (afterClear > 0)
        failures.push(`${afterClear} agent frames of a cancelled reply reached the caller after the clear`)
      if (refused > 0) failures.push(`${refused} truncations refused by the service`)
      if (invalid > 0) failures.push(`${invalid} client events broke the Realtime protocol`)
      if (appendsBeforeUpdate > 0) failures.push(`${appendsBeforeUpdate} appends before session.update`)
      if (lostLater > 0) failures.push(`${lostLater} caller frames lost after the session was ready`)
      return {
        rows: {
          'bridge-added ms': distribution(bridge),
          'replies unmatched': unmatched,
          'barge-in: speech_started → clear ms': distribution(clear),
          'barge-in: replies cancelled': cancelled,
          'barge-in: cancelled frames after clear': afterClear,
          truncations,
          'truncate: |audio_end_ms − played| ms': distribution(truncateError.map(Math.abs)),
          'truncate: median audio_end_ms − played': signed.p50 ?? 0,
          [`truncate: off by > ${FRAME_MS} ms`]: outsideFrame + truncationsUnmatched,
          'caller frames sent before ready': sentBeforeReady,
          'caller frames lost at call start': lostAtStart,
          // Each append is a message and a system call on the server: the caller's 20 ms frames per append.
          'caller frames per append (mean)': appends ? Math.round((callerFrames / appends) * 100) / 100 : 0
        },
        failures
      }
    }
  }
}
