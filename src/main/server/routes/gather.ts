/** Gather fallback wiring: the voice webhook hook, the signed action route and the signed reply audio on the public listener. */
import type { ServerResponse } from 'node:http'
import { CallbenchError } from '../../../shared/errors.js'
import type { Settings } from '../../../shared/settings.js'
import { SettingsSchema } from '../../../shared/settings.js'
import type { App } from '../../app.js'
import { deepMerge } from '../../settings/settings-store.js'
import { elevenLabsFrom, hasElevenLabsKey } from '../../speech/elevenlabs-client.js'
import { openAiFrom } from '../../speech/llm.js'
import { isTerminal } from '../../telephony/call-tracker.js'
import { GATHER_AUDIO_PREFIX, GATHER_PATH, GatherService } from '../../telephony/gather.js'
import { webhookParams } from '../../telephony/signature.js'
import { telephonyOf } from './telephony.js'

function sendTwiml(res: ServerResponse, twiml: string): void {
  res.writeHead(200, {
    'content-type': 'text/xml; charset=utf-8',
    'content-length': Buffer.byteLength(twiml),
    'cache-control': 'no-store'
  })
  res.end(twiml)
}

/** Needs registerTelephony first (its call tracker, profiles and public exemptions). */
export function registerGather(app: App): GatherService {
  const tel = telephonyOf(app)
  const settingsFor = async (callId: string): Promise<Settings> => {
    let settings = app.settings.get()
    const call = tel.telephony.tracker.get(callId)
    const profile = call?.profileId ? await tel.profiles.get(call.profileId) : undefined
    if (profile) settings = deepMerge(settings, profile.settings)
    if (call?.overrides) settings = deepMerge(settings, call.overrides)
    return SettingsSchema.parse(settings)
  }
  const service = new GatherService({
    settingsFor,
    openai: () => openAiFrom(app),
    elevenlabs: async () => ((await hasElevenLabsKey(app)) ? elevenLabsFrom(app) : undefined),
    publicBase: () => app.publicUrl() ?? `http://127.0.0.1:${app.publicListener.port}`,
    hub: app.hub,
    log: app.log
  })
  tel.telephony.answerWithoutStream = async (call) => (call.mode === 'gather' ? service.answer(call) : undefined)
  // Twilio fetches <Play> audio with a plain GET: the signed URL is the proof, checked here and in the route.
  const signedAudio = (url: URL) =>
    url.pathname.startsWith(GATHER_AUDIO_PREFIX) &&
    service.signer.verify(url.pathname, url.searchParams.get('exp'), url.searchParams.get('sig'))
  tel.publicExemptions.push((req, url) => (req.method === 'GET' || req.method === 'HEAD') && signedAudio(url))

  const pub = app.publicListener.router
  pub.post(GATHER_PATH, async ({ req, res, url }) =>
    sendTwiml(res, await service.onAction(url.searchParams, webhookParams(req)))
  )
  pub.get(`${GATHER_AUDIO_PREFIX}:clip`, async ({ res, params, url }) => {
    if (!signedAudio(url)) throw new CallbenchError('forbidden', 'Forbidden')
    const clip = /^([A-Za-z0-9_-]{8,64})\.wav$/.exec(params.clip ?? '')
    if (!clip) throw new CallbenchError('not_found', 'Not found')
    const audio = await service.clipAudio(clip[1]!)
    res.writeHead(200, {
      'content-type': 'audio/wav',
      'content-length': audio.length,
      'cache-control': 'private, max-age=300'
    })
    res.end(audio)
  })

  const unsubscribe = app.hub.subscribe((e) => {
    if (
      (e.type === 'call.updated' || e.type === 'call.ended') &&
      e.call.mode === 'gather' &&
      e.call.twilioStatus &&
      isTerminal(e.call.twilioStatus)
    ) {
      service.end(e.call.id)
    }
  })
  app.onStop(() => {
    unsubscribe()
    service.close()
  })
  return service
}
