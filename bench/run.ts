/** The load benchmark: N simulated Twilio calls against a `callbench serve` child, then a table or JSON of the figures. */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { loadSpeechClips } from '../test/fakes/twilio-media-sim.js'
import { callIdOf, runLoad } from './load.js'
import { BENCH_MODES, isBenchMode, startEngineFakes, type EngineFakes } from './engines.js'
import { formatTable, summarize, type BenchSummary } from './report.js'
import { procRunQueueWaitSeconds, startServer, type ServerHandle } from './server.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

const USAGE = `usage: npm run bench -- [options]
  --calls N          concurrent calls (default 100)
  --duration S       seconds each call talks (default 60)
  --mode M           engine: echo (default), openai-realtime, elevenlabs, cascade, hybrid (remote engines are local fakes)
  --vad V            silero | energy | webrtc (default: the server's setting)
  --silence-ms MS    end-of-turn silence the server is told to use (default 500)
  --early-reply MS   cascade: silence after which the reply is prepared ahead of the end of turn (default: the
                     server's setting, 200; 0 = off, every step after the end of turn)
  --barge-every K    every K-th turn barges in on the reply (default 3, 0 = never)
  --fake-delays D    cascade fakes: zero (default; the turn is all ours) | realistic (STT 40, LLM 60 + 40/token, TTS 50 ms)
  --ramp-ms MS       open the calls over this long (default 2000)
  --quick            a few calls for a few seconds (CI smoke)
  --no-micro         skip the micro-benchmarks
  --json             print JSON instead of a table
  --cli PATH         built CLI to start (default out/main/cli.js)
  --serve-arg ARG    extra argument for \`callbench serve\` (repeatable)
env BENCH_SERVER_NODE_OPTIONS  NODE_OPTIONS for the server only (e.g. --cpu-prof for profiling)`

interface MicroModule {
  [name: string]: unknown
}

/** Micro-benchmarks other modules provide (bench/micro/*.ts), run when present. */
async function runMicro(quick: boolean): Promise<Record<string, unknown>> {
  const wanted: Array<[string, string[]]> = [
    ['audio.ts', ['benchCodec', 'benchResampler']],
    ['vad.ts', ['benchSilero']]
  ]
  const out: Record<string, unknown> = {}
  for (const [file, names] of wanted) {
    const path = join(ROOT, 'bench', 'micro', file)
    if (!existsSync(path)) continue
    let mod: MicroModule
    try {
      mod = (await import(pathToFileURL(path).href)) as MicroModule
    } catch (err) {
      out[file] = `failed to load: ${(err as Error).message}`
      continue
    }
    for (const name of names) {
      const fn = mod[name]
      if (typeof fn !== 'function') continue
      try {
        out[name] = await (fn as (o: { quick: boolean }) => unknown)({ quick })
      } catch (err) {
        out[name] = `failed: ${(err as Error).message}`
      }
    }
  }
  return out
}

/** The event-loop monitor's timer period, ms. */
const LOOP_RESOLUTION_MS = 5

/** The monitor records each period of its timer (ns): how late it fired is what exceeds the period, ms. */
function lateBy(periodNs: number): number {
  return Math.max(0, periodNs / 1e6 - LOOP_RESOLUTION_MS)
}

/** Steal and total ticks of all CPUs so far (/proc/stat), when the machine says. */
function cpuStealTicks(): { steal: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal …: the 8th is the time the hypervisor ran other guests.
    return { steal: fields[7] ?? 0, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) }
  } catch {
    return undefined
  }
}

function stolenShare(
  before: ReturnType<typeof cpuStealTicks>,
  after: ReturnType<typeof cpuStealTicks>
): { stolenCpuShare?: number } {
  if (!before || !after || after.total <= before.total) return {}
  return { stolenCpuShare: (after.steal - before.steal) / (after.total - before.total) }
}

