// Answering-machine policy for outbound calls: detect, then go on, hang up, or leave a message after the beep.
import type { AmdPolicy } from '../../../../shared/profiles.js'
import { Slider } from '../../components/Slider.js'

export function AmdFields({ value, onChange }: { value: AmdPolicy; onChange(v: AmdPolicy): void }) {
  const set = (patch: Partial<AmdPolicy>) => onChange({ ...value, ...patch })
  return (
    <div className="amd-fields">
      <label className="check">
        <input type="checkbox" checked={value.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Detect
        answering machines on outbound calls
      </label>
      {value.enabled && (
        <>
          <label className="field">
            <span>When a machine answers</span>
            <select
              value={value.onMachine}
              onChange={(e) => set({ onMachine: e.target.value as AmdPolicy['onMachine'] })}
            >
              <option value="continue">Go on with the agent</option>
              <option value="hangup">Hang up</option>
              <option value="leave_message">Leave a message after the beep</option>
            </select>
          </label>
          {value.onMachine === 'leave_message' && (
            <label className="field">
              <span>Message</span>
              <textarea
                rows={2}
                value={value.message}
                onChange={(e) => set({ message: e.target.value })}
                maxLength={2000}
              />
            </label>
          )}
          <Slider
            label="Detection timeout"
            value={value.timeoutS}
            min={3}
            max={59}
            step={1}
            onChange={(timeoutS) => set({ timeoutS })}
            format={(v) => `${v} s`}
          />
        </>
      )}
    </div>
  )
}
