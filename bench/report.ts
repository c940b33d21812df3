/** Turns per-call simulator and server figures into the benchmark summary, as a table or JSON. */
import type { CallResult } from './load.js'

export interface Distribution {
  n: number
  p50: number | undefined
  p95: number | undefined
  p99: number | undefined
  max: number | undefined
}

export interface ProcessLoad {
  cpuSeconds: number
  /** Runnable but waiting for a CPU, seconds. */
  runQueueWaitSeconds: number
}

/** An engine's own figure: a distribution (ms), a count, or a note (a list of times, say). */
export type FigureValue = Distribution | number | string

/** An engine's own figures by name, in the order they are printed (bench/engines/*.ts). */
export type FigureRows = Record<string, FigureValue>

export interface BenchSummary {
  config: {
    calls: number
    durationS: number
    mode: string
    vad: string
    silenceMs: number
    quick: boolean
    /** The cascade fakes' delays (`--fake-delays`). */
    fakeDelays?: string
    /** The cascade's early reply (`--early-reply`), ms or 'server default'. */
    earlyReply?: number | string
  }
  calls: { requested: number; completed: number; failed: number; errors: string[] }
  turns: {
    utterances: number
    answered: number
    unanswered: number
    /** Caller speech end (as sent) → first agent frame received, minus the configured end-of-turn silence, ms. */
    latencyMs: Distribution
    /**
     * Anchored on the server's own VAD decision instead of the fixture's measured speech end: the caller frame
     * that completed the configured silence after the VAD's last speech window went out → first agent frame.
     */
    afterSilenceWindowMs: Distribution
    /** The same from the frame that completed the VAD window on which end of turn was decided (32 ms for Silero). */
    afterDecisionMs: Distribution
    /** The server's own figure: caller stopped (VAD) → first agent frame out, ms (includes the silence window). */
    serverTotalMs: Distribution
    /** The server's end-of-speech wait (VAD decision after the last speech), ms. */
    serverEndOfSpeechWaitMs: Distribution
  }
  bargeIn: {
    attempts: number
    cleared: number
    missed: number
    /** Caller speech onset (as sent, over agent audio) → `clear` received, ms. */
    latencyMs: Distribution
  }
  frames: {
    /** Caller side: what the simulator sent and how late it was against its own schedule. */
    callerSent: number
    callerLate: number
    callerLatenessMs: Distribution
    /** Server side: caller frames the server saw missing (chunk gaps). */
    callerLostAtServer: number
    /** Server side: agent frames the server says it sent that never reached the caller. */
    agentSent: number
    agentMissing: number
    /** Agent audio ran dry inside a reply and resumed shortly after. */
    playbackUnderruns: number
    /** Frames received after a clear that belonged to the cleared reply. */
    staleAfterClear: number
    protocolErrorsAtServer: number
  }
  /** The benchmark process itself (simulated calls and the engine fakes); if it is busy, its lateness grows. */
  bench: ProcessLoad & {
    /** Event-loop delay of the benchmark process, ms: how late the simulator and the fakes ran. */
    eventLoopDelayMs?: { p50: number; p99: number; max: number }
    /** Share of the machine's CPU time the hypervisor gave to other guests during the run (/proc/stat steal). */
    stolenCpuShare?: number
  }
  server: {
    cpuSeconds: number
    /**
     * Of `cpuSeconds`, the main thread's (the event loop, where the media path runs); the rest is GC helpers, file
     * writes, VAD inference.
     */
    mainThreadCpuSeconds?: number
    /**
     * Server CPU ÷ the bench process's CPU. The bench process's work is the same in every run of a configuration, so
     * this compares builds more steadily than `cpuSeconds` on a machine whose speed moves (steal, other guests).
     */
    cpuPerBenchCpu?: number
    /** Time the server's threads were runnable but waited for a CPU (other load on the machine), seconds. */
    runQueueWaitSeconds: number
    callMinutes: number
    cpuSecondsPerCallMinute: number | undefined
    peakRssMb: number | undefined
    /** How late the server's event loop ran while the calls were up (its /api/health). */
    eventLoopDelayMs?: { p50: number; p99: number; max: number }
  }
  micro: Record<string, unknown>
  /** The mode's own figures, from the fakes' timestamps (absent in echo mode). */
  engine?: FigureRows
}

