// Buttons under the meters: hang up, mute (calls from this window), bookmark, and the DTMF keypad.
import { useState } from 'react'
import { appStore, useAppStore } from '../../store/index.js'
import { Keypad } from '../dialer/Keypad.js'
import { loopbackDtmf, setLoopbackMuted } from '../loopback/loopback-controller.js'
import { bookmarkLiveCall } from '../notes/bookmark.js'
import { muteAppCall, sendAppDigits } from '../softphone/softphone.js'
import { useConsole } from '../../console-context.js'
import { HangupButton } from './HangupButton.js'

/** Which window-side call this is, if any: only those can mute and send DTMF from here. */
export type LocalLeg = 'loopback' | 'app' | null

export function CallControls({ callId, local }: { callId: string; local: LocalLeg }) {
  const { api } = useConsole()
  const muted = useAppStore((s) =>
    local === 'loopback' ? s.loopback.muted : local === 'app' ? s.softphone.muted : false
  )
  const [keypad, setKeypad] = useState(false)
  const toggleMute = () => (local === 'loopback' ? setLoopbackMuted(appStore, !muted) : muteAppCall(!muted))
  const digit = (d: string) => (local === 'loopback' ? loopbackDtmf(d) : sendAppDigits(d))
  return (
    <div className="call-controls">
      <div className="toolbar">
        <HangupButton callId={callId} />
        {local && (
          <button type="button" aria-pressed={muted} onClick={toggleMute} data-testid="mute">
            {muted ? 'Unmute' : 'Mute'}
          </button>
        )}
        <button
          type="button"
          aria-keyshortcuts="B"
          onClick={() => bookmarkLiveCall(api, appStore)}
          data-testid="bookmark"
        >
          Bookmark
        </button>
        {local && (
          <button type="button" aria-expanded={keypad} onClick={() => setKeypad(!keypad)}>
            Keypad
          </button>
        )}
      </div>
      {local && keypad && <Keypad label="Send DTMF" onDigit={digit} />}
    </div>
  )
}
