// "Listen in": hear a live call in this window (caller, agent or both), with volume and mute.
import { useEffect, useRef, useState } from 'react'
import { Slider } from '../../components/Slider.js'
import { useConsole } from '../../console-context.js'
import { appStore } from '../../store/index.js'
import { LISTEN_CHANNEL_LABELS, type ListenChannel } from './listen-mix.js'
import { ListenPlayer, type ListenState } from './listen-player.js'

const CHANNELS: ListenChannel[] = ['both', 'caller', 'agent']
const REFRESH_MS = 500

export function ListenIn({ callId }: { callId: string }) {
  const { connection } = useConsole()
  const [on, setOn] = useState(false)
  const [state, setState] = useState<{ state: ListenState; detail?: string | undefined } | null>(null)
  const [channel, setChannel] = useState<ListenChannel>('both')
  const [volume, setVolume] = useState(0.8)
  const [muted, setMuted] = useState(false)
  const [counts, setCounts] = useState({ frames: 0, lost: 0 })
  const player = useRef<ListenPlayer | null>(null)

  useEffect(() => {
    if (!on) return
    const p = new ListenPlayer({
      controlUrl: connection.controlUrl,
      token: connection.token,
      callId,
      channel,
      volume,
      muted,
      speakerId: appStore.getState().audioDevices.speakerId || undefined,
      onState: (s, detail) => {
        setState({ state: s, detail })
        if (s === 'ended' || s === 'failed') setOn(false)
      }
    })
    player.current = p
    void p.start()
    const timer = setInterval(() => setCounts({ frames: p.counter.frames, lost: p.counter.lost }), REFRESH_MS)
    return () => {
      clearInterval(timer)
      player.current = null
      p.stop()
    }
    // Rebuilt only when listening starts or the call changes: the knobs below apply to the running player.
  }, [on, callId, connection])

  useEffect(() => player.current?.setChannel(channel), [channel])
  useEffect(() => player.current?.setVolume(volume), [volume])
  useEffect(() => player.current?.setMuted(muted), [muted])

  const listening = on && state?.state !== 'failed'
  return (
    <div
      className="listen-in"
      data-testid="listen-in"
      data-state={on ? (state?.state ?? 'connecting') : 'off'}
      data-frames={counts.frames}
      data-lost={counts.lost}
    >
      <div className="toolbar">
        <button type="button" aria-pressed={on} onClick={() => setOn(!on)} data-testid="listen-toggle">
          {on ? 'Stop listening' : 'Listen in'}
        </button>
        {listening && (
          <button type="button" aria-pressed={muted} onClick={() => setMuted(!muted)}>
            {muted ? 'Unmute listening' : 'Mute listening'}
          </button>
        )}
      </div>
      {listening && (
        <div className="segmented listen-channels" role="radiogroup" aria-label="Hear">
          {CHANNELS.map((c) => (
            <label key={c} className={channel === c ? 'seg seg-on' : 'seg'}>
              <input
                type="radio"
                name={`listen-${callId}`}
                value={c}
                checked={channel === c}
                onChange={() => setChannel(c)}
              />
              {LISTEN_CHANNEL_LABELS[c]}
            </label>
          ))}
        </div>
      )}
      {listening && (
        <Slider
          label="Listen volume"
          value={volume}
          min={0}
          max={1}
          step={0.05}
          onChange={setVolume}
          format={(v) => `${Math.round(v * 100)}%`}
        />
      )}
      {listening && counts.lost > 0 && (
        <p className="muted">{counts.lost} frames dropped while this window fell behind</p>
      )}
      {!on && state?.state === 'failed' && (
        <p className="notice notice-error" role="alert">
          {state.detail}
        </p>
      )}
    </div>
  )
}
