// One time axis for the whole call: both channels' waveforms, VAD speech, turn latency bars, marks, and markers
// (barge-ins, clears, notes…) as buttons; click or arrow keys seek the recording.
import { useEffect, useMemo, useRef, type RefObject } from 'react'
import { formatOffsetMs } from '../live-call/format.js'
import { useAppStore } from '../../store/index.js'
import type { Marker, TimelineModel } from './timeline-model.js'
import { peaks, type Wav } from './wav.js'

const LANES = { caller: [0, 56], agent: [58, 56], speech: [118, 10], turns: [132, 16], ticks: [150, 14] } as const
const HEIGHT = 166
const SEEK_STEP_MS = 5000

export interface CallTimelineProps {
  model: TimelineModel
  wav: Wav | null
  audioRef: RefObject<HTMLAudioElement | null>
  onSeek(ms: number): void
}

export function CallTimeline({ model, wav, audioRef, onSeek }: CallTimelineProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const wrapRef = useRef<HTMLDivElement>(null)
  const headRef = useRef<HTMLDivElement>(null)
  const theme = useAppStore((s) => s.resolvedTheme)
  const durationMs = Math.max(model.durationMs, wav?.durationMs ?? 0)
  const buttons = useMemo(() => model.markers.filter((m) => m.kind !== 'mark'), [model])

  useEffect(() => {
    const canvas = canvasRef.current!
    const draw = () => {
      const dpr = window.devicePixelRatio || 1
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr))
      canvas.width = w
      canvas.height = HEIGHT * dpr
      const ctx = canvas.getContext('2d')
      if (!ctx) return
      const style = getComputedStyle(canvas)
      const colour = (n: string) => style.getPropertyValue(n).trim()
      ctx.scale(dpr, dpr)
      const cssW = w / dpr
      const x = (ms: number) => (ms / durationMs) * cssW
      ctx.clearRect(0, 0, cssW, HEIGHT)
      const wave = (samples: Float32Array | undefined, [top, h]: readonly [number, number], c: string) => {
        ctx.fillStyle = colour('--surface-2')
        ctx.fillRect(0, top, cssW, h)
        if (!samples || !wav) return
        const span = (wav.durationMs / durationMs) * cssW
        const cols = Math.max(1, Math.round(span))
        const p = peaks(samples, cols)
        ctx.fillStyle = c
        const mid = top + h / 2
        for (let i = 0; i < cols; i++) {
          const y1 = mid - p.max[i]! * (h / 2)
          const y2 = mid - p.min[i]! * (h / 2)
          ctx.fillRect(i, y1, 1, Math.max(1, y2 - y1))
        }
      }
      wave(wav?.samples[0], LANES.caller, colour('--wave-caller'))
      wave(wav?.samples[1], LANES.agent, colour('--wave-agent'))
      ctx.fillStyle = colour('--wave-caller')
      for (const s of model.speech)
        ctx.fillRect(x(s.fromMs), LANES.speech[0], Math.max(1, x(s.toMs) - x(s.fromMs)), LANES.speech[1])
      ctx.font = `11px ${colour('--mono') || 'monospace'}`
      for (const t of model.turns) {
        const from = x(t.fromMs)
        const width = Math.max(2, x(t.toMs) - from)
        ctx.fillStyle = colour('--latency-fair')
        ctx.fillRect(from, LANES.turns[0], width, LANES.turns[1])
        if (t.label) {
          ctx.fillStyle = colour('--text')
          ctx.fillText(t.label, from + width + 3, LANES.turns[0] + 12)
        }
      }
      ctx.fillStyle = colour('--muted')
      for (const m of model.markers)
        if (m.kind === 'mark') ctx.fillRect(x(m.atMs), LANES.agent[0] + LANES.agent[1] - 6, 1, 6)
      const stepMs = tickStep(durationMs, cssW)
      for (let ms = 0; ms <= durationMs; ms += stepMs) {
        ctx.fillRect(x(ms), LANES.ticks[0], 1, 4)
        ctx.fillText(formatOffsetMs(ms).replace(/\.\d$/, ''), x(ms) + 2, LANES.ticks[0] + 12)
      }
    }
    draw()
    const observer = new ResizeObserver(draw)
    observer.observe(canvas)
    return () => observer.disconnect()
  }, [model, wav, durationMs, theme])

  // The playhead moves by style only, never through React.
  useEffect(() => {
    let frame = 0
    const tick = () => {
      const audio = audioRef.current
      const head = headRef.current
      const wrap = wrapRef.current
      if (audio && head && wrap) {
        const ms = audio.currentTime * 1000
        head.style.transform = `translateX(${(ms / durationMs) * wrap.clientWidth}px)`
        wrap.setAttribute('aria-valuenow', String(Math.round(ms / 1000)))
        wrap.setAttribute('aria-valuetext', formatOffsetMs(ms))
      }
      frame = requestAnimationFrame(tick)
    }
    frame = requestAnimationFrame(tick)
    return () => cancelAnimationFrame(frame)
  }, [audioRef, durationMs])

  const seekAt = (clientX: number) => {
    const rect = wrapRef.current!.getBoundingClientRect()
    onSeek(Math.max(0, Math.min(durationMs, ((clientX - rect.left) / rect.width) * durationMs)))
  }

  return (
    <div className="timeline">
      <div className="timeline-legend" aria-hidden="true">
        <span style={{ top: LANES.caller[0] }}>Caller</span>
        <span style={{ top: LANES.agent[0] }}>Agent</span>
        <span style={{ top: LANES.speech[0] - 3 }}>VAD</span>
        <span style={{ top: LANES.turns[0] }}>Turns</span>
      </div>
      <div
        ref={wrapRef}
        className="timeline-track"
        role="slider"
        tabIndex={0}
        aria-label="Call timeline: seek the recording"
        aria-valuemin={0}
        aria-valuemax={Math.round(durationMs / 1000)}
        aria-valuenow={0}
        onClick={(e) => seekAt(e.clientX)}
        onKeyDown={(e) => {
          const now = (audioRef.current?.currentTime ?? 0) * 1000
          if (e.key === 'ArrowRight') onSeek(Math.min(durationMs, now + SEEK_STEP_MS))
          else if (e.key === 'ArrowLeft') onSeek(Math.max(0, now - SEEK_STEP_MS))
          else if (e.key === 'Home') onSeek(0)
          else return
          e.preventDefault()
        }}
        data-testid="call-timeline"
      >
        <canvas ref={canvasRef} className="timeline-canvas" style={{ height: HEIGHT }} />
        <div ref={headRef} className="timeline-head" aria-hidden="true" />
        <div className="timeline-markers">
          {buttons.map((m, i) => (
            <MarkerButton key={i} marker={m} left={`${(m.atMs / durationMs) * 100}%`} onSeek={onSeek} />
          ))}
        </div>
      </div>
    </div>
  )
}

function MarkerButton({ marker, left, onSeek }: { marker: Marker; left: string; onSeek(ms: number): void }) {
  return (
    <button
      type="button"
      className={`tm tm-${marker.kind}`}
      style={{ left }}
      title={`${formatOffsetMs(marker.atMs)} ${marker.label}`}
      aria-label={`${marker.label} at ${formatOffsetMs(marker.atMs)}`}
      data-kind={marker.kind}
      onClick={(e) => {
        e.stopPropagation()
        onSeek(marker.atMs)
      }}
    />
  )
}

/** A tick spacing in ms that leaves at least ~70 px between labels. */
function tickStep(durationMs: number, widthPx: number): number {
  const steps = [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000]
  const minMs = (70 / Math.max(1, widthPx)) * durationMs
  return steps.find((s) => s >= minMs) ?? 1_800_000
}
