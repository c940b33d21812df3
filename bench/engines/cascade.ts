/** The cascade mode: ElevenLabs STT and TTS fakes and the Chat Completions fake, and their figures (bridge overhead, barge-in). */
import type { FakeElevenLabs } from '../../test/fakes/elevenlabs.js'
import { FakeOpenAiChat, tokenize } from '../../test/fakes/openai-chat.js'
import { TextChunker } from '../../src/main/speech/text-chunker.js'
import type { EngineFakes, EngineOptions } from '../engines.js'
import { distribution } from '../report.js'
import { startElevenLabsFake } from './elevenlabs.js'
import { MATCH_WINDOW_MS } from './match.js'

/** The agent's answer to every turn: long enough that a barge-in lands while the model is still streaming it. */
export const BENCH_REPLY =
  'Sure, the shop opens at nine, and it closes at six on weekdays. On Saturdays it opens at ten and closes at four. Anything else?'

/** The fakes' own time in a turn, ms: what a real service would add, so not ours. */
const FAKE_DELAYS = { sttMs: 40, llmFirstTokenMs: 60, llmTokenIntervalMs: 40, ttsFirstByteMs: 50 }
/** TTS audio per character, ms (the fake's default of 40 makes a reply long enough to slow the turns down). */
const TTS_MS_PER_CHAR = 20
/** An abort further than this from a barge-in's clear has another cause, ms. */
const ABORT_WINDOW_MS = 200

/**
 * The LLM fake's time to the reply's first speakable piece: its first-token delay, then one token interval per
 * token until the server's chunker (the same code) completes the piece.
 */
function llmDelayToFirstPieceMs(): number {
  const chunker = new TextChunker()
  const tokens = tokenize(BENCH_REPLY)
  let k = 1
  while (k < tokens.length && chunker.push(tokens[k - 1]!).length === 0) k++
  return FAKE_DELAYS.llmFirstTokenMs + (k - 1) * FAKE_DELAYS.llmTokenIntervalMs
}

/** The index of the clear nearest to `atMs` in sorted `clears`, if within `windowMs`. */
function nearest(clears: readonly number[], atMs: number, windowMs: number): number | undefined {
  let best: number | undefined
  for (const c of clears)
    if (Math.abs(c - atMs) < windowMs && (best === undefined || Math.abs(c - atMs) < Math.abs(best - atMs))) best = c
  return best
}

/** TTS sockets of one call that the server closed before the service's `isFinal`, near one of its clears. */
export function ttsStoppedByClears(fake: FakeElevenLabs, callId: string, clears: readonly number[]): number {
  let n = 0
  for (const s of fake.ttsSockets) {
    if (s.requestId !== callId || !s.closedBeforeFinal || s.closedAtMs === undefined) continue
    if (nearest(clears, s.closedAtMs, MATCH_WINDOW_MS) !== undefined) n++
  }
  return n
}

export async function startCascade(opts: EngineOptions): Promise<EngineFakes> {
  const el = await startElevenLabsFake(opts.silenceMs, {
    sttDelayMs: FAKE_DELAYS.sttMs,
    ttsFirstByteDelayMs: FAKE_DELAYS.ttsFirstByteMs,
    ttsMsPerChar: TTS_MS_PER_CHAR
  })
  const chat = await FakeOpenAiChat.start({
    firstTokenDelayMs: FAKE_DELAYS.llmFirstTokenMs,
    tokenIntervalMs: FAKE_DELAYS.llmTokenIntervalMs,
    reply: () => BENCH_REPLY
  })
  const fakeTurnMs = FAKE_DELAYS.sttMs + llmDelayToFirstPieceMs() + FAKE_DELAYS.ttsFirstByteMs
  return {
    env: { ...el.env, OPENAI_API_KEY: chat.apiKey, OPENAI_BASE_URL: chat.url },
    close: async () => {
      await Promise.all([el.fake.stop(), chat.stop()])
    },
    progress: () => `${chat.requests.length} LLM requests, ${el.fake.ttsSockets.length} TTS sockets`,
    figures: async (results, ctx) => {
      const overhead: number[] = []
      const allClears: number[] = []
      let ttsStopped = 0
      for (const r of results) {
        for (const t of r.serverTurns) {
          if (t.totalMs !== undefined && t.endOfSpeechWaitMs !== undefined)
            overhead.push(t.totalMs - t.endOfSpeechWaitMs - fakeTurnMs)
        }
        for (const c of r.sim.clears) allClears.push(c)
        ttsStopped += ttsStoppedByClears(el.fake, ctx.callIdOf(r.index), r.sim.clears)
      }
      // Chat requests carry no call id: an abort is a barge-in's when some call's clear went out with it.
      allClears.sort((a, b) => a - b)
      let aborted = 0
      let abortedOtherwise = 0
      for (const q of chat.requests) {
        if (!q.aborted || q.abortedAtMs === undefined) continue
        if (nearest(allClears, q.abortedAtMs, ABORT_WINDOW_MS) !== undefined) aborted++
        else abortedOtherwise++
      }
      return {
        rows: {
          'bridge overhead ms': distribution(overhead),
          "fakes' own delay per turn ms": fakeTurnMs,
          'barge-in: onset → clear ms': ctx.summary.bargeIn.latencyMs,
          'barge-in: clears': allClears.length,
          'barge-in: LLM requests aborted': aborted,
          'LLM requests aborted otherwise': abortedOtherwise,
          'barge-in: TTS streams stopped': ttsStopped
        },
        failures: []
      }
    }
  }
}
