// Places a phone call through the telephony API with the agent chosen in the dialer, and remembers the number.
import type { PlaceCallRequest } from '../../../../shared/api.js'
import type { ApiClient } from '../../api/client.js'
import type { AppStore } from '../../store/index.js'

/** The agent part of a call request: a profile, or an engine, or neither (the default engine). */
export function agentChoice(store: AppStore): { profileId?: string; mode?: PlaceCallRequest['mode'] } {
  const { callProfileId, callMode } = store.getState()
  if (callProfileId) return { profileId: callProfileId }
  if (callMode) return { mode: callMode }
  return {}
}

export async function placePhoneCall(api: ApiClient, store: AppStore, e164: string): Promise<string> {
  const result = await api.placeCall({ to: e164, ...agentChoice(store) })
  const s = store.getState()
  s.addRecent(e164)
  s.focusCall(result.callId)
  return result.callId
}
