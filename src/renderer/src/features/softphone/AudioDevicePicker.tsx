// Microphone and speaker for calls from this window (the softphone and loopback calls).
import { useEffect, useState } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { appStore, useAppStore } from '../../store/index.js'

interface DeviceOption {
  id: string
  label: string
}

export function AudioDevicePicker({ onChange }: { onChange?: () => void }) {
  const { microphoneId, speakerId } = useAppStore(useShallow((s) => s.audioDevices))
  const [inputs, setInputs] = useState<DeviceOption[]>([])
  const [outputs, setOutputs] = useState<DeviceOption[]>([])
  useEffect(() => {
    const media = navigator.mediaDevices
    if (!media?.enumerateDevices) return
    const refresh = () =>
      void media.enumerateDevices().then((all) => {
        const list = (kind: MediaDeviceKind) =>
          all
            .filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default')
            .map((d, i) => ({
              id: d.deviceId,
              label: d.label || `${kind === 'audioinput' ? 'Microphone' : 'Speaker'} ${i + 1}`
            }))
        setInputs(list('audioinput'))
        setOutputs(list('audiooutput'))
      })
    refresh()
    media.addEventListener('devicechange', refresh)
    return () => media.removeEventListener('devicechange', refresh)
  }, [])
  const choose = (patch: Parameters<ReturnType<typeof appStore.getState>['setAudioDevices']>[0]) => {
    appStore.getState().setAudioDevices(patch)
    onChange?.()
  }
  return (
    <div className="device-picker">
      <label className="field">
        <span>Microphone</span>
        <select value={microphoneId} onChange={(e) => choose({ microphoneId: e.target.value })}>
          <option value="">System default</option>
          {inputs.map((d) => (
            <option key={d.id} value={d.id}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      {outputs.length > 0 && (
        <label className="field">
          <span>Speaker</span>
          <select value={speakerId} onChange={(e) => choose({ speakerId: e.target.value })}>
            <option value="">System default</option>
            {outputs.map((d) => (
              <option key={d.id} value={d.id}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
      )}
    </div>
  )
}
