// Frame counters of the loopback call (sent, received, played), refreshed 4 times a second without re-rendering.
import { useEffect, useRef } from 'react'
import { loopbackStats } from './loopback-controller.js'

const REFRESH_MS = 250

export function LoopbackStats() {
  const ref = useRef<HTMLDListElement>(null)
  useEffect(() => {
    const el = ref.current!
    const fields = {
      sent: el.querySelector<HTMLElement>('[data-field="sent"]')!,
      received: el.querySelector<HTMLElement>('[data-field="received"]')!,
      played: el.querySelector<HTMLElement>('[data-field="played"]')!,
      marks: el.querySelector<HTMLElement>('[data-field="marks"]')!
    }
    const refresh = () => {
      const s = loopbackStats()
      if (!s) return
      el.dataset.callerFrames = String(s.callerFrames)
      el.dataset.agentFrames = String(s.agentFramesReceived)
      el.dataset.agentFramesPlayed = String(s.agentFramesPlayed)
      el.dataset.marksEchoed = String(s.marksEchoed)
      fields.sent.textContent = String(s.callerFrames)
      fields.received.textContent = String(s.agentFramesReceived)
      fields.played.textContent = String(s.agentFramesPlayed)
      fields.marks.textContent = `${s.marksEchoed} / ${s.marksReceived}`
    }
    refresh()
    const timer = setInterval(refresh, REFRESH_MS)
    return () => clearInterval(timer)
  }, [])
  return (
    <dl ref={ref} className="facts facts-compact" data-testid="loopback-stats" aria-label="Loopback stream counters">
      <dt>Frames sent</dt>
      <dd data-field="sent">0</dd>
      <dt>Agent frames received</dt>
      <dd data-field="received">0</dd>
      <dt>Agent frames played</dt>
      <dd data-field="played">0</dd>
      <dt>Marks echoed</dt>
      <dd data-field="marks">0 / 0</dd>
    </dl>
  )
}
