// The three ways to call the agent: a phone call through Twilio, a call from this app, or loopback.
import { appStore, useAppStore } from '../../store/index.js'
import type { CallWay } from '../../store/dialer-slice.js'

const WAYS: readonly { way: CallWay; label: string }[] = [
  { way: 'phone', label: 'Phone call' },
  { way: 'app', label: 'From this app' },
  { way: 'loopback', label: 'Loopback' }
]

export function CallWayPicker() {
  const current = useAppStore((s) => s.callWay)
  return (
    <div className="segmented" role="radiogroup" aria-label="How to call">
      {WAYS.map(({ way, label }) => (
        <label key={way} className={current === way ? 'seg seg-on' : 'seg'}>
          <input
            type="radio"
            name="call-way"
            value={way}
            checked={current === way}
            onChange={() => appStore.getState().setCallWay(way)}
          />
          {label}
        </label>
      ))}
    </div>
  )
}
