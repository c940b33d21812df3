// Agents: the default agent (settings) and saved profiles, each with its engine, prompt, voice and turn-taking.
import { useState } from 'react'
import { useAppStore } from '../../store/index.js'
import { AgentEditor } from './AgentEditor.js'
import { AgentList, DEFAULT_AGENT, NEW_AGENT } from './AgentList.js'

export function AgentsView() {
  const [selected, setSelected] = useState(DEFAULT_AGENT)
  // A new profile's editor reopens under its id once saved; this carries the confirmation across.
  const [notice, setNotice] = useState<{ id: string; text: string } | null>(null)
  const settings = useAppStore((s) => s.settingsView?.settings ?? null)
  const profile = useAppStore((s) =>
    s.profiles.state === 'ready' ? (s.profiles.data.find((p) => p.id === selected) ?? null) : null
  )
  return (
    <div className="agents-view">
      <AgentList
        selected={selected}
        onSelect={(id) => {
          setNotice(null)
          setSelected(id)
        }}
      />
      {settings ? (
        <AgentEditor
          key={selected}
          settings={settings}
          profile={profile}
          isDefault={selected === DEFAULT_AGENT}
          notice={notice?.id === selected ? notice.text : undefined}
          onSaved={(id) => {
            if (id !== selected) setNotice({ id, text: 'Saved. The next call uses it.' })
            setSelected(id)
          }}
          onDeleted={() => setSelected(DEFAULT_AGENT)}
        />
      ) : (
        <p className="muted">Loading…</p>
      )}
      {selected !== DEFAULT_AGENT && selected !== NEW_AGENT && !profile && (
        <p className="muted">This profile is gone.</p>
      )}
    </div>
  )
}
