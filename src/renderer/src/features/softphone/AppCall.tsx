// A call from this app: the browser is the phone (Twilio Voice SDK); mute, keypad and call-quality warnings.
import { useEffect } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { agentChoice } from '../dialer/place-call.js'
import { setDialHandler } from '../dialer/dial-action.js'
import { Keypad } from '../dialer/Keypad.js'
import { AudioDevicePicker } from './AudioDevicePicker.js'
import { applyDevices, hangupAppCall, muteAppCall, sendAppDigits, startAppCall, WARNING_TEXT } from './softphone.js'

const STATUS_TEXT = {
  idle: 'Ready',
  connecting: 'Connecting…',
  ringing: 'Ringing…',
  open: 'In call',
  reconnecting: 'Reconnecting…',
  closed: 'Call ended',
  failed: 'Call failed'
} as const

export function AppCall() {
  const { api } = useConsole()
  const twilio = useAppStore((s) => s.health?.services.twilio ?? false)
  const phone = useAppStore(useShallow((s) => s.softphone))
  const live =
    phone.status === 'connecting' ||
    phone.status === 'ringing' ||
    phone.status === 'open' ||
    phone.status === 'reconnecting'
  const start = () => {
    if (live || !twilio) return
    const choice = agentChoice(appStore)
    const params: Record<string, string> = {}
    if (choice.profileId) params.profileId = choice.profileId
    if (choice.mode) params.mode = choice.mode
    void startAppCall(api, appStore, params)
  }
  useEffect(() => setDialHandler(start))

  if (!twilio) {
    return (
      <p className="notice notice-warn">
        Calls from this app need Twilio keys: the account SID and auth token, and an API key and secret for the
        browser’s access token.
      </p>
    )
  }
  return (
    <div className="app-call" data-testid="app-call" data-status={phone.status}>
      <AudioDevicePicker onChange={() => void applyDevices(appStore)} />
      <p className="muted" role="status">
        {STATUS_TEXT[phone.status]}
      </p>
      {phone.error && (
        <p className="notice notice-error" role="alert">
          {phone.error}
        </p>
      )}
      {phone.warnings.length > 0 && (
        <ul className="notice notice-warn quality-warnings" aria-label="Call quality warnings">
          {phone.warnings.map((w) => (
            <li key={w}>{WARNING_TEXT[w] ?? w}</li>
          ))}
        </ul>
      )}
      <div className="toolbar">
        {live ? (
          <>
            <button type="button" className="btn-danger" onClick={hangupAppCall}>
              Hang up
            </button>
            <button type="button" aria-pressed={phone.muted} onClick={() => muteAppCall(!phone.muted)}>
              {phone.muted ? 'Unmute' : 'Mute'}
            </button>
          </>
        ) : (
          <button type="button" className="btn-primary" onClick={start} aria-keyshortcuts="Enter">
            Call the agent from this app
          </button>
        )}
      </div>
      {phone.status === 'open' && <Keypad label="Send DTMF" onDigit={sendAppDigits} />}
    </div>
  )
}
