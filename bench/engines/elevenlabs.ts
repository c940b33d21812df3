/** The elevenlabs mode: the ElevenLabs Agents fake, and its figures (bridge-added latency, interruption → clear, ping → pong). */
import { FakeElevenLabs, LATE_AUDIO_BYTE, type FakeElevenLabsOptions } from '../../test/fakes/elevenlabs.js'
import type { EngineFakes, EngineOptions } from '../engines.js'
import { distribution } from '../report.js'
import { firstFrameTimes, matchFirstFrames, MATCH_WINDOW_MS, settled } from './match.js'

/** A pong slower than this delays the service's view of the connection. */
const SLOW_PONG_MS = 50

/** The fake with one agent, and the environment that points the server at both (cascade and hybrid use its TTS and STT). */
export async function startElevenLabsFake(
  silenceMs: number,
  opts: FakeElevenLabsOptions = {}
): Promise<{ fake: FakeElevenLabs; env: Record<string, string> }> {
  // Per-frame recording in the fake would grow without bound over a long run.
  const fake = await FakeElevenLabs.start({
    pingIntervalMs: 0,
    endOfTurnSilenceMs: silenceMs,
    recordFrames: false,
    ...opts
  })
  const agent = fake.addAgent({
    input: 'ulaw_8000',
    output: 'ulaw_8000',
    firstMessage: 'Hello, this is the benchmark agent.'
  })
  return {
    fake,
    env: { ELEVENLABS_API_KEY: fake.apiKey, ELEVENLABS_BASE_URL: fake.url, ELEVENLABS_AGENT_ID: agent.agentId }
  }
}

export async function startElevenLabsAgent(opts: EngineOptions): Promise<EngineFakes> {
  // Pings as the service sends them; after each interruption, one audio event still in flight (its id at or
  // below the interruption's), which the bridge must drop.
  const { fake, env } = await startElevenLabsFake(opts.silenceMs, {
    pingIntervalMs: 1000,
    lateAudioAfterInterruption: true
  })
  return {
    env,
    simOptions: { markerByte: LATE_AUDIO_BYTE },
    close: () => fake.stop(),
    progress: () => {
      const open = fake.conversations.filter((c) => !c.closed).length
      return `${fake.conversations.length} conversations (${open} open)`
    },
    figures: async (results, ctx) => {
      await settled(
        fake.conversations.filter((c) => !c.closed).map((c) => new Promise((resolve) => c.once('closed', resolve)))
      )
      const bridge: number[] = []
      const clear: number[] = []
      const pongs: number[] = []
      const slowPongAtMs: number[] = []
      let firstPingAtMs = Infinity
      let unmatched = 0
      let lateAudioSent = 0
      let afterClear = 0
      let badPongs = 0
      let framesBeforeInitiation = 0
      for (const r of results) {
        const conv = fake.conversationFor(ctx.callIdOf(r.index))
        if (!conv) continue
        badPongs += conv.badPongs
        framesBeforeInitiation += conv.framesBeforeInitiation
        conv.pongLatenciesMs.forEach((ms, i) => {
          pongs.push(ms)
          const at = conv.pongPingSentAtMs[i]!
          firstPingAtMs = Math.min(firstPingAtMs, at)
          if (ms > SLOW_PONG_MS) slowPongAtMs.push(at)
        })
        unmatched += matchFirstFrames(conv.replyFirstAudioSentAtMs, firstFrameTimes(r.sim), bridge)
        for (const t of conv.interruptionsSentAtMs) {
          const c = r.sim.clears.find((x) => x >= t && x < t + MATCH_WINDOW_MS)
          if (c !== undefined) clear.push(c - t)
        }
        lateAudioSent += conv.interruptions.filter((id) => id >= 0).length
        // The fake's late audio is made of one marker byte: any such frame heard is audio of an interrupted reply.
        afterClear += r.sim.markerFrames
      }
      const failures: string[] = []
      if (afterClear > 0)
        failures.push(`${afterClear} agent frames of an interrupted reply reached the caller after the clear`)
      if (badPongs > 0) failures.push(`${badPongs} pongs named no ping`)
      if (framesBeforeInitiation > 0)
        failures.push(`${framesBeforeInitiation} frames sent before the conversation initiation`)
      return {
        rows: {
          'bridge-added ms': distribution(bridge),
          'replies unmatched': unmatched,
          'interruption → clear ms': distribution(clear),
          'late audio events (id ≤ interruption)': lateAudioSent,
          'interrupted frames heard (late audio)': afterClear,
          'ping → pong ms': distribution(pongs),
          [`pongs over ${SLOW_PONG_MS} ms`]: pongs.filter((ms) => ms > SLOW_PONG_MS).length,
          // When they were pinged, s into the run: a cluster at the start is the calls setting up, not streaming.
          '  pinged at s': slowPongAtMs
            .sort((a, b) => a - b)
            .slice(0, 12)
            .map((at) => ((at - firstPingAtMs) / 1000).toFixed(1))
            .join(' ')
        },
        failures
      }
    }
  }
}
