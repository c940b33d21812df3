/** Figures for the cascade and hybrid engines against zero-delay fakes: bridge overhead per turn, barge-in, TTS → Twilio. */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FakeElevenLabs } from '../test/fakes/elevenlabs.js'
import { FakeOpenAiChat } from '../test/fakes/openai-chat.js'
import { FakeRealtimeServer } from '../test/fakes/openai-realtime.js'
import { loadSpeechClips } from '../test/fakes/twilio-media-sim.js'
import { runLoad, type CallResult } from './load.js'
import { distribution, summarize, type Distribution } from './report.js'
import { startServer } from './server.js'

/** Longest gap still read as cause and effect (TTS audio sent → first frame at Twilio), ms. */
const MATCH_WINDOW_MS = 1_000

interface TurnView {
  totalMs?: number
  endOfSpeechWaitMs?: number
  sttMs?: number
  llmFirstTokenMs?: number
  ttsFirstByteMs?: number
  bridgeMs?: number
}

export interface CascadeHybridFigures {
  mode: 'cascade' | 'hybrid'
  turns: number
  /**
   * Cascade: caller stopped → first frame out, minus the end-of-turn wait the VAD applied (configured silence
   * rounded to its windows) and minus the fakes' configured delays (all zero here): STT, LLM and TTS round trips
   * to the local fakes, plus everything our code does in between.
   */
  overheadMs: Distribution
  /** The server's own `bridgeMs`: end of turn → first frame out, minus the STT, LLM and TTS parts. */
  bridgeMs: Distribution
  sttMs: Distribution
  llmFirstTokenMs: Distribution
  ttsFirstByteMs: Distribution
  /** The fake TTS sent a reply's first audio → that audio's first frame at the simulated Twilio, ms. */
  ttsToTwilioMs: Distribution
  repliesUnmatched: number
  /** Caller speech onset (sent over agent audio) → `clear` at the simulated Twilio, ms. */
  bargeInClearMs: Distribution
  bargeInMissed: number
  callsFailed: number
  errors: string[]
  /** Event-loop delay of this process (simulated Twilio and the fakes live here), ms: how late the fakes answered. */
  harnessLoopDelayMs: { p50: number; p99: number; max: number }
}

export function figures(
  mode: 'cascade' | 'hybrid',
  eleven: FakeElevenLabs,
  results: readonly CallResult[],
  callIdOf: (i: number) => string
): Omit<CascadeHybridFigures, 'bargeInClearMs' | 'bargeInMissed' | 'callsFailed' | 'errors' | 'harnessLoopDelayMs'> {
  const overhead: number[] = []
  const bridge: number[] = []
  const stt: number[] = []
  const llm: number[] = []
  const tts: number[] = []
  const toTwilio: number[] = []
  let turns = 0
  let unmatched = 0
  for (const r of results) {
    for (const t of r.serverTurns as TurnView[]) {
      turns++
      if (t.totalMs !== undefined && t.endOfSpeechWaitMs !== undefined) overhead.push(t.totalMs - t.endOfSpeechWaitMs)
      if (t.bridgeMs !== undefined) bridge.push(t.bridgeMs)
      if (t.sttMs !== undefined) stt.push(t.sttMs)
      if (t.llmFirstTokenMs !== undefined) llm.push(t.llmFirstTokenMs)
      if (t.ttsFirstByteMs !== undefined) tts.push(t.ttsFirstByteMs)
    }
    // Every media frame's arrival is not kept by the simulator; a reply's first frame is the first after its send.
    const firstFrames = r.sim.generations
      .map((g) => g.firstMediaAtMs)
      .concat(r.sim.speech.map((s) => s.firstAgentMediaAtMs))
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b)
    const sent = eleven.ttsSockets
      .filter((s) => s.requestId === callIdOf(r.index) && s.firstAudioSentAtMs !== undefined)
      .map((s) => s.firstAudioSentAtMs!)
      .sort((a, b) => a - b)
    for (let i = 0; i < sent.length; i++) {
      const t = sent[i]!
      const limit = Math.min(t + MATCH_WINDOW_MS, sent[i + 1] ?? Infinity)
      const frame = firstFrames.find((f) => f >= t && f < limit)
      if (frame === undefined) unmatched++
      else toTwilio.push(frame - t)
    }
  }
  return {
    mode,
    turns,
    overheadMs: distribution(overhead),
    bridgeMs: distribution(bridge),
    sttMs: distribution(stt),
    llmFirstTokenMs: distribution(llm),
    ttsFirstByteMs: distribution(tts),
    ttsToTwilioMs: distribution(toTwilio),
    repliesUnmatched: unmatched
  }
}

function fmt(d: Distribution): string {
  const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2))
  return `n=${d.n} p50=${f(d.p50)} p95=${f(d.p95)} p99=${f(d.p99)} max=${f(d.max)} ms`
}