export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { n: 0, p50: undefined, p95: undefined, p99: undefined, max: undefined }
  const sorted = Float64Array.from(values).sort()
  // Nearest rank.
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1]! }
}

export function summarize(
  results: readonly CallResult[],
  config: BenchSummary['config'],
  server: ProcessLoad & {
    mainThreadCpuSeconds?: number
    peakRssBytes: number | undefined
    eventLoopDelayMs?: { p50: number; p99: number; max: number }
  },
  bench: BenchSummary['bench'],
  micro: Record<string, unknown>
): BenchSummary {
  const turnLatency: number[] = []
  const afterSilence: number[] = []
  const afterDecision: number[] = []
  const serverTotal: number[] = []
  const serverWait: number[] = []
  const bargeLatency: number[] = []
  const lateness: number[] = []
  let utterances = 0
  let unanswered = 0
  let bargeAttempts = 0
  let bargeMissed = 0
  let callerSent = 0
  let callerLate = 0
  let callerLostAtServer = 0
  let agentSent = 0
  let agentMissing = 0
  let underruns = 0
  let stale = 0
  let protocolErrors = 0
  let callMs = 0
  const errors: string[] = []
  for (const r of results) {
    const s = r.sim
    if (r.error) errors.push(`call ${r.index}: ${r.error}`)
    if (s.connectedAtMs !== undefined) callMs += (s.closedAtMs ?? s.connectedAtMs) - s.connectedAtMs
    callerSent += s.framesSent
    callerLate += s.framesLate
    for (const v of s.lateness) lateness.push(v)
    underruns += s.underruns
    for (const g of s.generations) stale += g.staleFrames
    for (const sp of s.speech) {
      if (sp.offsetSentAtMs === undefined) continue
      utterances++
      if (sp.firstAgentMediaAtMs === undefined) unanswered++
      else turnLatency.push(sp.firstAgentMediaAtMs - sp.offsetSentAtMs - config.silenceMs)
      if (sp.agentPlayingAtOnset && sp.onsetSentAtMs !== undefined) {
        bargeAttempts++
        // A clear after the utterance ended answers something else, not this barge-in.
        if (sp.clearAtMs === undefined || sp.clearAtMs > sp.offsetSentAtMs) bargeMissed++
        else bargeLatency.push(sp.clearAtMs - sp.onsetSentAtMs)
      }
    }
    // The frame covering stream time t is frame ceil(t/20)−1; it left at its due time plus its lateness.
    const sentAt = (streamMs: number): number | undefined => {
      const k = Math.ceil(streamMs / 20) - 1
      return k >= 0 && k < s.lateness.length ? s.startAtMs + 20 * k + s.lateness[k]! : undefined
    }
    const firstReplyAfter = (t: number): number | undefined => {
      let best: number | undefined
      for (const sp of s.speech) {
        if (
          sp.offsetSentAtMs !== undefined &&
          sp.offsetSentAtMs <= t &&
          sp.firstAgentMediaAtMs !== undefined &&
          sp.firstAgentMediaAtMs >= t
        ) {
          best = sp.firstAgentMediaAtMs
        }
      }
      return best
    }
    for (const d of r.serverDecisions ?? []) {
      const silenceAt = sentAt(d.lastSpeechMs + config.silenceMs)
      const decidedAt = sentAt(d.decidedAtMs)
      const reply = decidedAt === undefined ? undefined : firstReplyAfter(decidedAt)
      if (reply === undefined || silenceAt === undefined || decidedAt === undefined) continue
      afterSilence.push(reply - silenceAt)
      afterDecision.push(reply - decidedAt)
    }
    for (const t of r.serverTurns) {
      if (t.totalMs !== undefined) serverTotal.push(t.totalMs)
      if (t.endOfSpeechWaitMs !== undefined) serverWait.push(t.endOfSpeechWaitMs)
    }
    if (r.server) {
      callerLostAtServer += r.server.framesLost
      agentSent += r.server.framesOut
      agentMissing += Math.max(0, r.server.framesOut - s.mediaFramesReceived)
      protocolErrors += r.server.protocolErrors
    }
  }
  const callMinutes = callMs / 60_000
  return {
    config,
    calls: {
      requested: config.calls,
      completed: results.filter((r) => !r.error).length,
      failed: errors.length,
      errors: errors.slice(0, 10)
    },
    turns: {
      utterances,
      answered: utterances - unanswered,
      unanswered,
      latencyMs: distribution(turnLatency),
      afterSilenceWindowMs: distribution(afterSilence),
      afterDecisionMs: distribution(afterDecision),
      serverTotalMs: distribution(serverTotal),
      serverEndOfSpeechWaitMs: distribution(serverWait)
    },
    bargeIn: {
      attempts: bargeAttempts,
      cleared: bargeAttempts - bargeMissed,
      missed: bargeMissed,
      latencyMs: distribution(bargeLatency)
    },
    frames: {
      callerSent,
      callerLate,
      callerLatenessMs: distribution(lateness),
      callerLostAtServer,
      agentSent,
      agentMissing,
      playbackUnderruns: underruns,
      staleAfterClear: stale,
      protocolErrorsAtServer: protocolErrors
    },
    bench,
    server: {
      cpuSeconds: server.cpuSeconds,
      ...(server.mainThreadCpuSeconds !== undefined ? { mainThreadCpuSeconds: server.mainThreadCpuSeconds } : {}),
      ...(bench.cpuSeconds > 0 ? { cpuPerBenchCpu: server.cpuSeconds / bench.cpuSeconds } : {}),
      runQueueWaitSeconds: server.runQueueWaitSeconds,
      callMinutes,
      cpuSecondsPerCallMinute: callMinutes > 0 ? server.cpuSeconds / callMinutes : undefined,
      peakRssMb: server.peakRssBytes === undefined ? undefined : server.peakRssBytes / (1024 * 1024),
      ...(server.eventLoopDelayMs ? { eventLoopDelayMs: server.eventLoopDelayMs } : {})
    },
    micro
  }
}

