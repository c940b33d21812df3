// Turn-taking: our VAD (method, threshold, end-of-turn silence, minimum speech), or OpenAI's turn detection.
import type { Settings } from '../../../../shared/settings.js'
import { VAD_METHODS } from '../../../../shared/settings.js'
import { Slider } from '../../components/Slider.js'

const VAD_LABELS = { silero: 'Silero (neural)', webrtc: 'WebRTC VAD', energy: 'Energy' } as const
const ms = (v: number) => `${Math.round(v)} ms`

export function VadFields({ value, onChange }: { value: Settings['vad']; onChange(v: Settings['vad']): void }) {
  const set = (patch: Partial<Settings['vad']>) => onChange({ ...value, ...patch })
  return (
    <div className="turn-fields">
      <label className="field">
        <span>VAD method</span>
        <select value={value.method} onChange={(e) => set({ method: e.target.value as Settings['vad']['method'] })}>
          {VAD_METHODS.map((m) => (
            <option key={m} value={m}>
              {VAD_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <Slider
        label="Speech threshold"
        value={value.threshold}
        min={0.05}
        max={0.95}
        step={0.05}
        onChange={(threshold) => set({ threshold })}
      />
      <Slider
        label="End-of-turn silence"
        value={value.silenceMs}
        min={100}
        max={2000}
        step={50}
        onChange={(silenceMs) => set({ silenceMs })}
        format={ms}
      />
      <Slider
        label="Minimum speech"
        value={value.minSpeechMs}
        min={0}
        max={1000}
        step={16}
        onChange={(minSpeechMs) => set({ minSpeechMs })}
        format={ms}
        hint="Shorter sounds do not start a turn or a barge-in"
      />
      <Slider
        label="Early reply after"
        value={value.earlyReplyMs}
        min={0}
        max={2000}
        step={50}
        onChange={(earlyReplyMs) => set({ earlyReplyMs })}
        format={(v) => (v > 0 && v < value.silenceMs ? ms(v) : 'off')}
        hint="Cascade: the reply is prepared after this much silence and plays when the turn ends; if the caller goes on it is dropped (one LLM request spent)"
      />
    </div>
  )
}

type TurnDetection = Settings['openai']['turnDetection']

export function RealtimeTurnFields({ value, onChange }: { value: TurnDetection; onChange(v: TurnDetection): void }) {
  return (
    <div className="turn-fields">
      <label className="field">
        <span>Turn detection</span>
        <select
          value={value.type}
          onChange={(e) =>
            onChange(
              e.target.value === 'semantic_vad'
                ? { type: 'semantic_vad', eagerness: 'auto' }
                : { type: 'server_vad', threshold: 0.5, prefixPaddingMs: 300, silenceMs: 500 }
            )
          }
        >
          <option value="server_vad">Server VAD (silence based)</option>
          <option value="semantic_vad">Semantic VAD (meaning based)</option>
        </select>
      </label>
      {value.type === 'server_vad' ? (
        <>
          <Slider
            label="Threshold"
            value={value.threshold}
            min={0.05}
            max={0.95}
            step={0.05}
            onChange={(threshold) => onChange({ ...value, threshold })}
          />
          <Slider
            label="End-of-turn silence"
            value={value.silenceMs}
            min={100}
            max={2000}
            step={50}
            onChange={(silenceMs) => onChange({ ...value, silenceMs })}
            format={ms}
          />
          <Slider
            label="Prefix padding"
            value={value.prefixPaddingMs}
            min={0}
            max={1000}
            step={50}
            onChange={(prefixPaddingMs) => onChange({ ...value, prefixPaddingMs })}
            format={ms}
          />
        </>
      ) : (
        <label className="field">
          <span>Eagerness</span>
          <select
            value={value.eagerness}
            onChange={(e) =>
              onChange({ type: 'semantic_vad', eagerness: e.target.value as 'low' | 'medium' | 'high' | 'auto' })
            }
          >
            <option value="auto">Auto</option>
            <option value="low">Low (lets the caller finish)</option>
            <option value="medium">Medium</option>
            <option value="high">High (answers sooner)</option>
          </select>
        </label>
      )}
    </div>
  )
}
