/** Starting an ElevenLabs conversation: agent id, signed URL, voice check, initiation data and the Agents WebSocket. */
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { CallbenchError } from '../../shared/errors.js'
import type { Settings } from '../../shared/settings.js'
import { fastTextFrames } from '../server/ws-fast-receive.js'
import { elevenLabsError, type ElevenLabsConnection } from '../speech/elevenlabs-client.js'
import type { CallContext } from './agent.js'
import {
  parseServerMessage,
  type ClientMessage,
  type ConversationConfigOverride,
  type ConversationInitiationClientData,
  type ConversationInitiationMetadataEvent,
  type ErrorEvent
} from './elevenlabs-protocol.js'

/** Validated voice ids, so a pre-warm does not look the same voice up call after call. */
const VOICE_OK_TTL_MS = 10 * 60_000
const validVoices = new Map<string, number>()
/** Agent ids ElevenLabs said do not exist, so `unavailable()` can say so before the next call. */
const unknownAgents = new Set<string>()

/** The agent id a call uses: the profile's (settings), else ELEVENLABS_AGENT_ID. */
export function agentIdFor(settings: Settings, config: (name: string) => string | undefined): string | undefined {
  return settings.elevenlabs.agentId || config('ELEVENLABS_AGENT_ID') || undefined
}

/** Whether ElevenLabs last said this agent does not exist. */
export function isUnknownAgent(agentId: string): boolean {
  return unknownAgents.has(agentId)
}

export async function signedUrlFor(conn: ElevenLabsConnection, agentId: string, signal: AbortSignal): Promise<string> {
  try {
    const res = await conn.client.conversationalAi.conversations.getSignedUrl({ agentId }, { abortSignal: signal })
    unknownAgents.delete(agentId)
    return res.signedUrl
  } catch (err) {
    const e = elevenLabsError(err, `agent '${agentId}'`, 'agentId')
    if (e.code === 'not_found') unknownAgents.add(agentId)
    throw e
  }
}

/** Fails with `not_found` (field voiceId) when the profile's voice does not exist; an empty id is the agent's own. */
export async function checkVoice(conn: ElevenLabsConnection, voiceId: string, signal: AbortSignal): Promise<void> {
  if (!voiceId) return
  const okUntil = validVoices.get(voiceId)
  if (okUntil !== undefined && okUntil > Date.now()) return
  try {
    await conn.client.voices.get(voiceId, undefined, { abortSignal: signal })
    validVoices.set(voiceId, Date.now() + VOICE_OK_TTL_MS)
  } catch (err) {
    throw elevenLabsError(err, `voice '${voiceId}'`, 'voiceId')
  }
}

/** `conversation_initiation_client_data` for a call: overrides from settings, call facts as dynamic variables. */
export function initiationFor(settings: Settings, call: CallContext): ConversationInitiationClientData {
  const el = settings.elevenlabs
  const override: ConversationConfigOverride = {}
  const agent: NonNullable<ConversationConfigOverride['agent']> = {}
  if (el.prompt) agent.prompt = { prompt: el.prompt }
  if (el.firstMessage) agent.first_message = el.firstMessage
  if (el.language) agent.language = el.language
  if (Object.keys(agent).length > 0) override.agent = agent
  const voice = settings.voice
  if (voice.voiceId) {
    override.tts = {
      voice_id: voice.voiceId,
      stability: voice.settings.stability,
      similarity_boost: voice.settings.similarityBoost,
      speed: voice.settings.speed
    }
  }
  const vars: Record<string, string> = { call_id: call.callId, call_direction: call.direction, call_mode: call.mode }
  if (call.callSid) vars.call_sid = call.callSid
  if (call.from) vars.caller_number = call.from
  if (call.to) vars.called_number = call.to
  for (const [k, v] of Object.entries(call.customParameters)) {
    if (k !== 'token' && k !== 'callId') vars[`param_${safeName(k)}`] = v
  }
  if (call.customer) {
    const lines: string[] = []
    for (const [k, v] of Object.entries(call.customer)) {
      vars[`customer_${safeName(k)}`] = v
      lines.push(`${k}: ${v}`)
    }
    vars.customer_context = lines.join('\n')
  }
  const msg: ConversationInitiationClientData = { type: 'conversation_initiation_client_data', dynamic_variables: vars }
  if (Object.keys(override).length > 0) msg.conversation_config_override = override
  return msg
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase()
}

