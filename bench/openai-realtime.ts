/** Figures only the OpenAI Realtime fake can give (its sends are timed in this process), and a standalone runner for them. */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { FakeRealtimeServer } from '../test/fakes/openai-realtime.js'
import { loadSpeechClips } from '../test/fakes/twilio-media-sim.js'
import { runLoad, type CallResult } from './load.js'
import { distribution, formatTable, summarize, type Distribution } from './report.js'
import { procRunQueueWaitSeconds, startServer } from './server.js'

export interface RealtimeFigures {
  sessions: number
  /** The fake's first audio delta of a reply sent → that reply's first media frame at the simulated Twilio, ms. */
  bridgeAddedMs: Distribution
  /** Replies whose first frame could not be told apart (e.g. a second VAD turn inside one utterance). */
  repliesUnmatched: number
  /** `speech_started` sent by the fake → `clear` received by the simulated Twilio, ms. */
  bargeInClearMs: Distribution
  truncations: number
  /** Truncations the fake refused (past the audio produced): a bug if not zero. */
  truncationsRefused: number
  /** Client events that broke the GA protocol: a bug if not zero. */
  invalidClientEvents: number
  /** Caller frames sent before `session.update`: a bug if not zero. */
  appendsBeforeSessionUpdate: number
  /** Caller frames the simulated Twilio sent that the service never got (completed calls). */
  callerFramesLost: number
}

/** Longest gap still read as cause and effect (delta → first frame, speech_started → clear), ms. */
const MATCH_WINDOW_MS = 1_000

/** Waits (bounded) for the fake's sessions to close, so the last appends are counted. */
async function settled(fake: FakeRealtimeServer, timeoutMs = 3_000): Promise<void> {
  const open = fake.sessions.filter((s) => !s.closed).map((s) => s.untilClosed())
  await Promise.race([Promise.all(open), new Promise((resolve) => setTimeout(resolve, timeoutMs))])
}

export async function realtimeFigures(
  fake: FakeRealtimeServer,
  results: readonly CallResult[],
  callIdOf: (index: number) => string
): Promise<RealtimeFigures> {
  await settled(fake)
  const bridge: number[] = []
  const clear: number[] = []
  const out = {
    sessions: 0,
    repliesUnmatched: 0,
    truncations: 0,
    truncationsRefused: 0,
    invalidClientEvents: 0,
    appendsBeforeSessionUpdate: 0,
    callerFramesLost: 0
  }
  for (const r of results) {
    const s = fake.sessionFor(callIdOf(r.index))
    if (!s) continue
    out.sessions++
    out.truncations += s.truncations.length
    out.truncationsRefused += s.truncations.filter((t) => !t.accepted).length
    out.invalidClientEvents += s.invalidEvents.length
    out.appendsBeforeSessionUpdate += s.appendsBeforeSessionUpdate
    // Only calls that ran to their own hang-up: a failed call stops forwarding by design.
    if (!r.error) out.callerFramesLost += Math.max(0, r.sim.framesSent - Math.floor(s.audioBytesReceived / 160))
    // First agent frame after each utterance ended: the first frame of the reply to it.
    const firstFrames = r.sim.speech.map((sp) => sp.firstAgentMediaAtMs).filter((t): t is number => t !== undefined)
    const sent = s.responses.map((x) => x.firstDeltaSentAtMs).filter((t): t is number => t !== undefined)
    for (let i = 0; i < sent.length; i++) {
      const t = sent[i]!
      const limit = Math.min(t + MATCH_WINDOW_MS, sent[i + 1] ?? Infinity)
      const frame = firstFrames.find((f) => f >= t && f < limit)
      if (frame === undefined) out.repliesUnmatched++
      else bridge.push(frame - t)
    }
    for (const c of r.sim.clears) {
      let cause: number | undefined
      for (const t of s.speechStartedSentAtMs) if (t <= c) cause = t
      if (cause !== undefined && c - cause < MATCH_WINDOW_MS) clear.push(c - cause)
    }
  }
  return { ...out, bridgeAddedMs: distribution(bridge), bargeInClearMs: distribution(clear) }
}

