// Keys by service, entered masked and never shown back (the API only says whether each is set), with what each
// service needs beside them and a connection test that says exactly what is wrong.
import { useState } from 'react'
import type { SecretName, Settings } from '../../../../shared/settings.js'
import { loadEngines, loadVoices, saveSettings } from '../../api/load.js'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import type { TestableService } from '../../../../shared/service-test.js'
import { ConnectionTest } from './ConnectionTest.js'
import { SecretField } from './SecretField.js'

interface Service {
  id: 'twilio' | 'openai' | 'elevenlabs' | 'aws'
  title: string
  /** What "Test connection" checks for this group. */
  test: { service: TestableService; label: string }
  secrets: readonly { name: SecretName; label: string }[]
}

const SERVICES: readonly Service[] = [
  {
    id: 'twilio',
    title: 'Twilio',
    test: { service: 'twilio', label: 'Twilio' },
    secrets: [
      { name: 'TWILIO_ACCOUNT_SID', label: 'Account SID' },
      { name: 'TWILIO_AUTH_TOKEN', label: 'Auth token' },
      { name: 'TWILIO_API_KEY_SID', label: 'API key SID (calls from this app)' },
      { name: 'TWILIO_API_KEY_SECRET', label: 'API key secret' }
    ]
  },
  {
    id: 'openai',
    title: 'OpenAI',
    test: { service: 'openai', label: 'OpenAI' },
    secrets: [{ name: 'OPENAI_API_KEY', label: 'API key' }]
  },
  {
    id: 'elevenlabs',
    title: 'ElevenLabs',
    test: { service: 'elevenlabs', label: 'ElevenLabs' },
    secrets: [{ name: 'ELEVENLABS_API_KEY', label: 'API key' }]
  },
  {
    id: 'aws',
    title: 'AWS (S3 uploads)',
    test: { service: 's3', label: 'S3' },
    secrets: [
      { name: 'AWS_ACCESS_KEY_ID', label: 'Access key id' },
      { name: 'AWS_SECRET_ACCESS_KEY', label: 'Secret access key' },
      { name: 'AWS_SESSION_TOKEN', label: 'Session token (optional)' }
    ]
  }
]

type Status = { kind: 'ok' | 'error'; message: string } | null

export function KeysSection() {
  const { api, refreshHealth } = useConsole()
  const view = useAppStore((s) => s.settingsView)
  const [typed, setTyped] = useState<Partial<Record<SecretName, string>>>({})
  const [status, setStatus] = useState<Partial<Record<Service['id'], Status>>>({})
  if (!view) return <p className="muted">Loading…</p>

  const save = async (service: Service, values: Partial<Record<SecretName, string>>, settings?: Partial<Settings>) => {
    try {
      await saveSettings(api, appStore, { secrets: values, ...(settings ? { settings } : {}) })
      // What was typed is dropped at once: it lives nowhere in the console once sent.
      setTyped((t) => {
        const next = { ...t }
        for (const k of Object.keys(values)) delete next[k as SecretName]
        return next
      })
      setStatus((s) => ({ ...s, [service.id]: { kind: 'ok', message: 'Saved' } }))
      void refreshHealth()
      void loadEngines(api, appStore)
    } catch (err) {
      setStatus((s) => ({
        ...s,
        [service.id]: { kind: 'error', message: err instanceof Error ? err.message : 'Not saved' }
      }))
    }
  }

  return (
    <div className="keys">
      {SERVICES.map((service) => {
        const pending = Object.fromEntries(
          service.secrets.filter((s) => typed[s.name]).map((s) => [s.name, typed[s.name]!])
        ) as Partial<Record<SecretName, string>>
        const st = status[service.id]
        return (
          <form
            key={service.id}
            className="key-group"
            aria-label={`${service.title} keys`}
            onSubmit={(e) => {
              e.preventDefault()
              void save(service, pending)
            }}
          >
            <h3>{service.title}</h3>
            {service.secrets.map((s) => (
              <SecretField
                key={s.name}
                name={s.name}
                label={s.label}
                masked={view.secrets[s.name]}
                value={typed[s.name] ?? ''}
                onChange={(v) => setTyped((t) => ({ ...t, [s.name]: v }))}
                onRemove={() => void save(service, { [s.name]: '' })}
              />
            ))}
            {service.id === 'twilio' && (
              <TwilioNumber settings={view.settings} onSave={(twilio) => void save(service, {}, { twilio })} />
            )}
            <div className="toolbar">
              <button type="submit" disabled={Object.keys(pending).length === 0}>
                Save {service.title} keys
              </button>
              <ConnectionTest
                service={service.test.service}
                label={service.test.label}
                onResult={(r) => {
                  // A working key lists its voices: the pickers get them at once.
                  if (r.ok && r.service === 'elevenlabs') void loadVoices(api, appStore)
                }}
              />
              {st && (
                <span
                  className={st.kind === 'ok' ? 'muted' : 'error-text'}
                  role={st.kind === 'ok' ? 'status' : 'alert'}
                >
                  {st.message}
                </span>
              )}
            </div>
          </form>
        )
      })}
    </div>
  )
}

function TwilioNumber({ settings, onSave }: { settings: Settings; onSave(twilio: Settings['twilio']): void }) {
  const [number, setNumber] = useState(settings.twilio.phoneNumber)
  return (
    <div className="field-inline twilio-number">
      <label className="field">
        <span>Twilio phone number (caller id)</span>
        <input value={number} onChange={(e) => setNumber(e.target.value)} placeholder="+15551234567" inputMode="tel" />
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={settings.twilio.provisioning}
          onChange={(e) => onSave({ ...settings.twilio, phoneNumber: number, provisioning: e.target.checked })}
        />
        Point the number’s webhooks at the tunnel
      </label>
      <button
        type="button"
        disabled={number === settings.twilio.phoneNumber}
        onClick={() => onSave({ ...settings.twilio, phoneNumber: number.trim() })}
      >
        Save number
      </button>
    </div>
  )
}
