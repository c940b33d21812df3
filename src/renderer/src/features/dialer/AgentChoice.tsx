// Which agent answers: a saved profile, or an engine (engines that cannot run now are shown disabled, with why).
import { useShallow } from 'zustand/react/shallow'
import { AGENT_MODE_LABELS, AGENT_MODES, type AgentMode } from '../../../../shared/modes.js'
import { appStore, useAppStore } from '../../store/index.js'

export function AgentChoice() {
  const { profileId, mode } = useAppStore(useShallow((s) => ({ profileId: s.callProfileId, mode: s.callMode })))
  const profiles = useAppStore((s) => (s.profiles.state === 'ready' ? s.profiles.data : null))
  const engines = useAppStore((s) => (s.engines.state === 'ready' ? s.engines.data : null))
  const defaultMode = useAppStore((s) => s.settingsView?.settings.defaultMode)
  const unavailable = new Map(
    (engines ?? []).filter((e) => !e.available).map((e) => [e.mode, e.reason ?? 'not available'])
  )
  const chosenReason = mode ? unavailable.get(mode) : undefined
  return (
    <div className="agent-choice">
      {profiles && profiles.length > 0 && (
        <label className="field">
          <span>Profile</span>
          <select
            value={profileId}
            onChange={(e) => appStore.getState().setCallProfile(e.target.value)}
            data-testid="call-profile"
          >
            <option value="">No profile</option>
            {profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({AGENT_MODE_LABELS[p.mode]})
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="field">
        <span>Engine</span>
        <select
          value={profileId ? '' : mode}
          disabled={Boolean(profileId)}
          onChange={(e) => appStore.getState().setCallMode(e.target.value as AgentMode | '')}
          data-testid="call-engine"
          aria-describedby={chosenReason ? 'engine-reason' : undefined}
        >
          <option value="">
            {profileId ? 'The profile’s' : `Default${defaultMode ? ` (${AGENT_MODE_LABELS[defaultMode]})` : ''}`}
          </option>
          {(engines?.map((e) => e.mode) ?? AGENT_MODES).map((m) => (
            <option key={m} value={m} disabled={unavailable.has(m)}>
              {AGENT_MODE_LABELS[m]}
              {unavailable.has(m) ? ` — ${unavailable.get(m)}` : ''}
            </option>
          ))}
        </select>
      </label>
      {chosenReason && (
        <p id="engine-reason" className="notice notice-warn">
          {chosenReason}
        </p>
      )}
    </div>
  )
}
