/** The TwiML Gather fallback: Twilio transcribes the caller, our action URL asks the LLM, the reply plays as ElevenLabs audio or `<Say>`. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type OpenAI from 'openai'
import twilio from 'twilio'
import { CallbenchError } from '../../shared/errors.js'
import type { Settings } from '../../shared/settings.js'
import type { EventHub } from '../events/hub.js'
import type { Logger } from '../log.js'
import type { ElevenLabsConnection } from '../speech/elevenlabs-client.js'
import { DEFAULT_VOICE_ID, streamSpeech, wrapWav } from '../speech/elevenlabs-tts.js'
import { ChatConversation } from '../speech/llm.js'
import { TextChunker } from '../speech/text-chunker.js'

/** Path of the action URL Twilio posts each Gather result to. */
export const GATHER_PATH = '/twilio/gather'
/** Prefix of the reply audio URLs Twilio fetches for `<Play>`. */
export const GATHER_AUDIO_PREFIX = '/twilio/gather/audio/'

/** How long a signed audio URL stays valid, s: Twilio fetches it moments after our TwiML. */
const AUDIO_URL_TTL_S = 300
/** Clips kept at once (across calls); the oldest go first. */
const MAX_CLIPS = 500
/** Longest wait for a clip still being synthesised when Twilio asks for it, ms. */
const CLIP_WAIT_MS = 15_000
/** Conversations idle longer than this are forgotten, ms. */
const IDLE_CONVERSATION_MS = 30 * 60_000
/** Empty results in a row before we say goodbye. */
const MAX_SILENT_TURNS = 3

const NOT_HEARD = "Sorry, I didn't catch that. Could you say it again?"
const GOODBYE = "I can't hear you, so I'll hang up now. Goodbye."
const UNAVAILABLE = 'Sorry, the agent is not available right now. Goodbye.'

/** Short-lived signed URLs for the public listener: HMAC-SHA256 over path and expiry with a per-launch secret. */
export class AudioUrlSigner {
  readonly #secret: Buffer

  constructor(secret: Buffer = randomBytes(32)) {
    this.#secret = secret
  }

  /** The query string (`exp`, `sig`) that makes `path` fetchable until `nowS + ttlS`. */
  sign(path: string, ttlS = AUDIO_URL_TTL_S, nowS = Math.floor(Date.now() / 1000)): string {
    const exp = nowS + ttlS
    return `exp=${exp}&sig=${this.#mac(path, exp)}`
  }

  /** True for an unexpired signature made by this launch over exactly this path. */
  verify(path: string, exp: string | null, sig: string | null, nowS = Math.floor(Date.now() / 1000)): boolean {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return false
    const expS = Number(exp)
    if (expS < nowS) return false
    const want = Buffer.from(this.#mac(path, expS))
    const got = Buffer.from(sig)
    return got.length === want.length && timingSafeEqual(got, want)
  }

  #mac(path: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${path}\n${exp}`).digest('base64url')
  }
}

/** What a Gather TwiML document plays while it listens. */
export type GatherPrompt = { play: string } | { say: string }

export interface GatherTwimlOptions {
  actionUrl: string
  /** Seconds of silence that end the caller's speech; 0 = Twilio's `auto`. */
  speechTimeoutS: number
  language: string
  prompts: GatherPrompt[]
}

/** `<Gather input="speech">` around the prompts; the action is called even when nothing was said. */
export function gatherTwiml(opts: GatherTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse()
  const gather = response.gather({
    input: ['speech'],
    action: opts.actionUrl,
    method: 'POST',
    speechTimeout: opts.speechTimeoutS > 0 ? String(opts.speechTimeoutS) : 'auto',
    language: opts.language as NonNullable<Parameters<typeof response.gather>[0]>['language'],
    actionOnEmptyResult: true
  })
  for (const p of opts.prompts) {
    if ('play' in p) gather.play(p.play)
    else gather.say(p.say)
  }
  return response.toString()
}

function sayAndHangup(prompts: GatherPrompt[]): string {
  const response = new twilio.twiml.VoiceResponse()
  for (const p of prompts) {
    if ('play' in p) response.play(p.play)
    else response.say(p.say)
  }
  response.hangup()
  return response.toString()
}

interface Clip {
  audio: Promise<Buffer>
  createdAtMs: number
}

interface GatherConversation {
  callId: string
  chat: ChatConversation
  settings: Settings
  startedAtMs: number
  lastActiveAtMs: number
  silentTurns: number
  turns: number
}

/** A call as the Gather service needs it (telephony's tracked call fits). */
export interface GatherCall {
  id: string
}

