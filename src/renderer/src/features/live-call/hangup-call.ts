// Hangs up a call whichever way it runs: the loopback stream sends `stop`; Twilio calls go through the telephony API.
import type { ApiClient } from '../../api/client.js'
import type { AppStore } from '../../store/index.js'
import { hangupLoopback } from '../loopback/loopback-controller.js'

export async function hangupCall(api: ApiClient, store: AppStore, callId: string): Promise<void> {
  if (
    store.getState().loopback.callId === callId &&
    ['starting', 'active'].includes(store.getState().loopback.status)
  ) {
    hangupLoopback()
    return
  }
  await api.hangup(callId)
}