function fmt(d: Distribution): string {
  const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(2))
  return `p50 ${f(d.p50)}  p95 ${f(d.p95)}  p99 ${f(d.p99)}  max ${f(d.max)}  (n=${d.n})`
}

/** The figures as lines for the benchmark table. */
export function formatRealtimeFigures(f: RealtimeFigures): string {
  return [
    `openai-realtime (fake)          ${f.sessions} sessions`,
    `  bridge-added ms               ${fmt(f.bridgeAddedMs)}; unmatched ${f.repliesUnmatched}`,
    `    (fake's first audio delta sent → first media frame at the simulated Twilio)`,
    `  barge-in clear ms             ${fmt(f.bargeInClearMs)}`,
    `    (speech_started sent by the fake → clear at the simulated Twilio)`,
    `  truncations                   ${f.truncations} (refused ${f.truncationsRefused})`,
    `  protocol                      invalid client events ${f.invalidClientEvents}; appends before session.update ${f.appendsBeforeSessionUpdate}`,
    `  caller frames lost            ${f.callerFramesLost}`
  ].join('\n')
}

/** `node --import tsx bench/openai-realtime.ts --calls 100 --duration 60`: one run in openai-realtime mode. */
async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '100' },
      duration: { type: 'string', default: '60' },
      'barge-every': { type: 'string', default: '3' },
      'ramp-ms': { type: 'string', default: '2000' },
      cli: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const calls = Number(values.calls)
  const durationS = Number(values.duration)
  const fake = await FakeRealtimeServer.start({ logAppends: false, recordAudio: false })
  const token = randomBytes(18).toString('base64url')
  const server = await startServer({
    cliPath: values.cli ?? join(root, 'out', 'main', 'cli.js'),
    cwd: root,
    token,
    args: ['--dotenv', '/dev/null'],
    env: { CALLBENCH_LOG_LEVEL: 'warn', OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.baseUrl }
  })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void server.stop().finally(() => process.exit(130))
    })
  }
  const progress = setInterval(() => {
    const open = fake.sessions.filter((s) => !s.closed).length
    const replies = fake.sessions.reduce((n, s) => n + s.responses.length, 0)
    console.error(`… ${fake.sessions.length} sessions (${open} open), ${replies} replies`)
  }, 10_000).unref()
  try {
    const runId = `rt-${Date.now().toString(36)}`
    const cpuBefore = server.cpuSeconds()
    const waitBefore = server.runQueueWaitSeconds()
    const benchWaitBefore = procRunQueueWaitSeconds(process.pid)
    const benchCpu = process.cpuUsage()
    const t0 = performance.now()
    const results = await runLoad({
      mediaUrl: server.mediaUrl,
      controlUrl: server.controlUrl,
      token,
      runId,
      calls,
      durationMs: durationS * 1000,
      mode: 'openai-realtime',
      vad: undefined,
      silenceMs: 500,
      clips: loadSpeechClips(),
      bargeInEvery: Number(values['barge-every']),
      rampMs: Number(values['ramp-ms'])
    })
    const cpuSeconds = server.cpuSeconds() - cpuBefore
    const usage = process.cpuUsage(benchCpu)
    const summary = summarize(
      results,
      { calls, durationS, mode: 'openai-realtime', vad: 'n/a', silenceMs: 500, quick: false },
      {
        cpuSeconds,
        peakRssBytes: server.peakRssBytes(),
        runQueueWaitSeconds: server.runQueueWaitSeconds() - waitBefore
      },
      {
        cpuSeconds: (usage.user + usage.system) / 1e6,
        runQueueWaitSeconds: procRunQueueWaitSeconds(process.pid) - benchWaitBefore
      },
      {}
    )
    const figures = await realtimeFigures(fake, results, (i) => `${runId}-${i}`)
    if (values.json) console.log(JSON.stringify({ summary, openaiRealtime: figures }, null, 2))
    else {
      console.log(formatTable(summary))
      console.log(formatRealtimeFigures(figures))
      console.log(`wall ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    }
  } finally {
    clearInterval(progress)
    await server.stop()
    await fake.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error((err as Error).message)
      process.exit(1)
    }
  )
}
