/** OpenAI Realtime (GA) wire protocol: URL, the `openai` package's event types, and the client events we build (PROTOCOLS.md §4). */
import type {
  ConversationItemCreateEvent,
  ConversationItemTruncateEvent,
  RealtimeAudioInputTurnDetection,
  RealtimeClientEvent,
  RealtimeError,
  RealtimeFunctionTool,
  RealtimeResponseUsage,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
  ResponseCancelEvent,
  ResponseCreateEvent,
  SessionUpdateEvent
} from 'openai/resources/realtime/realtime'
import type { Settings } from '../../shared/settings.js'

export type {
  ConversationItemCreateEvent,
  ConversationItemTruncateEvent,
  RealtimeClientEvent,
  RealtimeError,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
  ResponseCancelEvent,
  ResponseCreateEvent,
  SessionUpdateEvent
}

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1'
export const DEFAULT_REALTIME_MODEL = 'gpt-realtime'
export const DEFAULT_TRANSCRIPTION_MODEL = 'gpt-4o-mini-transcribe'
export const END_CALL_TOOL_NAME = 'end_call'

/** Our settings' turn detection (camelCase); mapped to the wire's snake_case in `buildSessionUpdate`. */
export type TurnDetectionSettings = Settings['openai']['turnDetection']

/**
 * `<base>/realtime?model=…` with the scheme mapped to WebSocket: `https:` → `wss:`, `http:` → `ws:`.
 * The SDK's own builder forces `wss:` (PROTOCOLS.md §4.9), which is why we build it ourselves.
 */
export function realtimeUrl(baseUrl: string, model: string): string {
  const url = new URL(baseUrl)
  if (url.protocol === 'https:') url.protocol = 'wss:'
  else if (url.protocol === 'http:') url.protocol = 'ws:'
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new TypeError(`Unsupported OpenAI base URL scheme '${url.protocol}'`)
  url.pathname += url.pathname.endsWith('/') ? 'realtime' : '/realtime'
  url.search = ''
  url.searchParams.set('model', model)
  return url.toString()
}

/** The built-in tool the model calls to end the call after saying goodbye. */
export const END_CALL_TOOL = {
  type: 'function',
  name: END_CALL_TOOL_NAME,
  description:
    'End the phone call. Call this only after you have said goodbye, when the caller is done or asks to hang up.',
  parameters: {
    type: 'object',
    properties: { reason: { type: 'string', description: 'Why the call is ending, in a few words.' } },
    additionalProperties: false
  }
} as const satisfies RealtimeFunctionTool

export interface SessionConfig {
  model: string
  voice: string
  instructions: string
  turnDetection: TurnDetectionSettings
  transcriptionModel: string
  /** `text`: the model writes, someone else speaks (the hybrid engine, §4.8). Default `audio`. */
  outputModalities?: 'audio' | 'text'
}

export function turnDetectionToWire(td: TurnDetectionSettings): RealtimeAudioInputTurnDetection {
  // The server creates the reply at end of turn and cancels its own reply when the caller starts speaking.
  if (td.type === 'semantic_vad') {
    return { type: 'semantic_vad', eagerness: td.eagerness, create_response: true, interrupt_response: true }
  }
  return {
    type: 'server_vad',
    threshold: td.threshold,
    prefix_padding_ms: td.prefixPaddingMs,
    silence_duration_ms: td.silenceMs,
    create_response: true,
    interrupt_response: true
  }
}

/** `session.update` for a phone call: μ-law both ways, so Twilio payloads pass through untouched. */
export function buildSessionUpdate(cfg: SessionConfig): SessionUpdateEvent {
  const session: RealtimeSessionCreateRequest = {
    type: 'realtime',
    model: cfg.model,
    instructions: cfg.instructions,
    output_modalities: [cfg.outputModalities ?? 'audio'],
    audio: {
      input: {
        format: { type: 'audio/pcmu' },
        transcription: { model: cfg.transcriptionModel },
        turn_detection: turnDetectionToWire(cfg.turnDetection)
      },
      output: { format: { type: 'audio/pcmu' }, voice: cfg.voice }
    },
    tools: [END_CALL_TOOL],
    tool_choice: 'auto'
  }
  return { type: 'session.update', session }
}

const APPEND_HEAD = '{"type":"input_audio_buffer.append","audio":"'
const APPEND_TAIL = '"}'

