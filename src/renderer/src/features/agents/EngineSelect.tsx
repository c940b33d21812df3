// The engine an agent runs on; engines that cannot run now stay listed, disabled, with the reason.
import { AGENT_MODE_LABELS, AGENT_MODES, type AgentMode } from '../../../../shared/modes.js'
import { useAppStore } from '../../store/index.js'

export function EngineSelect({ value, onChange }: { value: AgentMode; onChange(mode: AgentMode): void }) {
  const engines = useAppStore((s) => (s.engines.state === 'ready' ? s.engines.data : null))
  const info = new Map((engines ?? []).map((e) => [e.mode, e]))
  const reason = info.get(value)?.available === false ? info.get(value)?.reason : undefined
  return (
    <fieldset className="engine-select">
      <legend>Engine</legend>
      {(engines?.map((e) => e.mode) ?? AGENT_MODES).map((mode) => {
        const e = info.get(mode)
        const disabled = e?.available === false
        return (
          <label key={mode} className={disabled ? 'engine engine-off' : 'engine'}>
            <input type="radio" name="engine" value={mode} checked={value === mode} onChange={() => onChange(mode)} />
            <span>{AGENT_MODE_LABELS[mode]}</span>
            {disabled && <span className="engine-reason">{e?.reason ?? 'not available'}</span>}
          </label>
        )
      })}
      {reason && (
        <p className="notice notice-warn" role="status">
          Calls with this engine will not start until: {reason}
        </p>
      )}
    </fieldset>
  )
}
