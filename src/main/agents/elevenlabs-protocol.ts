/** ElevenLabs Agents WebSocket wire types (PROTOCOLS.md §5.2), with the provider's own field names. */
import type { AudioFormat } from '../audio/format.js'

/** Audio formats an agent may be set for (`user_input_audio_format`, `agent_output_audio_format`). */
export const CONVAI_AUDIO_FORMATS = [
  'pcm_8000',
  'pcm_16000',
  'pcm_22050',
  'pcm_24000',
  'pcm_44100',
  'pcm_48000',
  'ulaw_8000'
] as const
export type ConvaiAudioFormat = (typeof CONVAI_AUDIO_FORMATS)[number]

/** The format Twilio speaks; an agent set for it both ways is a pass-through. */
export const ULAW_8000: ConvaiAudioFormat = 'ulaw_8000'

/** Our format for a wire format name, or undefined when the bridge cannot convert it (22.05/44.1 kHz). */
export function audioFormatOf(name: string): AudioFormat | undefined {
  switch (name) {
    case 'ulaw_8000':
      return { encoding: 'pcmu', sampleRateHz: 8000 }
    case 'pcm_8000':
      return { encoding: 'pcm16', sampleRateHz: 8000 }
    case 'pcm_16000':
      return { encoding: 'pcm16', sampleRateHz: 16000 }
    case 'pcm_24000':
      return { encoding: 'pcm16', sampleRateHz: 24000 }
    case 'pcm_48000':
      return { encoding: 'pcm16', sampleRateHz: 48000 }
    default:
      return undefined
  }
}

// ---- client → server ----

export interface ConversationConfigOverride {
  agent?: {
    /** An object, not a string (§5.2). */
    prompt?: { prompt: string }
    first_message?: string
    language?: string
  }
  tts?: { voice_id?: string; stability?: number; similarity_boost?: number; speed?: number }
  conversation?: { text_only?: boolean }
}

export interface ConversationInitiationClientData {
  type: 'conversation_initiation_client_data'
  conversation_config_override?: ConversationConfigOverride
  dynamic_variables?: Record<string, string | number | boolean>
  user_id?: string
}

export interface PongMessage {
  type: 'pong'
  event_id: number
}

export interface ClientToolResultMessage {
  type: 'client_tool_result'
  tool_call_id: string
  result: string
  is_error: boolean
}

export interface ContextualUpdateMessage {
  type: 'contextual_update'
  text: string
}

export interface UserMessage {
  type: 'user_message'
  text: string
}

/** `{"user_audio_chunk": "<base64>"}` has no `type` field; it is built as a string on the hot path. */
export type ClientMessage =
  | ConversationInitiationClientData
  | PongMessage
  | ClientToolResultMessage
  | ContextualUpdateMessage
  | UserMessage
  | { type: 'user_activity' }

// ---- server → client ----

export interface ConversationInitiationMetadataEvent {
  type: 'conversation_initiation_metadata'
  conversation_initiation_metadata_event: {
    conversation_id: string
    agent_output_audio_format: string
    user_input_audio_format: string
  }
}

export interface AudioEvent {
  type: 'audio'
  audio_event: {
    audio_base_64: string
    event_id: number
    alignment?: { chars: string[]; char_start_times_ms: number[]; char_durations_ms: number[] } | null
  }
}

export interface InterruptionEvent {
  type: 'interruption'
  interruption_event: { event_id: number }
}

export interface PingEvent {
  type: 'ping'
  ping_event: { event_id: number; ping_ms?: number | null }
}

export interface AgentResponseEvent {
  type: 'agent_response'
  agent_response_event: { agent_response: string; event_id?: number }
}

export interface AgentResponseCorrectionEvent {
  type: 'agent_response_correction'
  agent_response_correction_event: {
    original_agent_response: string
    corrected_agent_response: string
    event_id?: number
  }
}

export interface UserTranscriptEvent {
  type: 'user_transcript'
  user_transcription_event: { user_transcript: string; event_id?: number }
}

export interface TentativeUserTranscriptEvent {
  type: 'tentative_user_transcript'
  tentative_user_transcription_event: { user_transcript: string; event_id?: number }
}

export interface ClientToolCallEvent {
  type: 'client_tool_call'
  client_tool_call: {
    tool_name: string
    tool_call_id: string
    parameters?: Record<string, unknown>
    event_id?: number
  }
}

export interface ErrorEvent {
  type: 'error'
  error_event?: { code?: number; message?: string; error_type?: string; reason?: string }
}

/** Everything else we do not act on (vad_score, agent_tool_response, …). */
export interface OtherEvent {
  type: string
}

export type ServerMessage =
  | ConversationInitiationMetadataEvent
  | AudioEvent
  | InterruptionEvent
  | PingEvent
  | AgentResponseEvent
  | AgentResponseCorrectionEvent
  | UserTranscriptEvent
  | TentativeUserTranscriptEvent
  | ClientToolCallEvent
  | ErrorEvent

/** Parses one server frame; undefined when it is not a JSON object with a string `type`. */
export function parseServerMessage(text: string): ServerMessage | OtherEvent | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    return undefined
  }
  return value as ServerMessage | OtherEvent
}

/** The name of the client tool that ends the call. */
export const END_CALL_TOOL = 'end_call'
