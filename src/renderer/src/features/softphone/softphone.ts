// The in-app softphone: a Twilio Voice SDK Device with a token from the core, refreshed before it expires.
import type { Call, Device } from '@twilio/voice-sdk'
import type { ApiClient } from '../../api/client.js'
import type { AppStore } from '../../store/index.js'

/** What the Voice SDK's quality warnings mean, for the user. */
export const WARNING_TEXT: Record<string, string> = {
  'high-rtt': 'High round-trip time: audio is delayed',
  'low-mos': 'Low call quality score',
  'high-jitter': 'High jitter: audio may stutter',
  'high-packet-loss': 'Packet loss: audio may drop out',
  'high-packets-lost-fraction': 'Packet loss: audio may drop out',
  'low-bytes-received': 'No audio arriving from the call',
  'low-bytes-sent': 'No audio leaving your microphone',
  'constant-audio-input-level': 'Your microphone level is flat: muted or broken?',
  'constant-audio-output-level': 'The call’s audio level is flat',
  'ice-connectivity-lost': 'Network connection lost; reconnecting'
}

let device: Device | null = null
let call: Call | null = null

/** Starts a call from this window to the agent; `params` reach the voice webhook as form fields (mode, profileId). */
export async function startAppCall(api: ApiClient, store: AppStore, params: Record<string, string>): Promise<void> {
  if (call) return
  const set = store.getState().setSoftphone
  set({ status: 'connecting', error: null, warnings: [], muted: false, callSid: null })
  try {
    const { Device: DeviceClass } = await import('@twilio/voice-sdk')
    if (!device) {
      const token = await api.voiceToken()
      device = new DeviceClass(token.token, {
        codecPreferences: ['opus', 'pcmu'] as Call.Codec[],
        logLevel: 'error',
        closeProtection: true
      })
      device.on('tokenWillExpire', () => {
        api.voiceToken().then(
          (t) => device?.updateToken(t.token),
          (err: unknown) => set({ error: `Token refresh failed: ${messageOf(err)}` })
        )
      })
      device.on('error', (err: { message?: string }) => set({ error: err.message ?? 'Voice SDK error' }))
    }
    await applyDevices(store)
    const c = await device.connect({ params })
    call = c
    c.on('ringing', () => set({ status: 'ringing' }))
    c.on('accept', () => {
      const sid = c.parameters.CallSid ?? null
      set({ status: 'open', callSid: sid })
      const match = Object.values(store.getState().calls).find((x) => x.callSid === sid)
      if (match) store.getState().focusCall(match.id)
    })
    c.on('reconnecting', () => set({ status: 'reconnecting' }))
    c.on('reconnected', () => set({ status: 'open' }))
    c.on('mute', (muted: boolean) => set({ muted }))
    c.on('warning', (name: string) => {
      const w = store.getState().softphone.warnings
      if (!w.includes(name)) set({ warnings: [...w, name] })
    })
    c.on('warning-cleared', (name: string) =>
      set({ warnings: store.getState().softphone.warnings.filter((w) => w !== name) })
    )
    const end = (status: 'closed' | 'failed', error?: string) => {
      if (call === c) call = null
      set({ status, warnings: [], ...(error ? { error } : {}) })
    }
    c.on('disconnect', () => end('closed'))
    c.on('cancel', () => end('closed'))
    c.on('reject', () => end('closed', 'The call was rejected'))
    c.on('error', (err: { message?: string }) => end('failed', err.message ?? 'Call error'))
  } catch (err) {
    call = null
    set({ status: 'failed', error: messageOf(err) })
  }
}

export function hangupAppCall(): void {
  call?.disconnect()
}

export function muteAppCall(muted: boolean): void {
  call?.mute(muted)
}

export function sendAppDigits(digits: string): void {
  call?.sendDigits(digits)
}

/** The app call's Twilio sid, when one is going on (to route Esc and the keypad). */
export function appCallSid(): string | null {
  return call?.parameters.CallSid ?? null
}

/** Applies the chosen microphone and speaker to the Device (when the browser lets us pick outputs). */
export async function applyDevices(store: AppStore): Promise<void> {
  if (!device) return
  const { microphoneId, speakerId } = store.getState().audioDevices
  try {
    if (microphoneId) await device.audio?.setInputDevice(microphoneId)
    if (speakerId && device.audio?.isOutputSelectionSupported) await device.audio.speakerDevices.set(speakerId)
  } catch (err) {
    store.getState().setSoftphone({ error: `Audio device: ${messageOf(err)}` })
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error
    ? err.message
    : typeof err === 'object' && err && 'message' in err
      ? String((err as { message: unknown }).message)
      : String(err)
}
