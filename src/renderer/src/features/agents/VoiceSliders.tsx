// ElevenLabs voice settings: stability, similarity boost, style, speaker boost, speed.
import type { VoiceSettings } from '../../../../shared/settings.js'
import { Slider } from '../../components/Slider.js'

export function VoiceSliders({ value, onChange }: { value: VoiceSettings; onChange(v: VoiceSettings): void }) {
  const set = (patch: Partial<VoiceSettings>) => onChange({ ...value, ...patch })
  return (
    <div className="voice-sliders">
      <Slider
        label="Stability"
        value={value.stability}
        min={0}
        max={1}
        step={0.05}
        onChange={(stability) => set({ stability })}
        hint="Lower is more expressive, higher more even"
      />
      <Slider
        label="Similarity boost"
        value={value.similarityBoost}
        min={0}
        max={1}
        step={0.05}
        onChange={(similarityBoost) => set({ similarityBoost })}
      />
      <Slider
        label="Style"
        value={value.style}
        min={0}
        max={1}
        step={0.05}
        onChange={(style) => set({ style })}
        hint="Above 0 adds latency"
      />
      <Slider
        label="Speed"
        value={value.speed}
        min={0.7}
        max={1.2}
        step={0.05}
        onChange={(speed) => set({ speed })}
        format={(v) => `${v.toFixed(2)}×`}
      />
      <label className="check">
        <input type="checkbox" checked={value.speakerBoost} onChange={(e) => set({ speakerBoost: e.target.checked })} />{' '}
        Speaker boost
      </label>
    </div>
  )
}
