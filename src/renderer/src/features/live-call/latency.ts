// Turn latency figures: median and 90th percentile, and how a turn's latency is rated for its badge.
import type { TurnMetrics } from '../../../../shared/calls.js'

export type LatencyRating = 'good' | 'fair' | 'slow'

/** Under 800 ms feels like a conversation; over 1.5 s the caller notices. */
export function rateLatency(totalMs: number): LatencyRating {
  return totalMs < 800 ? 'good' : totalMs < 1500 ? 'fair' : 'slow'
}

/** The value at fraction `q` (0–1) of the sorted values, nearest rank; undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

export function totals(turns: readonly TurnMetrics[]): number[] {
  return turns.map((t) => t.totalMs).filter((v): v is number => v !== undefined)
}

/** The parts of a turn that the engine reported, for the badge's tooltip. */
export function describeTurn(t: TurnMetrics): string {
  const parts: string[] = []
  if (t.endOfSpeechWaitMs !== undefined) parts.push(`end of speech ${Math.round(t.endOfSpeechWaitMs)} ms`)
  // The reply was prepared inside that silence: the parts below are only what was left after it.
  if (t.earlyReplyMs !== undefined) parts.push(`early reply (started ${Math.round(t.earlyReplyMs)} ms before the end)`)
  if (t.sttMs !== undefined) parts.push(`STT ${Math.round(t.sttMs)} ms`)
  if (t.llmFirstTokenMs !== undefined) parts.push(`LLM ${Math.round(t.llmFirstTokenMs)} ms`)
  if (t.ttsFirstByteMs !== undefined) parts.push(`TTS ${Math.round(t.ttsFirstByteMs)} ms`)
  if (t.bridgeMs !== undefined) parts.push(`bridge ${Math.round(t.bridgeMs)} ms`)
  return parts.join(', ')
}