/** Waits (bounded) until the server has loaded the SDKs it warms after start, so the run measures a steady state. */
async function warmedUp(server: ServerHandle): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const res = await fetch(`${server.controlUrl}/api/health`, { headers: { authorization: `Bearer ${server.token}` } })
    if (!((await res.json()) as { warmingUp?: boolean }).warmingUp) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The server's event-loop delay since the last reset (its /api/health); `reset` starts a new reading. */
async function serverLoopDelay(
  server: ServerHandle,
  reset: boolean
): Promise<{ p50: number; p99: number; max: number } | undefined> {
  try {
    const res = await fetch(`${server.controlUrl}/api/health${reset ? '?resetLoop=1' : ''}`, {
      headers: { authorization: `Bearer ${server.token}` },
      signal: AbortSignal.timeout(5000)
    })
    const health = (await res.json()) as { eventLoopDelayMs?: { p50: number; p99: number; max: number } }
    return health.eventLoopDelayMs
  } catch {
    return undefined
  }
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`)
  return n
}

/** What makes a run fail (exit 1): things that are wrong at any load, not figures that vary by machine. */
function failures(s: BenchSummary): string[] {
  const out: string[] = []
  if (s.calls.failed > 0) out.push(`${s.calls.failed} calls failed`)
  if (s.turns.answered === 0) out.push('no turn was answered')
  if (s.frames.agentMissing > 0) out.push(`${s.frames.agentMissing} agent frames never reached the caller`)
  if (s.frames.callerLostAtServer > 0) out.push(`${s.frames.callerLostAtServer} caller frames lost at the server`)
  return out
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string' },
      duration: { type: 'string' },
      mode: { type: 'string', default: 'echo' },
      vad: { type: 'string' },
      'silence-ms': { type: 'string' },
      'early-reply': { type: 'string' },
      'barge-every': { type: 'string' },
      'fake-delays': { type: 'string', default: 'zero' },
      'ramp-ms': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-micro': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      cli: { type: 'string' },
      'serve-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false }
    },
    strict: true
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const quick = values.quick
  const calls = positiveInt(values.calls, quick ? 4 : 100, 'calls')
  const durationS = positiveInt(values.duration, quick ? 12 : 60, 'duration')
  const silenceMs = positiveInt(values['silence-ms'], 500, 'silence-ms')
  const earlyReplyMs =
    values['early-reply'] === undefined ? undefined : positiveInt(values['early-reply'], 0, 'early-reply')
  const bargeInEvery = positiveInt(values['barge-every'], quick ? 2 : 3, 'barge-every')
  const rampMs = positiveInt(values['ramp-ms'], quick ? 200 : 2000, 'ramp-ms')
  const progress = (msg: string): void => {
    if (!values.json) console.error(msg)
  }

  const clips = loadSpeechClips()
  const micro = values['no-micro'] ? {} : await runMicro(quick)
  if (Object.keys(micro).length) progress('micro-benchmarks done')

  const mode = values.mode
  if (!isBenchMode(mode)) throw new Error(`--mode must be one of ${BENCH_MODES.join(', ')}`)
  const fakeDelays = values['fake-delays']
  if (fakeDelays !== 'zero' && fakeDelays !== 'realistic') throw new Error('--fake-delays must be zero or realistic')
  const token = randomBytes(18).toString('hex')
  let server: ServerHandle | undefined
  let fakes: EngineFakes | undefined
  const stop = async (): Promise<void> => {
    await server?.stop()
    await fakes?.close()
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void stop().finally(() => process.exit(130))
    })
  }
  try {
    fakes = await startEngineFakes(mode, { silenceMs, fakeDelays })
    server = await startServer({
      cliPath: values.cli ?? join(ROOT, 'out', 'main', 'cli.js'),
      cwd: ROOT,
      token,
      // No .env: the engines must reach the local fakes, never a real service.
      args: ['--dotenv', '/dev/null', ...(values['serve-arg'] ?? [])],
      env: {
        CALLBENCH_LOG_LEVEL: 'warn',
        ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
        ...fakes.env
      }
    })
    progress(`server pid ${server.pid} at ${server.controlUrl}; ${calls} calls × ${durationS} s, mode ${mode}`)
    // Every wait in a call is bounded; this catches whatever is not (a server that stops answering).
    const watchdog = setTimeout(
      () => {
        console.error(`bench: the run did not finish in time; server output:\n${server?.outputTail() ?? ''}`)
        void stop().finally(() => process.exit(1))
      },
      durationS * 1000 + rampMs + 120_000
    )
    watchdog.unref()
    const cpuBefore = server.cpuSeconds()
    const mainCpuBefore = server.mainThreadCpuSeconds()
    const serverWaitBefore = server.runQueueWaitSeconds()
    const benchWaitBefore = procRunQueueWaitSeconds(process.pid)
    const benchCpuBefore = process.cpuUsage()
    const stealBefore = cpuStealTicks()
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
    loopDelay.enable()
    const engineProgress = fakes.progress?.bind(fakes)
    const startedAtMs = Date.now()
    const progressTimer = engineProgress
      ? setInterval(() => progress(`… ${Math.round((Date.now() - startedAtMs) / 1000)} s: ${engineProgress()}`), 10_000)
      : undefined
    progressTimer?.unref()
    const runId = `bench-${Date.now().toString(36)}`
    await warmedUp(server)
    await serverLoopDelay(server, true)
    const results = await runLoad({
      ...(fakes.simOptions ? { simOptions: fakes.simOptions } : {}),
      mediaUrl: server.mediaUrl,
      controlUrl: server.controlUrl,
      token,
      runId,
      calls,
      durationMs: durationS * 1000,
      mode,
      vad: values.vad,
      silenceMs,
      ...(earlyReplyMs !== undefined ? { earlyReplyMs } : {}),
      clips,
      bargeInEvery,
      rampMs
    })
    clearTimeout(watchdog)
    clearInterval(progressTimer)
    loopDelay.disable()
    const serverLoop = await serverLoopDelay(server, false)
    const cpuSeconds = server.cpuSeconds() - cpuBefore
    const mainThreadCpuSeconds = server.mainThreadCpuSeconds() - mainCpuBefore
    const benchCpu = process.cpuUsage(benchCpuBefore)
    const benchWait = procRunQueueWaitSeconds(process.pid) - benchWaitBefore
    const serverWait = server.runQueueWaitSeconds() - serverWaitBefore
    const peakRssBytes = server.peakRssBytes()
    const summary = summarize(
      results,
      {
        calls,
        durationS,
        mode,
        vad: values.vad ?? 'server default',
        silenceMs,
        quick,
        ...(mode === 'cascade' ? { fakeDelays, earlyReply: earlyReplyMs ?? 'server default' } : {})
      },
      {
        cpuSeconds,
        mainThreadCpuSeconds,
        peakRssBytes,
        runQueueWaitSeconds: serverWait,
        ...(serverLoop ? { eventLoopDelayMs: serverLoop } : {})
      },
      {
        cpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
        runQueueWaitSeconds: benchWait,
        ...stolenShare(stealBefore, cpuStealTicks()),
        eventLoopDelayMs: {
          p50: lateBy(loopDelay.percentile(50)),
          p99: lateBy(loopDelay.percentile(99)),
          max: lateBy(loopDelay.max)
        }
      },
      micro
    )
    const engine = fakes.figures
      ? await fakes.figures(results, { callIdOf: (i) => callIdOf(runId, i), summary })
      : undefined
    if (engine) summary.engine = engine.rows
    const resultsDir = join(ROOT, 'bench', 'results')
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(
      join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
      JSON.stringify(summary, null, 2)
    )
    console.log(values.json ? JSON.stringify(summary, null, 2) : formatTable(summary))
    const failed = [...failures(summary), ...(engine?.failures ?? [])]
    if (failed.length) {
      console.error(`bench failed: ${failed.join('; ')}`)
      if (summary.calls.failed > 0) console.error(`server output:\n${server.outputTail()}`)
      return 1
    }
    return 0
  } finally {
    await stop()
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message)
    process.exit(1)
  }
)
