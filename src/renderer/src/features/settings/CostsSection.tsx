// Rates of the per-call cost estimate: public list prices by default, editable to match the plans in use.
import { useState } from 'react'
import type { CostRates } from '../../../../shared/settings.js'
import { saveSettings } from '../../api/load.js'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'

type RateKey = Exclude<keyof CostRates, 'currency'>

const GROUPS: ReadonlyArray<{ title: string; rates: ReadonlyArray<{ key: RateKey; label: string }> }> = [
  {
    title: 'Twilio (phone calls only)',
    rates: [
      { key: 'telephonyPerMin', label: 'Voice, per minute' },
      { key: 'mediaStreamPerMin', label: 'Media Streams, per minute' }
    ]
  },
  {
    title: 'OpenAI Realtime, per million tokens',
    rates: [
      { key: 'openaiAudioInPer1M', label: 'Audio in' },
      { key: 'openaiAudioOutPer1M', label: 'Audio out' },
      { key: 'openaiTextInPer1M', label: 'Text in' },
      { key: 'openaiTextOutPer1M', label: 'Text out' },
      { key: 'openaiCachedInPer1M', label: 'Cached in' }
    ]
  },
  {
    title: 'Cascade and hybrid',
    rates: [
      { key: 'llmInPer1M', label: 'LLM in, per million tokens' },
      { key: 'llmOutPer1M', label: 'LLM out, per million tokens' },
      { key: 'ttsPer1kChars', label: 'Text to speech, per 1000 characters' },
      { key: 'sttPerMin', label: 'Speech to text, per minute' }
    ]
  },
  { title: 'ElevenLabs agent', rates: [{ key: 'elevenlabsPerMin', label: 'Conversation, per minute' }] }
]

export function CostsSection() {
  const { api } = useConsole()
  const saved = useAppStore((s) => s.settingsView?.settings.costs ?? null)
  const [draft, setDraft] = useState<Record<keyof CostRates, string> | null>(null)
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; message: string } | null>(null)
  if (!saved) return <p className="muted">Loading…</p>
  const values =
    draft ?? (Object.fromEntries(Object.entries(saved).map(([k, v]) => [k, String(v)])) as typeof draft & {})
  const invalid = (Object.keys(values) as Array<keyof CostRates>).filter(
    (k) => k !== 'currency' && !(values[k].trim() !== '' && Number(values[k]) >= 0)
  )
  const save = async () => {
    if (invalid.length > 0 || !values.currency.trim()) return
    const costs = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, k === 'currency' ? v.trim().toUpperCase() : Number(v)])
    ) as CostRates
    try {
      await saveSettings(api, appStore, { settings: { costs } })
      setDraft(null)
      setStatus({ kind: 'ok', message: 'Saved: the next cost update uses these rates' })
    } catch (err) {
      setStatus({ kind: 'error', message: err instanceof Error ? err.message : 'Not saved' })
    }
  }
  return (
    <form
      className="costs"
      aria-label="Cost rates"
      data-testid="cost-rates"
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
    >
      <p className="muted">
        Each call shows an estimate of what it cost, priced with these rates. The defaults are public list prices; set
        yours to match your plans. Calls from this window (loopback) have no Twilio charge.
      </p>
      {GROUPS.map((g) => (
        <fieldset key={g.title}>
          <legend>{g.title}</legend>
          <div className="grid-2">
            {g.rates.map((r) => (
              <label key={r.key} className="field">
                <span>{r.label}</span>
                <input
                  type="number"
                  inputMode="decimal"
                  min={0}
                  step="any"
                  value={values[r.key]}
                  aria-invalid={invalid.includes(r.key) || undefined}
                  onChange={(e) => setDraft({ ...values, [r.key]: e.target.value })}
                  data-rate={r.key}
                />
              </label>
            ))}
          </div>
        </fieldset>
      ))}
      <label className="field">
        <span>Currency of the rates (ISO code; shown, never converted)</span>
        <input
          value={values.currency}
          maxLength={8}
          onChange={(e) => setDraft({ ...values, currency: e.target.value })}
          data-rate="currency"
        />
      </label>
      <div className="toolbar">
        <button type="submit" disabled={invalid.length > 0 || !values.currency.trim()}>
          Save rates
        </button>
        {draft && (
          <button type="button" onClick={() => setDraft(null)}>
            Discard changes
          </button>
        )}
      </div>
      {status && (
        <p
          className={status.kind === 'ok' ? 'muted' : 'notice notice-error'}
          role={status.kind === 'ok' ? 'status' : 'alert'}
        >
          {status.message}
        </p>
      )}
    </form>
  )
}