function ms(v: number | undefined, digits = 1): string {
  return v === undefined ? '–' : v.toFixed(digits)
}

function dist(d: Distribution, parts: Array<'p50' | 'p95' | 'p99' | 'max'>, digits = 1): string {
  return `${parts.map((p) => `${p} ${ms(d[p], digits)}`).join('  ')}  (n=${d.n})`
}

function figure(v: FigureValue): string {
  // Engine figures are often below a millisecond: two decimals.
  if (typeof v === 'string') return v || '–'
  if (typeof v !== 'number') return dist(v, ['p50', 'p99', 'max'], 2)
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}

/** `a=1.23 b.c=4.56` from a nested result object, numbers to 3 significant digits. */
function flat(value: unknown, prefix = ''): string {
  if (typeof value === 'number') return `${prefix}${Number.isInteger(value) ? value : Number(value.toPrecision(3))}`
  if (typeof value !== 'object' || value === null) return `${prefix}${String(value)}`
  return Object.entries(value)
    .map(([k, v]) => (typeof v === 'object' && v !== null ? flat(v, `${prefix}${k}.`) : `${prefix}${k}=${flat(v)}`))
    .join(' ')
}

export function formatTable(s: BenchSummary): string {
  const rows: Array<[string, string]> = [
    [
      'config',
      `${s.config.calls} calls × ${s.config.durationS} s, mode ${s.config.mode}, vad ${s.config.vad}, silence ${s.config.silenceMs} ms` +
        (s.config.fakeDelays ? `, fake delays ${s.config.fakeDelays}` : '') +
        (s.config.earlyReply !== undefined
          ? `, early reply ${typeof s.config.earlyReply === 'number' ? (s.config.earlyReply ? `${s.config.earlyReply} ms` : 'off') : s.config.earlyReply}`
          : '')
    ],
    ['calls', `${s.calls.completed} completed, ${s.calls.failed} failed`],
    ['turns', `${s.turns.answered}/${s.turns.utterances} answered`],
    ['turn latency ms (− silence)', dist(s.turns.latencyMs, ['p50', 'p95', 'p99'])],
    ['  overhead after silence window', dist(s.turns.afterSilenceWindowMs, ['p50', 'p95', 'p99'])],
    ['  overhead after VAD decision', dist(s.turns.afterDecisionMs, ['p50', 'p95', 'p99'])],
    ['  server: stopped → first out', dist(s.turns.serverTotalMs, ['p50', 'p95', 'p99'])],
    ['  server: end-of-speech wait', dist(s.turns.serverEndOfSpeechWaitMs, ['p50', 'p95', 'p99'])],
    ['barge-ins', `${s.bargeIn.cleared}/${s.bargeIn.attempts} cleared, ${s.bargeIn.missed} missed`],
    ['barge-in latency ms', dist(s.bargeIn.latencyMs, ['p50', 'p99'])],
    [
      'agent frames missing (server)',
      `${s.frames.agentMissing} of ${s.frames.agentSent}; underruns ${s.frames.playbackUnderruns}; stale after clear ${s.frames.staleAfterClear}`
    ],
    [
      'caller frames lost at server',
      `${s.frames.callerLostAtServer}; protocol errors ${s.frames.protocolErrorsAtServer}`
    ],
    ['caller frames late (simulator)', `${s.frames.callerLate} of ${s.frames.callerSent} > 20 ms late`],
    ['simulator lateness ms', dist(s.frames.callerLatenessMs, ['p50', 'p99', 'max'])],
    [
      'server CPU',
      `${s.server.cpuSeconds.toFixed(2)} s over ${s.server.callMinutes.toFixed(2)} call-min = ${s.server.cpuSecondsPerCallMinute === undefined ? '–' : s.server.cpuSecondsPerCallMinute.toFixed(3)} s/call-min`
    ],
    [
      '  by thread',
      s.server.mainThreadCpuSeconds === undefined
        ? '–'
        : `main ${s.server.mainThreadCpuSeconds.toFixed(2)} s, others ${(s.server.cpuSeconds - s.server.mainThreadCpuSeconds).toFixed(2)} s (GC helpers, file writes, VAD inference)`
    ],
    [
      '  ÷ bench process CPU',
      s.server.cpuPerBenchCpu === undefined
        ? '–'
        : `${s.server.cpuPerBenchCpu.toFixed(3)} (the bench process's work is fixed: compare builds by this, same-moment runs)`
    ],
    ['server waited for a CPU', `${s.server.runQueueWaitSeconds.toFixed(2)} s (other load on the machine)`],
    [
      'CPU stolen by the hypervisor',
      s.bench.stolenCpuShare === undefined
        ? '–'
        : `${(100 * s.bench.stolenCpuShare).toFixed(1)} % of the machine's CPU time (other guests; tails grow with it)`
    ],
    ['server peak RSS', s.server.peakRssMb === undefined ? '–' : `${s.server.peakRssMb.toFixed(1)} MB`],
    [
      'server event-loop delay',
      s.server.eventLoopDelayMs
        ? `p50 ${s.server.eventLoopDelayMs.p50.toFixed(1)}  p99 ${s.server.eventLoopDelayMs.p99.toFixed(1)}  max ${s.server.eventLoopDelayMs.max.toFixed(1)} ms`
        : '–'
    ],
    [
      'bench process',
      `CPU ${s.bench.cpuSeconds.toFixed(2)} s, waited for a CPU ${s.bench.runQueueWaitSeconds.toFixed(2)} s` +
        (s.bench.eventLoopDelayMs
          ? `, event-loop delay p50 ${s.bench.eventLoopDelayMs.p50.toFixed(1)} p99 ${s.bench.eventLoopDelayMs.p99.toFixed(1)} max ${s.bench.eventLoopDelayMs.max.toFixed(1)} ms`
          : '')
    ]
  ]
  if (s.engine) {
    rows.push([`${s.config.mode} (fakes)`, ''])
    for (const [name, value] of Object.entries(s.engine)) rows.push([`  ${name}`, figure(value)])
  }
  for (const [name, value] of Object.entries(s.micro)) rows.push([`micro: ${name}`, flat(value)])
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)
  if (s.calls.errors.length) lines.push('', 'errors:', ...s.calls.errors.map((e) => `  ${e}`))
  return lines.join('\n')
}
