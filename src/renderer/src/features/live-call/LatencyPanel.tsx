// Every turn's latency (caller stopped → first agent audio out) as a badge, a running chart, median and p90.
import { useMemo } from 'react'
import type { TurnMetrics } from '../../../../shared/calls.js'
import { useAppStore } from '../../store/index.js'
import { describeTurn, quantile, rateLatency, totals } from './latency.js'
import { LatencyChart } from './LatencyChart.js'

const NONE: readonly TurnMetrics[] = []

export function LatencyPanel({ callId }: { callId: string }) {
  const turns = useAppStore((s) => s.live[callId]?.turns ?? NONE)
  const totalsMs = useMemo(() => totals(turns), [turns])
  const medianMs = quantile(totalsMs, 0.5)
  const p90Ms = quantile(totalsMs, 0.9)
  return (
    <section className="card" aria-labelledby="latency-title" data-testid="latency-panel">
      <header className="card-header">
        <h2 id="latency-title">Turn latency</h2>
        <span className="muted" data-testid="latency-summary">
          {medianMs === undefined ? 'no turns yet' : `median ${Math.round(medianMs)} ms · p90 ${Math.round(p90Ms!)} ms`}
        </span>
      </header>
      <LatencyChart totalsMs={totalsMs} medianMs={medianMs} />
      <ol className="latency-badges" aria-label="Latency per turn">
        {turns.map((t) => (
          <li
            key={t.turn}
            className={`latency-badge latency-${t.totalMs === undefined ? 'unknown' : rateLatency(t.totalMs)}`}
            title={describeTurn(t)}
            data-testid="latency-badge"
          >
            T{t.turn} {t.totalMs === undefined ? '—' : `${Math.round(t.totalMs)} ms`}
          </li>
        ))}
      </ol>
    </section>
  )
}
