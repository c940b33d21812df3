// Phone call through Twilio: E.164 as you type, keypad, recent and saved numbers, and a one-click test call.
import { useEffect, useId, useState } from 'react'
import { useShallow } from 'zustand/react/shallow'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { setDialHandler } from './dial-action.js'
import { Keypad } from './Keypad.js'
import { NumberLists } from './NumberLists.js'
import { checkPhone, formatPhone, normalizePhone } from './phone-format.js'
import { placePhoneCall } from './place-call.js'

export function PhoneDialer() {
  const { api } = useConsole()
  const number = useAppStore((s) => s.dialNumber)
  const twilio = useAppStore((s) => s.health?.services.twilio ?? false)
  const testNumber = useAppStore(useShallow((s) => s.savedNumbers[0]?.number ?? s.recentNumbers[0] ?? ''))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [label, setLabel] = useState('')
  const hintId = useId()
  const check = checkPhone(number)
  const showHint = number.length > 1 && !check.ok

  const call = async (e164: string) => {
    setBusy(true)
    setError(null)
    try {
      await placePhoneCall(api, appStore, e164)
    } catch (err) {
      setError(err instanceof Error ? err.message : 'The call could not be placed')
    } finally {
      setBusy(false)
    }
  }
  const dial = () => {
    if (check.ok && twilio && !busy) void call(check.e164)
  }
  useEffect(() => setDialHandler(dial))

  const onChange = (raw: string) => {
    let next = normalizePhone(raw)
    // Deleting a space of the formatted number deletes the digit before it.
    if (next === number && raw.length < formatPhone(number).length) next = number.slice(0, -1)
    appStore.getState().setDialNumber(next === '+' && raw === '' ? '' : next)
  }

  return (
    <div className="phone-dialer">
      {!twilio && (
        <p className="notice notice-warn">
          Phone calls need a Twilio account SID and auth token.{' '}
          <button type="button" className="btn-link" onClick={() => appStore.getState().setView('settings')}>
            Add them in Settings
          </button>
        </p>
      )}
      <form
        className="dial-form"
        onSubmit={(e) => {
          e.preventDefault()
          dial()
        }}
      >
        <label className="field">
          <span>Number</span>
          <input
            type="tel"
            inputMode="tel"
            autoComplete="tel"
            value={formatPhone(number)}
            placeholder="+1 555 123 4567"
            onChange={(e) => onChange(e.target.value)}
            aria-invalid={showHint}
            aria-describedby={hintId}
            data-testid="dial-number"
          />
        </label>
        <p id={hintId} className={showHint ? 'field-hint field-hint-error' : 'field-hint'} aria-live="polite">
          {showHint
            ? (check as { message: string }).message
            : check.ok
              ? 'Enter to call'
              : 'E.164: + and the country code'}
        </p>
        <Keypad label="Dial pad" onDigit={(d) => appStore.getState().setDialNumber(normalizePhone(number + d))} />
        <div className="toolbar">
          <button
            type="submit"
            className="btn-primary"
            disabled={!check.ok || !twilio || busy}
            aria-keyshortcuts="Enter"
            data-testid="dial-call"
          >
            {busy ? 'Calling…' : 'Call'}
          </button>
          <button
            type="button"
            disabled={!testNumber || !twilio || busy}
            onClick={() => void call(testNumber)}
            title={testNumber ? `Calls ${formatPhone(testNumber)} at once` : 'Save or call a number first'}
            data-testid="test-call"
          >
            Test call{testNumber ? ` ${formatPhone(testNumber)}` : ''}
          </button>
        </div>
      </form>
      {check.ok && (
        <form
          className="save-number"
          onSubmit={(e) => {
            e.preventDefault()
            appStore.getState().saveNumber(check.e164, label)
            setLabel('')
          }}
        >
          <input
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="Label (optional)"
            aria-label="Label for the saved number"
          />
          <button type="submit">Save number</button>
        </form>
      )}
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <NumberLists />
    </div>
  )
}
