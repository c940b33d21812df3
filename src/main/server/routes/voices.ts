/** Voices, synthesis, ElevenLabs agents, and speaking into a live call (REST and the events-socket commands). */
import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import { CallbenchError } from '../../../shared/errors.js'
import type { VoiceSettings } from '../../../shared/settings.js'
import {
  CallContextRequestSchema,
  CallVoiceRequestSchema,
  ElevenLabsAgentUpsertSchema,
  SayRequestSchema,
  SynthesizeRequestSchema,
  VoicePreviewRequestSchema,
  type CallVoice,
  type CallVoiceRequest,
  type LiveCallView,
  type SayRequest,
  type SayResult,
  type Voice,
  type VoiceList,
  type VoiceSettingsPatch,
  type VoiceValidation
} from '../../../shared/voices.js'
import type { ElevenLabs } from '@elevenlabs/elevenlabs-js'
import type { App } from '../../app.js'
import type { CallSession } from '../../calls/call-session.js'
import { checkAgent, upsertAgent } from '../../agents/elevenlabs-admin.js'
import { elevenLabsError, elevenLabsFrom, hasElevenLabsKey } from '../../speech/elevenlabs-client.js'
import { DEFAULT_VOICE_ID, streamSpeech, synthesize, wrapWav } from '../../speech/elevenlabs-tts.js'
import { parseWith, readJson, sendJson } from '../http.js'

/** How long the voice list is served from memory. */
const VOICES_TTL_MS = 10 * 60_000
const PREVIEW_TEXT = 'Hello! This is how I sound on a phone call. How can I help you today?'
const TWILIO_FRAME_BYTES = 160
const ULAW_SILENCE = 0xff

/** An operator `say` being streamed into a call. */
interface Speaking {
  replyId: string
  abort: AbortController
}

/** State of the voice features for one app. */
export class VoiceFeature {
  readonly #app: App
  #voices: { key: string; list: VoiceList; atMs: number } | undefined
  /** Per-call voice chosen with `voice`/`update_voice`, for the rest of that call. */
  readonly #callVoices = new Map<string, CallVoice>()
  readonly #speaking = new Map<string, Set<Speaking>>()
  #seq = 0

  constructor(app: App) {
    this.#app = app
  }