export interface GatherServiceOptions {
  /** Settings for a call, its profile and overrides applied. */
  settingsFor: (callId: string) => Promise<Settings>
  /** The chat model client; rejects `not_configured` without a key. */
  openai: () => Promise<OpenAI>
  /** ElevenLabs, or undefined when there is no key (replies are then `<Say>`). */
  elevenlabs: () => Promise<ElevenLabsConnection | undefined>
  /** The public base URL Twilio reaches us at. */
  publicBase: () => string
  hub: EventHub
  log: Logger
  signer?: AudioUrlSigner
}

/** Runs Gather calls: the first TwiML, each action turn, and the reply audio. */
export class GatherService {
  readonly signer: AudioUrlSigner
  readonly #opts: GatherServiceOptions
  readonly #log: Logger
  readonly #conversations = new Map<string, GatherConversation>()
  readonly #clips = new Map<string, Clip>()

  constructor(opts: GatherServiceOptions) {
    this.#opts = opts
    this.#log = opts.log.child({ component: 'gather' })
    this.signer = opts.signer ?? new AudioUrlSigner()
  }

  /** The voice webhook's answer for a Gather call: the greeting (if any) inside the first Gather. */
  async answer(call: GatherCall): Promise<string> {
    let conv: GatherConversation
    try {
      conv = await this.#conversation(call.id)
    } catch (err) {
      this.#log.warn('gather call cannot start', { callId: call.id, code: (err as CallbenchError).code })
      return sayAndHangup([{ say: UNAVAILABLE }])
    }
    this.#timeline(conv, 'gather.start', {})
    const greeting = conv.settings.openai.greeting
    const prompts = greeting ? await this.#speak(conv, [greeting]) : []
    if (greeting) {
      conv.chat.add('assistant', greeting)
      this.#transcript(conv, 'agent', greeting)
    }
    return this.#listen(conv, prompts)
  }