/** An `error` event as our error. */
export function upstreamError(msg: ErrorEvent): CallbenchError {
  const e = msg.error_event ?? {}
  const detail = [e.error_type, e.message ?? e.reason].filter(Boolean).join(': ')
  return new CallbenchError(
    'upstream_failed',
    `ElevenLabs error${e.code ? ` ${e.code}` : ''}${detail ? `: ${detail.slice(0, 200)}` : ''}`
  )
}

/** What the agent does with the socket's traffic. */
export interface ConversationSocketHandlers {
  /** The metadata arrived; runs before the next frame of the same read. Throwing fails the start. */
  ready(meta: ConversationInitiationMetadataEvent): void
  /** A server event (JSON text): every one after the start, and pings during it. */
  message(text: string): void
  /** The socket failed after the start. */
  failed(err: CallbenchError): void
  /** The socket closed after the start. */
  closed(code: number): void
}

/** One conversation's Agents WebSocket, and when upstream was last heard from. */
export class ConversationSocket {
  /** `performance.now()` of the last frame or pong from upstream. */
  lastHeardMs = 0
  readonly #ws: WebSocket

  constructor(url: string, handshakeTimeoutMs: number) {
    this.#ws = new WebSocket(url, { handshakeTimeout: handshakeTimeoutMs, perMessageDeflate: false })
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN
  }

  /** Sends the initiation data first (§5.2) and resolves once the metadata is handled; `signal` aborts the wait. */
  start(
    initiation: ConversationInitiationClientData,
    signal: AbortSignal,
    handlers: ConversationSocketHandlers
  ): Promise<void> {
    const ws = this.#ws
    return new Promise((resolve, reject) => {
      let settled = false
      const settle = (err: Error | undefined) => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const onAbort = () => settle(new CallbenchError('upstream_closed', 'ElevenLabs connection aborted'))
      signal.addEventListener('abort', onAbort)
      ws.on('open', () => {
        fastTextFrames(ws)
        this.lastHeardMs = performance.now()
        this.send(initiation)
      })
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0
        settle(
          new CallbenchError('upstream_failed', `ElevenLabs refused the conversation socket (${status})`, {
            retryable: status >= 500
          })
        )
        ws.terminate()
      })
      ws.on('message', (data, isBinary) => {
        this.lastHeardMs = performance.now()
        if (isBinary) return
        const text = data.toString()
        if (!settled) {
          const msg = parseServerMessage(text)
          if (msg?.type === 'conversation_initiation_metadata') {
            // Ready before the next frame of this same read is handled (audio may follow at once).
            try {
              handlers.ready(msg as ConversationInitiationMetadataEvent)
              settle(undefined)
            } catch (err) {
              settle(err as Error)
            }
          } else if (msg?.type === 'error') settle(upstreamError(msg as ErrorEvent))
          else if (msg?.type === 'ping') handlers.message(text)
          return
        }
        handlers.message(text)
      })
      ws.on('pong', () => {
        this.lastHeardMs = performance.now()
      })
      ws.on('error', (err) => {
        if (!settled)
          settle(
            new CallbenchError('upstream_failed', 'ElevenLabs conversation socket failed', {
              cause: err,
              retryable: true
            })
          )
        else
          handlers.failed(
            new CallbenchError('upstream_closed', 'ElevenLabs conversation socket failed', {
              cause: err,
              retryable: true
            })
          )
      })
      ws.on('close', (code, reason) => {
        if (!settled) {
          settle(
            new CallbenchError(
              'upstream_closed',
              `ElevenLabs closed the conversation before it started (${code} ${reason.toString().slice(0, 80)})`
            )
          )
          return
        }
        handlers.closed(code)
      })
    })
  }

  send(msg: ClientMessage): void {
    if (this.isOpen) this.#ws.send(JSON.stringify(msg))
  }

  /** Sends pre-serialized JSON (audio and pongs, built without an object per frame). */
  sendText(text: string): void {
    if (this.isOpen) this.#ws.send(text)
  }

  ping(): void {
    this.#ws.ping()
  }

  terminate(): void {
    this.#ws.terminate()
  }

  /** Closes normally when open (terminating after 1 s without the close handshake), else terminates. */
  async close(graceful: boolean): Promise<void> {
    const ws = this.#ws
    if (!graceful || ws.readyState !== WebSocket.OPEN) {
      ws.terminate()
      return
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate()
        resolve()
      }, 1_000)
      t.unref()
      ws.once('close', () => {
        clearTimeout(t)
        resolve()
      })
      ws.close(1000, 'call ended')
    })
  }
}
