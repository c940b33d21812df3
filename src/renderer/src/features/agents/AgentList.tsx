// The agents to edit: the default agent (the settings) and each saved profile.
import { AGENT_MODE_LABELS } from '../../../../shared/modes.js'
import { useAppStore } from '../../store/index.js'

export const DEFAULT_AGENT = 'default'
export const NEW_AGENT = 'new'

export function AgentList({ selected, onSelect }: { selected: string; onSelect(id: string): void }) {
  const profiles = useAppStore((s) => s.profiles)
  const defaultMode = useAppStore((s) => s.settingsView?.settings.defaultMode)
  return (
    <section className="card agent-list" aria-labelledby="agents-title">
      <header className="card-header">
        <h2 id="agents-title">Agents</h2>
        {profiles.state === 'ready' && (
          <button type="button" onClick={() => onSelect(NEW_AGENT)} data-testid="new-agent">
            New profile
          </button>
        )}
      </header>
      <ul className="agent-items" aria-label="Agents">
        <li>
          <button
            type="button"
            aria-current={selected === DEFAULT_AGENT ? 'true' : undefined}
            onClick={() => onSelect(DEFAULT_AGENT)}
          >
            <span className="agent-name">Default agent</span>
            <span className="muted">{defaultMode ? AGENT_MODE_LABELS[defaultMode] : ''}</span>
          </button>
        </li>
        {profiles.state === 'ready' &&
          profiles.data.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                aria-current={selected === p.id ? 'true' : undefined}
                onClick={() => onSelect(p.id)}
              >
                <span className="agent-name">{p.name}</span>
                <span className="muted">{AGENT_MODE_LABELS[p.mode]}</span>
              </button>
            </li>
          ))}
        {selected === NEW_AGENT && (
          <li>
            <button type="button" aria-current="true">
              <span className="agent-name">New profile</span>
            </button>
          </li>
        )}
      </ul>
      {profiles.state === 'error' && (
        <p className="notice notice-warn">Profiles are not available: {profiles.message}</p>
      )}
    </section>
  )
}
