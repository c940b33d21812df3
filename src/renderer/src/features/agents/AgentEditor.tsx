// Edits one agent: a profile (saved through /api/profiles) or the default agent (saved into the settings).
import { useState, type ReactNode } from 'react'
import type { Profile } from '../../../../shared/profiles.js'
import type { Settings } from '../../../../shared/settings.js'
import { loadProfiles, saveSettings } from '../../api/load.js'
import { useConsole } from '../../console-context.js'
import { appStore } from '../../store/index.js'
import { AmdFields } from './AmdFields.js'
import { EngineSelect } from './EngineSelect.js'
import {
  draftFrom,
  OPENAI_VOICES,
  profileInputFrom,
  sectionsFor,
  settingsUpdateFrom,
  type AgentDraft
} from './profile-form.js'
import { RealtimeTurnFields, VadFields } from './TurnTakingFields.js'
import { VoicePicker } from './VoicePicker.js'
import { VoiceSliders } from './VoiceSliders.js'

const SAVED = 'Saved. The next call uses it.'

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="editor-section">
      <legend>{title}</legend>
      {children}
    </fieldset>
  )
}

export interface AgentEditorProps {
  settings: Settings
  /** The profile edited; null for a new one or for the default agent. */
  profile: Profile | null
  isDefault: boolean
  /** A message to show on opening (e.g. "Saved" after a new profile got its id). */
  notice?: string | undefined
  onSaved(id: string): void
  onDeleted(): void
}

