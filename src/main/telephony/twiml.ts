/** TwiML documents we answer webhooks with, built with the SDK's VoiceResponse. */
import twilio from 'twilio'

/** Path of the Media Streams endpoint on the public listener. */
export const MEDIA_PATH = '/twilio/media'
/** Twilio limits `name` + `value` of one `<Parameter>` to under 500 characters (PROTOCOLS §1.1). */
const MAX_PARAMETER_CHARS = 499

/** The `wss://` URL of our Media Streams endpoint for a public base URL; no query string, ever. */
export function mediaStreamUrl(publicBase: string): string {
  return publicBase.replace(/\/+$/, '').replace(/^http/, 'ws') + MEDIA_PATH
}

/** `<Connect><Stream>` with our parameters: the call's agent talks on the stream until it closes. */
export function connectStreamTwiml(publicBase: string, parameters: Record<string, string>): string {
  const response = new twilio.twiml.VoiceResponse()
  const stream = response.connect().stream({ url: mediaStreamUrl(publicBase), name: 'callbench' })
  for (const [name, value] of Object.entries(parameters)) {
    if (!value) continue
    stream.parameter({ name, value: value.slice(0, Math.max(0, MAX_PARAMETER_CHARS - name.length)) })
  }
  return response.toString()
}

/** A short spoken message in Twilio's voice, then hang up (used only when no agent can speak). */
export function sayAndHangupTwiml(message: string): string {
  const response = new twilio.twiml.VoiceResponse()
  if (message) response.say(message)
  response.hangup()
  return response.toString()
}

export function hangupTwiml(): string {
  const response = new twilio.twiml.VoiceResponse()
  response.hangup()
  return response.toString()
}

/** An empty response: Twilio acknowledges status callbacks with any 2xx; this one is also valid TwiML. */
export function emptyTwiml(): string {
  return new twilio.twiml.VoiceResponse().toString()
}
