/** Figures only the ElevenLabs fake can give (its sends are timed in this process), and a standalone runner for them. */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { FakeElevenLabs } from '../test/fakes/elevenlabs.js'
import { loadSpeechClips } from '../test/fakes/twilio-media-sim.js'
import { runLoad, type CallResult } from './load.js'
import { distribution, formatTable, summarize, type Distribution } from './report.js'
import { procRunQueueWaitSeconds, startServer } from './server.js'

export interface ElevenLabsFigures {
  conversations: number
  /** The fake's first audio event of a reply sent → that reply's first media frame at the simulated Twilio, ms. */
  bridgeAddedMs: Distribution
  repliesUnmatched: number
  /** `interruption` sent by the fake → `clear` received by the simulated Twilio, ms. */
  interruptionClearMs: Distribution
  interruptions: number
  /** `ping` sent → `pong` received by the fake, ms, while the calls stream. */
  pongMs: Distribution
  pongsOver50Ms: number
  /** Pongs that named no ping the fake sent: a bug if not zero. */
  badPongs: number
  /** Frames sent before `conversation_initiation_client_data`: a bug if not zero. */
  framesBeforeInitiation: number
}

/** Longest gap still read as cause and effect (audio sent → first frame, interruption → clear), ms. */
const MATCH_WINDOW_MS = 1_000

/** Waits (bounded) for the conversations to close, so late pongs are in. */
async function settled(fake: FakeElevenLabs, timeoutMs = 3_000): Promise<void> {
  const open = fake.conversations.filter((c) => !c.closed).map((c) => new Promise<void>((resolve) => c.once('closed', () => resolve())))
  await Promise.race([Promise.all(open), new Promise((resolve) => setTimeout(resolve, timeoutMs))])
}

export async function elevenLabsFigures(fake: FakeElevenLabs, results: readonly CallResult[], callIdOf: (index: number) => string): Promise<ElevenLabsFigures> {
  await settled(fake)
  const bridge: number[] = []
  const clear: number[] = []
  const pongs: number[] = []
  const out = { conversations: 0, repliesUnmatched: 0, interruptions: 0, badPongs: 0, framesBeforeInitiation: 0 }
  for (const r of results) {
    const conv = fake.conversationFor(callIdOf(r.index))
    if (!conv) continue
    out.conversations++
    out.badPongs += conv.badPongs
    out.framesBeforeInitiation += conv.framesBeforeInitiation
    out.interruptions += conv.interruptionsSentAtMs.length
    pongs.push(...conv.pongLatenciesMs)
    // A reply's first frame is the first of its generation (the greeting, a reply after a clear) or the first
    // after the utterance it answers.
    const firstFrames = [
      ...r.sim.generations.map((g) => g.firstMediaAtMs),
      ...r.sim.speech.map((s) => s.firstAgentMediaAtMs)
    ]
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b)
    const sent = conv.replyFirstAudioSentAtMs
    for (let i = 0; i < sent.length; i++) {
      const t = sent[i]!
      const limit = Math.min(t + MATCH_WINDOW_MS, sent[i + 1] ?? Infinity)
      const frame = firstFrames.find((f) => f >= t && f < limit)
      if (frame === undefined) out.repliesUnmatched++
      else bridge.push(frame - t)
    }
    for (const t of conv.interruptionsSentAtMs) {
      const c = r.sim.clears.find((x) => x >= t && x < t + MATCH_WINDOW_MS)
      if (c !== undefined) clear.push(c - t)
    }
  }
  return {
    ...out,
    bridgeAddedMs: distribution(bridge),
    interruptionClearMs: distribution(clear),
    pongMs: distribution(pongs),
    pongsOver50Ms: pongs.filter((ms) => ms > 50).length
  }
}

function fmt(d: Distribution): string {
  const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2))
  return `n=${d.n} p50=${f(d.p50)} p95=${f(d.p95)} p99=${f(d.p99)} max=${f(d.max)} ms`
}

/** `node --import tsx bench/elevenlabs.ts --calls 100 --duration 60`: one run in elevenlabs mode. */
async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '100' },
      duration: { type: 'string', default: '60' },
      'barge-every': { type: 'string', default: '3' },
      'ramp-ms': { type: 'string', default: '2000' },
      'ping-ms': { type: 'string', default: '1000' },
      cli: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const calls = Number(values.calls)
  const durationS = Number(values.duration)
  const silenceMs = 500
  const fake = await FakeElevenLabs.start({ pingIntervalMs: Number(values['ping-ms']), endOfTurnSilenceMs: silenceMs, recordFrames: false })
  const agent = fake.addAgent({ input: 'ulaw_8000', output: 'ulaw_8000', firstMessage: 'Hello, this is the benchmark agent.' })
  const token = randomBytes(18).toString('base64url')
  const server = await startServer({
    cliPath: values.cli ?? join(root, 'out', 'main', 'cli.js'),
    cwd: root,
    token,
    args: ['--dotenv', '/dev/null'],
    env: { CALLBENCH_LOG_LEVEL: 'warn', ELEVENLABS_API_KEY: fake.apiKey, ELEVENLABS_BASE_URL: fake.url, ELEVENLABS_AGENT_ID: agent.agentId }
  })
  try {
    const runId = `el-${Date.now().toString(36)}`
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
      mode: 'elevenlabs',
      vad: undefined,
      silenceMs,
      clips: loadSpeechClips(),
      bargeInEvery: Number(values['barge-every']),
      rampMs: Number(values['ramp-ms'])
    })
    const cpuSeconds = server.cpuSeconds() - cpuBefore
    const usage = process.cpuUsage(benchCpu)
    const summary = summarize(
      results,
      { calls, durationS, mode: 'elevenlabs', vad: 'n/a', silenceMs, quick: false },
      { cpuSeconds, peakRssBytes: server.peakRssBytes(), runQueueWaitSeconds: server.runQueueWaitSeconds() - waitBefore },
      { cpuSeconds: (usage.user + usage.system) / 1e6, runQueueWaitSeconds: procRunQueueWaitSeconds(process.pid) - benchWaitBefore },
      {}
    )
    const figures = await elevenLabsFigures(fake, results, (i) => `${runId}-${i}`)
    if (values.json) console.log(JSON.stringify({ summary, elevenlabs: figures }, null, 2))
    else {
      console.log(formatTable(summary))
      console.log(`elevenlabs (${figures.conversations} conversations, ${((performance.now() - t0) / 1000).toFixed(0)} s wall)`)
      console.log(`  bridge-added (first audio sent → first frame at Twilio): ${fmt(figures.bridgeAddedMs)}; unmatched ${figures.repliesUnmatched}`)
      console.log(`  interruption sent → clear at Twilio:                     ${fmt(figures.interruptionClearMs)} of ${figures.interruptions}`)
      console.log(`  ping → pong:                                             ${fmt(figures.pongMs)}; over 50 ms ${figures.pongsOver50Ms}`)
      console.log(`  bad pongs ${figures.badPongs}; frames before initiation ${figures.framesBeforeInitiation}`)
    }
  } finally {
    await server.stop()
    await fake.stop()
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