export function AgentEditor({ settings, profile, isDefault, notice, onSaved, onDeleted }: AgentEditorProps) {
  const { api } = useConsole()
  const [draft, setDraft] = useState<AgentDraft>(() => ({
    ...draftFrom(settings, profile),
    ...(profile || isDefault ? {} : { name: '' })
  }))
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; message: string } | null>(
    notice ? { kind: 'ok', message: notice } : null
  )
  const [busy, setBusy] = useState(false)
  const sections = sectionsFor(draft.mode)
  const set = <K extends keyof AgentDraft>(key: K, value: AgentDraft[K]) => setDraft((d) => ({ ...d, [key]: value }))
  const setOpenai = (patch: Partial<AgentDraft['openai']>) =>
    setDraft((d) => ({ ...d, openai: { ...d.openai, ...patch } }))
  const setEleven = (patch: Partial<AgentDraft['elevenlabs']>) =>
    setDraft((d) => ({ ...d, elevenlabs: { ...d.elevenlabs, ...patch } }))

  const save = async () => {
    setBusy(true)
    setStatus(null)
    try {
      if (isDefault) {
        await saveSettings(api, appStore, settingsUpdateFrom(draft))
        onSaved('default')
      } else {
        const input = profileInputFrom(draft)
        const saved = profile ? await api.updateProfile(profile.id, input) : await api.createProfile(input)
        await loadProfiles(api, appStore)
        onSaved(saved.id)
        if (!profile) return
      }
      setStatus({ kind: 'ok', message: SAVED })
    } catch (err) {
      setStatus({ kind: 'error', message: err instanceof Error ? err.message : 'Not saved' })
    } finally {
      setBusy(false)
    }
  }

  const remove = async () => {
    if (!profile || !window.confirm(`Delete the profile “${profile.name}”?`)) return
    try {
      await api.deleteProfile(profile.id)
      await loadProfiles(api, appStore)
      onDeleted()
    } catch (err) {
      setStatus({ kind: 'error', message: err instanceof Error ? err.message : 'Not deleted' })
    }
  }

  return (
    <form
      className="card agent-editor"
      aria-label={isDefault ? 'Default agent' : profile ? `Profile ${profile.name}` : 'New profile'}
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
      data-testid="agent-editor"
    >
      <header className="card-header">
        <h2>{isDefault ? 'Default agent' : profile ? profile.name : 'New profile'}</h2>
        <div className="toolbar">
          {profile && (
            <button type="button" onClick={() => appStore.getState().setCallProfile(profile.id)}>
              Use for calls
            </button>
          )}
          {profile && (
            <button type="button" onClick={() => void remove()}>
              Delete
            </button>
          )}
          <button type="submit" className="btn-primary" disabled={busy || (!isDefault && !draft.name.trim())}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </header>
      {isDefault && <p className="muted">Calls with no profile run with these settings.</p>}
      {status && (
        <p
          className={`notice ${status.kind === 'ok' ? 'notice-ok' : 'notice-error'}`}
          role={status.kind === 'ok' ? 'status' : 'alert'}
        >
          {status.message}
        </p>
      )}
      {!isDefault && (
        <label className="field">
          <span>Name</span>
          <input
            value={draft.name}
            onChange={(e) => set('name', e.target.value)}
            required
            maxLength={100}
            data-testid="agent-name"
          />
        </label>
      )}
      <EngineSelect value={draft.mode} onChange={(mode) => set('mode', mode)} />

      {(sections.realtime || sections.llm || sections.elevenlabsAgent) && (
        <Section title="Model">
          {sections.realtime && (
            <label className="field">
              <span>Realtime model</span>
              <input
                value={draft.openai.realtimeModel}
                onChange={(e) => setOpenai({ realtimeModel: e.target.value })}
              />
            </label>
          )}
          {sections.llm && (
            <label className="field">
              <span>Chat model</span>
              <input value={draft.openai.llmModel} onChange={(e) => setOpenai({ llmModel: e.target.value })} />
            </label>
          )}
          {sections.elevenlabsAgent && (
            <label className="field">
              <span>ElevenLabs agent id</span>
              <input value={draft.elevenlabs.agentId} onChange={(e) => setEleven({ agentId: e.target.value })} />
            </label>
          )}
        </Section>
      )}

      {(sections.openaiPrompt || sections.elevenlabsAgent) && (
        <Section title="Prompt">
          <label className="field">
            <span>{sections.elevenlabsAgent ? 'Prompt (empty: the agent’s own)' : 'Instructions'}</span>
            <textarea
              rows={5}
              value={sections.elevenlabsAgent ? draft.elevenlabs.prompt : draft.openai.instructions}
              onChange={(e) =>
                sections.elevenlabsAgent
                  ? setEleven({ prompt: e.target.value })
                  : setOpenai({ instructions: e.target.value })
              }
              data-testid="agent-prompt"
            />
          </label>
          <label className="field">
            <span>First message (empty: wait for the caller)</span>
            <input
              value={sections.elevenlabsAgent ? draft.elevenlabs.firstMessage : draft.openai.greeting}
              onChange={(e) =>
                sections.elevenlabsAgent
                  ? setEleven({ firstMessage: e.target.value })
                  : setOpenai({ greeting: e.target.value })
              }
            />
          </label>
        </Section>
      )}

      {sections.openaiVoice && (
        <Section title="Voice">
          <label className="field">
            <span>OpenAI voice</span>
            <select value={draft.openai.voice} onChange={(e) => setOpenai({ voice: e.target.value })}>
              {OPENAI_VOICES.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        </Section>
      )}
      {sections.voice && (
        <Section title="Voice">
          <VoicePicker
            value={draft.voice.voiceId}
            settings={draft.voice.settings}
            onChange={(voiceId) => set('voice', { ...draft.voice, voiceId })}
          />
          <VoiceSliders value={draft.voice.settings} onChange={(v) => set('voice', { ...draft.voice, settings: v })} />
        </Section>
      )}

      {sections.vad && (
        <Section title="Turn-taking">
          <VadFields value={draft.vad} onChange={(v) => set('vad', v)} />
        </Section>
      )}
      {sections.realtime && (
        <Section title="Turn-taking">
          <RealtimeTurnFields
            value={draft.openai.turnDetection}
            onChange={(turnDetection) => setOpenai({ turnDetection })}
          />
        </Section>
      )}
      {sections.gather && (
        <Section title="Speech recognition (Twilio)">
          <label className="field">
            <span>Language</span>
            <input
              value={draft.gather.language}
              onChange={(e) => set('gather', { ...draft.gather, language: e.target.value })}
            />
          </label>
        </Section>
      )}
      {!isDefault && (
        <Section title="Answering machine">
          <AmdFields value={draft.amd} onChange={(amd) => set('amd', amd)} />
        </Section>
      )}
    </form>
  )
}
