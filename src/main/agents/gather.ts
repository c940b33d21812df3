/** The Gather fallback's entry in the engine registry: it answers Twilio calls with TwiML, never on a media stream. */
import { CallbenchError } from '../../shared/errors.js'
import type { EngineDefinition } from './engines.js'

export const GATHER_NO_STREAM = 'Gather runs without a media stream'

export const gatherEngine: EngineDefinition = {
  mode: 'gather',
  // A media stream (loopback call, /api/media) cannot use it: Twilio's recognizer and player do the audio.
  unavailable: async () => GATHER_NO_STREAM,
  async phoneUnavailable({ secrets }) {
    return (await secrets.get('OPENAI_API_KEY'))
      ? undefined
      : 'Needs OPENAI_API_KEY (the LLM); ElevenLabs is optional (Twilio <Say> without it)'
  },
  create() {
    throw new CallbenchError('unsupported', GATHER_NO_STREAM)
  }
}
