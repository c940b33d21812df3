// ElevenLabs voices with search and a preview of each in the current voice settings.
import { useEffect, useMemo, useRef, useState } from 'react'
import type { VoiceSettings } from '../../../../shared/settings.js'
import { loadVoices } from '../../api/load.js'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'

export function VoicePicker({
  value,
  settings,
  onChange
}: {
  value: string
  settings: VoiceSettings
  onChange(voiceId: string): void
}) {
  const { api } = useConsole()
  const voices = useAppStore((s) => s.voices)
  const [query, setQuery] = useState('')
  const [previewing, setPreviewing] = useState<string | null>(null)
  const [previewError, setPreviewError] = useState<string | null>(null)
  const audioRef = useRef<HTMLAudioElement | null>(null)
  useEffect(() => {
    if (appStore.getState().voices.state === 'idle') void loadVoices(api, appStore)
  }, [api])
  useEffect(() => () => audioRef.current?.pause(), [])

  const list = voices.state === 'ready' ? voices.data.voices : []
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase()
    if (!q) return list
    return list.filter((v) =>
      [v.name, v.category ?? '', v.description ?? '', ...Object.values(v.labels)].some((t) =>
        t.toLowerCase().includes(q)
      )
    )
  }, [list, query])

  const preview = async (voiceId: string) => {
    audioRef.current?.pause()
    setPreviewing(voiceId)
    setPreviewError(null)
    try {
      const blob = await api.voicePreview(voiceId, settings)
      const url = URL.createObjectURL(blob)
      const audio = new Audio(url)
      audioRef.current = audio
      audio.onended = () => {
        URL.revokeObjectURL(url)
        setPreviewing(null)
      }
      await audio.play()
    } catch (err) {
      setPreviewing(null)
      setPreviewError(err instanceof Error ? err.message : 'Preview failed')
    }
  }

  if (voices.state === 'error') {
    return (
      <div className="voice-picker">
        <p className="notice notice-warn">Voices could not be listed: {voices.message}</p>
        <label className="field">
          <span>Voice id</span>
          <input value={value} onChange={(e) => onChange(e.target.value)} placeholder="ElevenLabs voice id" />
        </label>
      </div>
    )
  }
  return (
    <div className="voice-picker">
      <label className="field">
        <span>Search voices</span>
        <input
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="Name, accent, gender, use…"
        />
      </label>
      {voices.state === 'idle' && <p className="muted">Loading voices…</p>}
      <ul className="voice-list" role="radiogroup" aria-label="Voice">
        {shown.map((v) => (
          <li key={v.id} className={v.id === value ? 'voice voice-on' : 'voice'}>
            <label>
              <input type="radio" name="voice" value={v.id} checked={v.id === value} onChange={() => onChange(v.id)} />
              <span className="voice-name">{v.name}</span>
              <span className="voice-labels muted">{Object.values(v.labels).slice(0, 3).join(' · ')}</span>
            </label>
            <button
              type="button"
              onClick={() => void preview(v.id)}
              disabled={previewing !== null}
              aria-label={`Preview ${v.name}`}
            >
              {previewing === v.id ? 'Playing…' : 'Preview'}
            </button>
          </li>
        ))}
        {voices.state === 'ready' && shown.length === 0 && <li className="muted">No voice matches.</li>}
      </ul>
      {previewError && (
        <p className="notice notice-error" role="alert">
          {previewError}
        </p>
      )}
    </div>
  )
}
