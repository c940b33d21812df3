/** The hybrid mode: the OpenAI Realtime fake (text out) and the ElevenLabs TTS fake, and their figures (TTS → Twilio, barge-in). */
import type { EngineFakes, EngineOptions } from '../engines.js'
import { distribution } from '../report.js'
import { BENCH_REPLY } from './cascade.js'
import { startElevenLabsFake } from './elevenlabs.js'
import { LATE_AUDIO_BYTE } from '../../test/fakes/elevenlabs.js'
import { firstFrameTimes, matchFirstFrames } from './match.js'
import { realtimeBargeIn, sessionsClosed, sessionsProgress, startRealtimeFake } from './openai-realtime.js'

export async function startHybrid(opts: EngineOptions): Promise<EngineFakes> {
  const el = await startElevenLabsFake(opts.silenceMs, { ttsMsPerChar: 20 })
  const rt = await startRealtimeFake({ replyText: BENCH_REPLY, lateDeltasAfterCancel: 2 })
  return {
    env: { ...el.env, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: rt.baseUrl },
    // Late text of a cancelled response is '~', which the TTS fake speaks as marker audio the caller counts.
    simOptions: { markerByte: LATE_AUDIO_BYTE },
    close: async () => {
      await Promise.all([el.fake.stop(), rt.close()])
    },
    progress: () => `${sessionsProgress(rt)}, ${el.fake.ttsSockets.length} TTS sockets`,
    figures: async (results, ctx) => {
      await sessionsClosed(rt)
      const toTwilio: number[] = []
      const clear: number[] = []
      let unmatched = 0
      let afterClear = 0
      for (const r of results) {
        const callId = ctx.callIdOf(r.index)
        const sent = el.fake.ttsSockets
          .filter((s) => s.requestId === callId && s.firstAudioSentAtMs !== undefined)
          .map((s) => s.firstAudioSentAtMs!)
          .sort((a, b) => a - b)
        unmatched += matchFirstFrames(sent, firstFrameTimes(r.sim), toTwilio)
        const s = rt.sessionFor(callId)
        if (s) afterClear += realtimeBargeIn(s, r.sim, clear)
      }
      return {
        rows: {
          'TTS first audio → Twilio media ms': distribution(toTwilio),
          'replies unmatched': unmatched,
          'barge-in: speech_started → clear ms': distribution(clear),
          'barge-in: cancelled frames after clear': afterClear
        },
        failures:
          afterClear > 0 ? [`${afterClear} agent frames of a cancelled reply reached the caller after the clear`] : []
      }
    }
  }
}
