// One side's audio level on a canvas (RMS bar, peak hold), fed by call.levels through a transient store subscription.
import { useLayoutEffect, useRef } from 'react'
import type { Levels } from '../../../../shared/events.js'
import { appStore, useAppStore } from '../../store/index.js'
import { MeterBallistics, METER_FLOOR_DBFS } from './meter-ballistics.js'

export type MeterSide = 'caller' | 'agent'

const LABELS: Record<MeterSide, string> = { caller: 'Caller level', agent: 'Agent level' }
/** The canvas shows -60…0 dBFS; the value (aria) keeps the full -100…0 range. */
const DISPLAY_FLOOR_DBFS = -60

function pick(levels: Levels, side: MeterSide): [rms: number, peak: number] {
  return side === 'caller' ? [levels.callerRmsDbfs, levels.callerPeakDbfs] : [levels.agentRmsDbfs, levels.agentPeakDbfs]
}

export function LevelMeter({ callId, side }: { callId: string; side: MeterSide }) {
  const meterRef = useRef<HTMLDivElement>(null)
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const valueRef = useRef<HTMLSpanElement>(null)
  // Only the theme re-renders a meter (its colours); levels never do.
  const theme = useAppStore((s) => s.resolvedTheme)

  useLayoutEffect(() => {
    const meter = meterRef.current!
    const canvas = canvasRef.current!
    const value = valueRef.current!
    const ballistics = new MeterBallistics()
    const style = getComputedStyle(canvas)
    const colours = {
      track: style.getPropertyValue('--meter-track').trim() || '#ddd',
      low: style.getPropertyValue('--meter-low').trim() || '#2a9d5b',
      mid: style.getPropertyValue('--meter-mid').trim() || '#d79a1e',
      high: style.getPropertyValue('--meter-high').trim() || '#d0343a',
      hold: style.getPropertyValue('--meter-hold').trim() || '#333'
    }
    let shownDbfs = Number.NaN

    const apply = (levels: Levels | undefined) => {
      if (!levels) return
      const [rms, peak] = pick(levels, side)
      ballistics.update(rms, peak, performance.now())
      const rounded = Math.round(Math.max(METER_FLOOR_DBFS, rms) * 10) / 10
      if (rounded !== shownDbfs) {
        shownDbfs = rounded
        meter.setAttribute('aria-valuenow', String(rounded))
        meter.setAttribute('aria-valuetext', `${rounded.toFixed(0)} dBFS`)
        value.textContent = rounded <= METER_FLOOR_DBFS ? '−∞' : rounded.toFixed(0)
      }
    }

    const draw = () => {
      const dpr = window.devicePixelRatio || 1
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr))
      const h = Math.max(1, Math.round(canvas.clientHeight * dpr))
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w
        canvas.height = h
      }
      const ctx = canvas.getContext('2d')
      if (!ctx) return
      const x = (dbfs: number) => (Math.min(0, Math.max(DISPLAY_FLOOR_DBFS, dbfs)) / -DISPLAY_FLOOR_DBFS + 1) * w
      ctx.fillStyle = colours.track
      ctx.fillRect(0, 0, w, h)
      const bar = x(ballistics.barDbfs)
      const midStart = x(-18)
      const highStart = x(-6)
      ctx.fillStyle = colours.low
      ctx.fillRect(0, 0, Math.min(bar, midStart), h)
      if (bar > midStart) {
        ctx.fillStyle = colours.mid
        ctx.fillRect(midStart, 0, Math.min(bar, highStart) - midStart, h)
      }
      if (bar > highStart) {
        ctx.fillStyle = colours.high
        ctx.fillRect(highStart, 0, bar - highStart, h)
      }
      if (ballistics.holdDbfs > DISPLAY_FLOOR_DBFS) {
        ctx.fillStyle = colours.hold
        ctx.fillRect(Math.max(0, x(ballistics.holdDbfs) - 2 * dpr), 0, 2 * dpr, h)
      }
    }

    apply(appStore.getState().levels[callId])
    if (!meter.hasAttribute('aria-valuenow')) meter.setAttribute('aria-valuenow', String(METER_FLOOR_DBFS))
    const unsubscribe = appStore.subscribe((s, prev) => {
      const levels = s.levels[callId]
      if (levels !== prev.levels[callId]) apply(levels)
    })
    let frame = 0
    let first = true
    const loop = (nowMs: number) => {
      if (ballistics.tick(nowMs) || first) draw()
      first = false
      frame = requestAnimationFrame(loop)
    }
    frame = requestAnimationFrame(loop)
    return () => {
      unsubscribe()
      cancelAnimationFrame(frame)
    }
  }, [callId, side, theme])

  return (
    <div
      ref={meterRef}
      className={`meter meter-${side}`}
      role="meter"
      aria-label={LABELS[side]}
      aria-valuemin={METER_FLOOR_DBFS}
      aria-valuemax={0}
      data-testid={`meter-${side}`}
    >
      <span className="meter-name" aria-hidden="true">
        {side === 'caller' ? 'Caller' : 'Agent'}
      </span>
      <canvas ref={canvasRef} className="meter-canvas" aria-hidden="true" />
      <span ref={valueRef} className="meter-value" aria-hidden="true">
        −∞
      </span>
    </div>
  )
}