  /** Forgets a call's state once it has ended. */
  callEnded(callId: string): void {
    this.#callVoices.delete(callId)
    for (const s of this.#speaking.get(callId) ?? []) s.abort.abort()
    this.#speaking.delete(callId)
  }

  async voices(refresh: boolean): Promise<VoiceList> {
    const conn = await elevenLabsFrom(this.#app)
    const key = `${conn.baseUrl}\n${conn.apiKey}`
    const cached = this.#voices
    if (!refresh && cached && cached.key === key && Date.now() - cached.atMs < VOICES_TTL_MS) return cached.list
    let res: ElevenLabs.GetVoicesResponse
    try {
      res = await conn.client.voices.getAll()
    } catch (err) {
      throw elevenLabsError(err, 'the voice list')
    }
    const list: VoiceList = { voices: res.voices.map(voiceView), fetchedAt: new Date().toISOString() }
    this.#voices = { key, list, atMs: Date.now() }
    return list
  }

  async validate(voiceId: string): Promise<VoiceValidation> {
    const conn = await elevenLabsFrom(this.#app)
    try {
      return { valid: true, voice: voiceView(await conn.client.voices.get(voiceId)) }
    } catch (err) {
      const e = elevenLabsError(err, `voice '${voiceId}'`, 'voiceId')
      if (e.code === 'not_found') return { valid: false, message: e.message }
      throw e
    }
  }

  /** Speaks `text` into a live call: ElevenLabs TTS when a key is set, else the engine's own voice if it can. */
  async say(callId: string, req: SayRequest): Promise<SayResult> {
    const session = this.#live(callId)
    if (!(await hasElevenLabsKey(this.#app))) {
      if (!session.agent.capabilities.canSay) {
        throw new CallbenchError('not_configured', `Set an ElevenLabs API key to speak into this call: its engine (${session.mode}) cannot speak text itself`)
      }
      const replyId = `say-${++this.#seq}`
      await session.agent.say(req.text)
      this.#operatorLine(session, req.text, replyId, 'agent')
      return { replyId, via: 'agent' }
    }
    const voice = this.#voiceFor(session.id, req.voiceId, req.voiceSettings)
    const conn = await elevenLabsFrom(this.#app)
    const speaking: Speaking = { replyId: `say-${++this.#seq}`, abort: new AbortController() }
    const audio = await streamSpeech(conn, {
      voiceId: voice.voiceId,
      text: req.text,
      outputFormat: 'ulaw_8000',
      voiceSettings: voice.voiceSettings,
      signal: speaking.abort.signal
    })
    let set = this.#speaking.get(session.id)
    if (!set) this.#speaking.set(session.id, (set = new Set()))
    set.add(speaking)
    this.#operatorLine(session, req.text, speaking.replyId, 'elevenlabs')
    void this.#pump(session, speaking, audio).finally(() => set.delete(speaking))
    return { replyId: speaking.replyId, via: 'elevenlabs', voiceId: voice.voiceId }
  }

  /** Silences the call now: Twilio clear, the engine's speech cancelled, every `say` stream aborted. */
  stop(callId: string): { stopped: number } {
    const session = this.#live(callId)
    const set = this.#speaking.get(callId)
    const stopped = set?.size ?? 0
    for (const s of set ?? []) s.abort.abort()
    set?.clear()
    session.stopPlayback('operator_stop')
    return { stopped }
  }

  async updateVoice(callId: string, req: CallVoiceRequest): Promise<CallVoice> {
    const session = this.#live(callId)
    if (req.voiceId && (await hasElevenLabsKey(this.#app))) {
      const check = await this.validate(req.voiceId)
      if (!check.valid) throw new CallbenchError('not_found', check.message ?? `ElevenLabs voice '${req.voiceId}' not found`, { field: 'voiceId' })
    }
    const voice = this.#voiceFor(callId, req.voiceId, req.voiceSettings)
    this.#callVoices.set(callId, voice)
    this.#app.hub.publish({ type: 'call.timeline', callId, entry: { atMs: Math.round(session.clock()), kind: 'voice.changed', data: { voiceId: voice.voiceId } } })
    return voice
  }

  view(callId: string): LiveCallView {
    const session = this.#live(callId)
    return {
      call: session.summary(),
      voice: this.#voiceFor(callId, undefined, undefined),
      canSay: session.agent.capabilities.canSay,
      speaking: (this.#speaking.get(callId)?.size ?? 0) > 0
    }
  }

  context(callId: string, text: string): { sent: boolean } {
    const session = this.#live(callId)
    if (!session.agent.sendContext) throw new CallbenchError('unsupported', `The ${session.mode} engine takes no context`)
    session.agent.sendContext(text)
    return { sent: true }
  }

  async #pump(session: CallSession, speaking: Speaking, audio: AsyncIterable<Uint8Array>): Promise<void> {
    let bytes = 0
    try {
      for await (const chunk of audio) {
        if (speaking.abort.signal.aborted || session.state !== 'active') break
        session.playAudio(chunk, speaking.replyId)
        bytes += chunk.length
      }
      // Whole frames only: a partial last frame would wait in the bridge's framer for the next reply.
      const tail = bytes % TWILIO_FRAME_BYTES
      if (tail > 0 && !speaking.abort.signal.aborted && session.state === 'active') {
        session.playAudio(new Uint8Array(TWILIO_FRAME_BYTES - tail).fill(ULAW_SILENCE), speaking.replyId)
      }
    } catch (err) {
      if (speaking.abort.signal.aborted) return
      const e = err instanceof CallbenchError ? err : elevenLabsError(err, 'speech')
      this.#app.log.warn('say stream failed', { callId: session.id, code: e.code })
      this.#app.hub.publish({
        type: 'call.timeline',
        callId: session.id,
        entry: { atMs: Math.round(session.clock()), kind: 'say.failed', data: { replyId: speaking.replyId, code: e.code } }
      })
    }
  }

  #operatorLine(session: CallSession, text: string, replyId: string, via: SayResult['via']): void {
    const atMs = Math.round(session.clock())
    this.#app.hub.publish({ type: 'call.transcript', callId: session.id, atMs, role: 'operator', text, final: true })
    this.#app.hub.publish({ type: 'call.timeline', callId: session.id, entry: { atMs, kind: 'say', data: { replyId, via } } })
  }

  /** The voice for `say` on a call: the request's, else the call's chosen one, else the settings'. */
  #voiceFor(callId: string, voiceId: string | undefined, patch: VoiceSettingsPatch | undefined): CallVoice {
    const base = this.#callVoices.get(callId) ?? {
      voiceId: this.#app.settings.get().voice.voiceId || DEFAULT_VOICE_ID,
      voiceSettings: this.#app.settings.get().voice.settings
    }
    return { voiceId: voiceId ?? base.voiceId, voiceSettings: mergeSettings(base.voiceSettings, patch) }
  }

  #live(callId: string): CallSession {
    const session = this.#app.calls.get(callId)
    if (!session) throw new CallbenchError('call_not_found', `No live call '${callId}'`)
    if (session.state !== 'active') throw new CallbenchError('call_ended', `Call '${callId}' is ending`)
    return session
  }
}

export function registerVoices(app: App): VoiceFeature {
  const feature = new VoiceFeature(app)
  const r = app.controlListener.router
  app.calls.on('ended', (s) => feature.callEnded(s.id))

  r.get('/api/voices', async ({ res, url }) => {
    const refresh = ['1', 'true'].includes(url.searchParams.get('refresh') ?? '')
    sendJson(res, 200, await feature.voices(refresh))
  })
  r.get('/api/voices/:id/validate', async ({ res, params }) => sendJson(res, 200, await feature.validate(params.id!)))
  r.post('/api/voices/:id/preview', async ({ req, res, params }) => {
    const body = parseWith(VoicePreviewRequestSchema, await readJson(req))
    const conn = await elevenLabsFrom(app)
    const audio = await synthesize(conn, {
      voiceId: params.id!,
      text: body.text ?? PREVIEW_TEXT,
      outputFormat: 'mp3_44100_128',
      voiceSettings: mergeSettings(app.settings.get().voice.settings, body.voiceSettings)
    })
    sendAudio(res, 'audio/mpeg', audio)
  })
  r.post('/api/synthesize', async ({ req, res }) => {
    const body = parseWith(SynthesizeRequestSchema, await readJson(req))
    const conn = await elevenLabsFrom(app)
    const voiceSettings = mergeSettings(app.settings.get().voice.settings, body.voiceSettings)
    if (body.format === 'mp3') {
      sendAudio(res, 'audio/mpeg', await synthesize(conn, { voiceId: body.voiceId, text: body.text, outputFormat: 'mp3_44100_128', voiceSettings }))
      return
    }
    const ulaw = body.wavEncoding === 'ulaw'
    const raw = await synthesize(conn, { voiceId: body.voiceId, text: body.text, outputFormat: ulaw ? 'ulaw_8000' : 'pcm_16000', voiceSettings })
    sendAudio(res, 'audio/wav', wrapWav(raw, ulaw ? { encoding: 'pcmu', sampleRateHz: 8000 } : { encoding: 'pcm16', sampleRateHz: 16000 }))
  })

  r.post('/api/calls/:id/say', async ({ req, res, params }) => {
    sendJson(res, 200, await feature.say(params.id!, parseWith(SayRequestSchema, await readJson(req))))
  })
  r.post('/api/calls/:id/stop', ({ res, params }) => sendJson(res, 200, feature.stop(params.id!)))
  r.post('/api/calls/:id/voice', async ({ req, res, params }) => {
    sendJson(res, 200, await feature.updateVoice(params.id!, parseWith(CallVoiceRequestSchema, await readJson(req))))
  })
  r.post('/api/calls/:id/context', async ({ req, res, params }) => {
    sendJson(res, 200, feature.context(params.id!, parseWith(CallContextRequestSchema, await readJson(req)).text))
  })

  r.get('/api/elevenlabs/agents/:id/check', async ({ res, params }) => {
    sendJson(res, 200, await checkAgent(await elevenLabsFrom(app), params.id!))
  })
  r.post('/api/elevenlabs/agents', async ({ req, res }) => {
    const body = parseWith(ElevenLabsAgentUpsertSchema, await readJson(req))
    const result = await upsertAgent(await elevenLabsFrom(app), app.settings.get(), body.name)
    await app.settings.update({ elevenlabs: { ...app.settings.get().elevenlabs, agentId: result.agentId } })
    app.log.info('elevenlabs agent saved', { agentId: result.agentId, created: result.created })
    sendJson(res, 200, result)
  })

  const withCall = z.object({ callId: z.string().min(1) })
  app.commands.set('say', async (msg) => {
    const { callId } = parseWith(withCall, msg)
    return feature.say(callId, parseWith(SayRequestSchema, pick(msg, ['text', 'voiceId', 'voiceSettings'])))
  })
  app.commands.set('stop', async (msg) => feature.stop(parseWith(withCall, msg).callId))
  app.commands.set('update_voice', async (msg) => {
    const { callId } = parseWith(withCall, msg)
    return feature.updateVoice(callId, parseWith(CallVoiceRequestSchema, pick(msg, ['voiceId', 'voiceSettings'])))
  })
  app.commands.set('get_call', async (msg) => feature.view(parseWith(withCall, msg).callId))
  app.commands.set('context', async (msg) => {
    const { callId } = parseWith(withCall, msg)
    return feature.context(callId, parseWith(CallContextRequestSchema, pick(msg, ['text'])).text)
  })
  return feature
}

function voiceView(v: ElevenLabs.Voice): Voice {
  return {
    id: v.voiceId,
    name: v.name ?? v.voiceId,
    labels: v.labels ?? {},
    ...(v.category ? { category: v.category } : {}),
    ...(v.description ? { description: v.description } : {}),
    ...(v.previewUrl ? { previewUrl: v.previewUrl } : {})
  }
}

function mergeSettings(base: VoiceSettings, patch: VoiceSettingsPatch | undefined): VoiceSettings {
  return patch ? { ...base, ...patch } : base
}

function pick(msg: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of keys) if (msg[k] !== undefined) out[k] = msg[k]
  return out
}

function sendAudio(res: ServerResponse, contentType: string, audio: Uint8Array): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': audio.byteLength, 'cache-control': 'no-store' })
  res.end(audio)
}
