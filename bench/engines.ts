/** The benchmark modes: the local fakes each engine needs, the environment that points the server at them, and their figures. */
import type { CallResult } from './load.js'
import type { BenchSummary, FigureRows } from './report.js'
import { startCascade } from './engines/cascade.js'
import { startElevenLabsAgent } from './engines/elevenlabs.js'
import { startHybrid } from './engines/hybrid.js'
import { startOpenAiRealtime } from './engines/openai-realtime.js'

export const BENCH_MODES = ['echo', 'openai-realtime', 'elevenlabs', 'cascade', 'hybrid'] as const
export type BenchMode = (typeof BENCH_MODES)[number]

export function isBenchMode(value: string): value is BenchMode {
  return (BENCH_MODES as readonly string[]).includes(value)
}

/** `zero`: the fakes answer at once, so what is left of a turn is ours. `realistic`: they take about as long as the services. */
export type FakeDelays = 'zero' | 'realistic'

export interface EngineOptions {
  /** End-of-turn silence the server is told to use, ms (the ElevenLabs agent fake uses it too). */
  silenceMs: number
  /** How long the cascade's fakes take to answer. Default `zero`. */
  fakeDelays?: FakeDelays
}

/** What the figures of a mode are computed from, besides the per-call results. */
export interface FigureContext {
  /** The call id the server (and so the fakes) know call `index` by. */
  callIdOf(index: number): string
  /** The engine-neutral summary of the same run. */
  summary: BenchSummary
}

export interface EngineFigures {
  rows: FigureRows
  /** Things that are wrong at any load (protocol errors, audio past a clear): the run fails. */
  failures: string[]
}

export interface EngineFakes {
  /** Environment for the `callbench serve` child (keys and base URLs of the fakes). */
  env: Record<string, string>
  close(): Promise<void>
  /** The mode's own figures, from the fakes' timestamps and the simulator's stats (all performance.now() here). */
  figures?(results: readonly CallResult[], ctx: FigureContext): Promise<EngineFigures>
  /** One line on what the fakes have seen so far, for progress during long runs. */
  progress?(): string
  /** Options every simulated call gets (e.g. a marker byte for audio that must never be heard). */
  simOptions?: { markerByte?: number }
}

export async function startEngineFakes(mode: BenchMode, opts: EngineOptions): Promise<EngineFakes> {
  switch (mode) {
    case 'echo':
      return { env: {}, close: async () => {} }
    case 'openai-realtime':
      return startOpenAiRealtime()
    case 'elevenlabs':
      return startElevenLabsAgent(opts)
    case 'cascade':
      return startCascade(opts)
    case 'hybrid':
      return startHybrid(opts)
  }
}