  /** `/twilio/gather`: one caller turn from Twilio's recognizer → the reply, then listen again. */
  async onAction(query: URLSearchParams, form: Record<string, string>): Promise<string> {
    const callId = query.get('callId')
    if (!callId) return sayAndHangup([])
    let conv: GatherConversation
    try {
      conv = await this.#conversation(callId)
    } catch {
      return sayAndHangup([{ say: UNAVAILABLE }])
    }
    conv.lastActiveAtMs = Date.now()
    const text = (form.SpeechResult ?? '').trim()
    const confidence = form.Confidence === undefined || form.Confidence === '' ? 1 : Number(form.Confidence)
    if (!text) {
      conv.silentTurns++
      this.#timeline(conv, 'gather.empty', { silentTurns: conv.silentTurns })
      if (conv.silentTurns >= MAX_SILENT_TURNS) {
        this.#forget(conv)
        return sayAndHangup(await this.#speak(conv, [GOODBYE]))
      }
      return this.#listen(conv, [])
    }
    conv.silentTurns = 0
    const g = conv.settings.gather
    if (!(confidence >= g.minConfidence)) {
      this.#timeline(conv, 'gather.low_confidence', { confidence, minConfidence: g.minConfidence })
      return this.#listen(conv, await this.#speak(conv, [NOT_HEARD]))
    }
    this.#transcript(conv, 'caller', text)
    conv.chat.add('user', text)
    const turn = ++conv.turns
    const startedAtMs = performance.now()
    let firstTokenMs: number | undefined
    const chunker = new TextChunker()
    const pieces: string[] = []
    const prompts: Array<Promise<GatherPrompt[]>> = []
    let reply = ''
    try {
      // Each piece starts its synthesis while the model is still writing the rest.
      for await (const delta of conv.chat.stream(AbortSignal.timeout(12_000))) {
        firstTokenMs ??= performance.now() - startedAtMs
        reply += delta
        for (const piece of chunker.push(delta)) {
          pieces.push(piece)
          prompts.push(this.#speak(conv, [piece]))
        }
      }
      const rest = chunker.flush()
      if (rest) {
        pieces.push(rest)
        prompts.push(this.#speak(conv, [rest]))
      }
    } catch (err) {
      const e =
        err instanceof CallbenchError ? err : new CallbenchError('upstream_failed', 'LLM failed', { cause: err })
      this.#log.warn('gather reply failed', { callId: conv.callId, code: e.code })
      this.#timeline(conv, 'engine.error', { code: e.code, message: e.message })
      return this.#listen(conv, await this.#speak(conv, ['Sorry, something went wrong. Please say that again.']))
    }
    if (!reply.trim()) return this.#listen(conv, [])
    conv.chat.add('assistant', reply.trim())
    this.#transcript(conv, 'agent', reply.trim())
    this.#timeline(conv, 'gather.turn', {
      turn,
      confidence,
      pieces: pieces.length,
      ...(firstTokenMs !== undefined ? { llmFirstTokenMs: Math.round(firstTokenMs) } : {}),
      llmMs: Math.round(performance.now() - startedAtMs)
    })
    return this.#listen(conv, (await Promise.all(prompts)).flat())
  }

  /** The audio of a clip, once synthesised; `not_found` for an unknown, expired or failed clip. */
  async clipAudio(clipId: string): Promise<Buffer> {
    const clip = this.#clips.get(clipId)
    if (!clip) throw new CallbenchError('not_found', 'No such clip')
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        clip.audio,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new CallbenchError('upstream_timeout', 'Clip not ready in time')),
            CLIP_WAIT_MS
          )
        })
      ])
    } catch (err) {
      throw err instanceof CallbenchError && err.code === 'upstream_timeout'
        ? err
        : new CallbenchError('not_found', 'Clip could not be made', { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  /** The call is over (Twilio status callback): its conversation goes. */
  end(callId: string): void {
    const conv = this.#conversations.get(callId)
    if (conv) this.#forget(conv)
  }

  close(): void {
    this.#conversations.clear()
    this.#clips.clear()
  }

  #listen(conv: GatherConversation, prompts: GatherPrompt[]): string {
    const g = conv.settings.gather
    return gatherTwiml({
      actionUrl: `${this.#base()}${GATHER_PATH}?callId=${encodeURIComponent(conv.callId)}`,
      speechTimeoutS: g.speechTimeoutS,
      language: g.language,
      prompts
    })
  }

  /** ElevenLabs audio behind signed URLs (synthesis starts now, Twilio fetches it after our answer), else `<Say>`. */
  async #speak(conv: GatherConversation, texts: string[]): Promise<GatherPrompt[]> {
    let conn: ElevenLabsConnection | undefined
    try {
      conn = await this.#opts.elevenlabs()
    } catch {
      conn = undefined
    }
    if (!conn) return texts.map((say) => ({ say }))
    const voice = conv.settings.voice
    return texts.map((text) => {
      const id = randomBytes(12).toString('base64url')
      const audio = (async () => {
        const parts: Uint8Array[] = []
        const stream = await streamSpeech(conn, {
          voiceId: voice.voiceId || DEFAULT_VOICE_ID,
          text,
          outputFormat: 'ulaw_8000',
          voiceSettings: voice.settings
        })
        for await (const chunk of stream) parts.push(chunk)
        return wrapWav(Buffer.concat(parts), { encoding: 'pcmu', sampleRateHz: 8000 })
      })()
      audio.catch((err: unknown) =>
        this.#log.warn('gather clip failed', { callId: conv.callId, code: (err as CallbenchError).code })
      )
      this.#addClip(id, { audio, createdAtMs: Date.now() })
      const path = `${GATHER_AUDIO_PREFIX}${id}.wav`
      return { play: `${this.#base()}${path}?${this.signer.sign(path)}` }
    })
  }

  #addClip(id: string, clip: Clip): void {
    this.#clips.set(id, clip)
    const cutoffMs = Date.now() - AUDIO_URL_TTL_S * 1000
    for (const [k, c] of this.#clips) {
      if (this.#clips.size <= MAX_CLIPS && c.createdAtMs >= cutoffMs) break
      this.#clips.delete(k)
    }
  }

  async #conversation(callId: string): Promise<GatherConversation> {
    const existing = this.#conversations.get(callId)
    if (existing) return existing
    const settings = await this.#opts.settingsFor(callId)
    const client = await this.#opts.openai()
    const s = settings.openai
    const conv: GatherConversation = {
      callId,
      // Phone replies: short, and spoken as plain sentences.
      chat: new ChatConversation(client, {
        model: s.llmModel,
        instructions: s.instructions,
        temperature: s.temperature,
        maxTokens: 200
      }),
      settings,
      startedAtMs: Date.now(),
      lastActiveAtMs: Date.now(),
      silentTurns: 0,
      turns: 0
    }
    this.#conversations.set(callId, conv)
    this.#prune()
    return conv
  }

  #prune(): void {
    const cutoff = Date.now() - IDLE_CONVERSATION_MS
    for (const c of this.#conversations.values()) if (c.lastActiveAtMs < cutoff) this.#conversations.delete(c.callId)
  }

  #forget(conv: GatherConversation): void {
    this.#conversations.delete(conv.callId)
  }

  #base(): string {
    return this.#opts.publicBase().replace(/\/+$/, '')
  }

  #transcript(conv: GatherConversation, role: 'caller' | 'agent', text: string): void {
    this.#opts.hub.publish({
      type: 'call.transcript',
      callId: conv.callId,
      atMs: Date.now() - conv.startedAtMs,
      role,
      text,
      final: true
    })
  }

  #timeline(conv: GatherConversation, kind: string, data: Record<string, unknown>): void {
    this.#opts.hub.publish({
      type: 'call.timeline',
      callId: conv.callId,
      entry: { atMs: Date.now() - conv.startedAtMs, kind, data }
    })
  }
}