/** `node --import tsx bench/cascade-hybrid.ts --mode cascade --calls 50 --duration 60 --vad silero` */
async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'cascade' },
      calls: { type: 'string', default: '50' },
      duration: { type: 'string', default: '60' },
      vad: { type: 'string', default: 'silero' },
      'barge-every': { type: 'string', default: '3' },
      'ramp-ms': { type: 'string', default: '2000' },
      cli: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const mode = values.mode === 'hybrid' ? 'hybrid' : 'cascade'
  const calls = Number(values.calls)
  const durationS = Number(values.duration)
  // Zero delays everywhere: what remains is ours (and the local round trips).
  const eleven = await FakeElevenLabs.start({ pingIntervalMs: 0, ttsChunkIntervalMs: 0 })
  const chat =
    mode === 'cascade'
      ? await FakeOpenAiChat.start({ reply: () => 'Sure. The shop opens at nine and closes at six on weekdays.' })
      : undefined
  const rt =
    mode === 'hybrid'
      ? await FakeRealtimeServer.start({
          logAppends: false,
          recordAudio: false,
          textDeltaIntervalMs: 0,
          replyText: 'Sure. The shop opens at nine and closes at six on weekdays.'
        })
      : undefined
  const env: Record<string, string> = {
    CALLBENCH_LOG_LEVEL: 'warn',
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
    ELEVENLABS_API_KEY: eleven.apiKey,
    ELEVENLABS_BASE_URL: eleven.url,
    OPENAI_API_KEY: chat?.apiKey ?? 'sk-bench',
    OPENAI_BASE_URL: chat?.url ?? rt!.baseUrl
  }
  const token = randomBytes(18).toString('base64url')
  const server = await startServer({
    cliPath: values.cli ?? join(root, 'out', 'main', 'cli.js'),
    cwd: root,
    token,
    args: ['--dotenv', '/dev/null'],
    env
  })
  try {
    const runId = `${mode}-${Date.now().toString(36)}`
    const loop = monitorEventLoopDelay({ resolution: 5 })
    loop.enable()
    const silenceMs = 500
    const results = await runLoad({
      mediaUrl: server.mediaUrl,
      controlUrl: server.controlUrl,
      token,
      runId,
      calls,
      durationMs: durationS * 1000,
      mode,
      vad: mode === 'cascade' ? values.vad : undefined,
      silenceMs,
      clips: loadSpeechClips(),
      bargeInEvery: Number(values['barge-every']),
      rampMs: Number(values['ramp-ms'])
    })
    loop.disable()
    const summary = summarize(
      results,
      { calls, durationS, mode, vad: values.vad ?? '', silenceMs, quick: false },
      {
        cpuSeconds: server.cpuSeconds(),
        peakRssBytes: server.peakRssBytes(),
        runQueueWaitSeconds: server.runQueueWaitSeconds()
      },
      { cpuSeconds: 0, runQueueWaitSeconds: 0 },
      {}
    )
    const out: CascadeHybridFigures = {
      ...figures(mode, eleven, results, (i) => `${runId}-${i}`),
      bargeInClearMs: summary.bargeIn.latencyMs,
      bargeInMissed: summary.bargeIn.missed,
      callsFailed: summary.calls.failed,
      errors: summary.calls.errors,
      harnessLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }
    }
    if (values.json) console.log(JSON.stringify({ figures: out, summary }, null, 2))
    else {
      console.log(
        `${mode}: ${calls} calls × ${durationS} s, ${out.turns} turns, vad ${mode === 'cascade' ? values.vad : 'server'}`
      )
      console.log(`  overhead (total − end-of-turn wait)  ${fmt(out.overheadMs)}`)
      console.log(`  bridgeMs (server)                    ${fmt(out.bridgeMs)}`)
      console.log(
        `  stt / llm first token / tts first    ${fmt(out.sttMs)} | ${fmt(out.llmFirstTokenMs)} | ${fmt(out.ttsFirstByteMs)}`
      )
      console.log(
        `  fake TTS first audio → Twilio        ${fmt(out.ttsToTwilioMs)} (unmatched ${out.repliesUnmatched})`
      )
      console.log(`  barge-in onset → clear               ${fmt(out.bargeInClearMs)} (missed ${out.bargeInMissed})`)
      console.log(`  sim turn latency − silence           ${fmt(summary.turns.latencyMs)}`)
      console.log(`  failed calls ${out.callsFailed} ${out.errors.slice(0, 3).join('; ')}`)
      const h = out.harnessLoopDelayMs
      console.log(
        `  harness event-loop delay             p50=${h.p50.toFixed(2)} p99=${h.p99.toFixed(2)} max=${h.max.toFixed(2)} ms`
      )
    }
  } finally {
    await server.stop()
    await Promise.all([eleven.stop(), chat?.stop(), rt?.close()])
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error((err as Error).stack ?? err)
      process.exit(1)
    }
  )
}
