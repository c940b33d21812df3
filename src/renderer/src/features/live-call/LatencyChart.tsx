// A small bar chart of each turn's latency (canvas), redrawn when a turn arrives.
import { useEffect, useRef } from 'react'
import { useAppStore } from '../../store/index.js'
import { rateLatency } from './latency.js'

/** Bars shown; older turns scroll off to the left. */
const MAX_BARS = 40

export function LatencyChart({ totalsMs, medianMs }: { totalsMs: readonly number[]; medianMs: number | undefined }) {
  const ref = useRef<HTMLCanvasElement>(null)
  const theme = useAppStore((s) => s.resolvedTheme)
  useEffect(() => {
    const canvas = ref.current!
    const dpr = window.devicePixelRatio || 1
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr))
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr))
    canvas.width = w
    canvas.height = h
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    const style = getComputedStyle(canvas)
    const colour = (name: string) => style.getPropertyValue(name).trim()
    ctx.clearRect(0, 0, w, h)
    const shown = totalsMs.slice(-MAX_BARS)
    if (shown.length === 0) return
    const ceilingMs = Math.max(2000, ...shown) * 1.1
    const slot = w / MAX_BARS
    const barW = Math.max(2 * dpr, slot * 0.7)
    shown.forEach((ms, i) => {
      const barH = (ms / ceilingMs) * h
      ctx.fillStyle = colour(`--latency-${rateLatency(ms)}`)
      ctx.fillRect(i * slot + (slot - barW) / 2, h - barH, barW, barH)
    })
    if (medianMs !== undefined) {
      const y = h - (medianMs / ceilingMs) * h
      ctx.fillStyle = colour('--muted')
      ctx.fillRect(0, Math.round(y), w, Math.max(1, dpr))
    }
  }, [totalsMs, medianMs, theme])
  return (
    <canvas
      ref={ref}
      className="latency-chart"
      role="img"
      aria-label={`Turn latency chart: ${totalsMs.length} turns${medianMs === undefined ? '' : `, median ${Math.round(medianMs)} ms`}`}
      data-testid="latency-chart"
    />
  )
}