/**
 * `input_audio_buffer.append` as JSON text in a Buffer (pure ASCII, so latin1 is UTF-8), built without an
 * intermediate object (per caller piece). ws masks a Buffer into one copy with the frame header, written at once;
 * a string it encodes, masks in place and writes after the header in a second buffer. Send it as a text frame.
 */
export function appendAudioJson(audio: Uint8Array): Buffer {
  const b64 = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength).toString('base64')
  const out = Buffer.allocUnsafe(APPEND_HEAD.length + b64.length + APPEND_TAIL.length)
  let at = out.write(APPEND_HEAD, 0, 'latin1')
  at += out.write(b64, at, 'latin1')
  out.write(APPEND_TAIL, at, 'latin1')
  return out
}

export function buildTruncate(itemId: string, audioEndMs: number): ConversationItemTruncateEvent {
  return { type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs }
}

export function buildCancel(responseId?: string): ResponseCancelEvent {
  return responseId === undefined ? { type: 'response.cancel' } : { type: 'response.cancel', response_id: responseId }
}

export function buildResponseCreate(
  opts: { instructions?: string; toolChoice?: 'none' | 'auto' } = {}
): ResponseCreateEvent {
  if (opts.instructions === undefined && opts.toolChoice === undefined) return { type: 'response.create' }
  return {
    type: 'response.create',
    response: {
      ...(opts.instructions !== undefined ? { instructions: opts.instructions } : {}),
      ...(opts.toolChoice !== undefined ? { tool_choice: opts.toolChoice } : {})
    }
  }
}

/** A system message in the conversation (session wrap-up). */
export function buildSystemMessage(text: string): ConversationItemCreateEvent {
  return {
    type: 'conversation.item.create',
    item: { type: 'message', role: 'system', content: [{ type: 'input_text', text }] }
  }
}

export function buildFunctionOutput(callId: string, output: string): ConversationItemCreateEvent {
  return { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } }
}

/** Parses one server message; undefined when it is not a JSON object with a string `type`. */
export function parseServerEvent(text: string): RealtimeServerEvent | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string')
    return undefined
  // The wire contract is the SDK's union; handlers check the fields they read.
  return value as RealtimeServerEvent
}

/**
 * Errors that only say a race was lost: cancelling a response the server already ended (it cancels its own
 * reply on `speech_started` when `interrupt_response` is on). livekit ignores the same ("Cancellation failed").
 */
export function isBenignError(err: RealtimeError): boolean {
  return err.code === 'response_cancel_not_active' || err.message.startsWith('Cancellation failed')
}

/**
 * A response's `usage` as cost usage keys (shared/cost.ts). Input token details count cached tokens within
 * audio and text, so those are taken out and counted apart. Without details (some services and fakes send only
 * totals) input counts as audio, as our sessions take the caller's audio, and output goes by the response's
 * modality.
 */
export function responseUsage(
  usage: RealtimeResponseUsage | undefined,
  outputModalities: ReadonlyArray<'text' | 'audio'> | undefined
): Record<string, number> | undefined {
  if (!usage) return undefined
  const inD = usage.input_token_details
  const outD = usage.output_token_details
  const cached = inD?.cached_tokens ?? 0
  let audioIn: number
  let textIn: number
  if (inD && (inD.audio_tokens !== undefined || inD.text_tokens !== undefined)) {
    const cachedAudio = inD.cached_tokens_details?.audio_tokens ?? 0
    const cachedText = inD.cached_tokens_details?.text_tokens ?? Math.max(0, cached - cachedAudio)
    audioIn = Math.max(0, (inD.audio_tokens ?? 0) - cachedAudio)
    textIn = Math.max(0, (inD.text_tokens ?? 0) - cachedText)
  } else {
    audioIn = Math.max(0, (usage.input_tokens ?? 0) - cached)
    textIn = 0
  }
  let audioOut: number
  let textOut: number
  if (outD && (outD.audio_tokens !== undefined || outD.text_tokens !== undefined)) {
    audioOut = outD.audio_tokens ?? 0
    textOut = outD.text_tokens ?? 0
  } else {
    const textOnly = outputModalities !== undefined && !outputModalities.includes('audio')
    audioOut = textOnly ? 0 : (usage.output_tokens ?? 0)
    textOut = textOnly ? (usage.output_tokens ?? 0) : 0
  }
  return {
    openaiAudioInTokens: audioIn,
    openaiTextInTokens: textIn,
    openaiCachedInTokens: cached,
    openaiAudioOutTokens: audioOut,
    openaiTextOutTokens: textOut
  }
}
