/** ElevenLabs server events after the start: one switch, one small handler per event type. */
import { CallbenchError } from '../../shared/errors.js'
import type { AgentEvents } from './agent.js'
import type { AgentAudio } from './elevenlabs-audio.js'
import { upstreamError } from './elevenlabs-connection.js'
import {
  END_CALL_TOOL,
  parseServerMessage,
  type AgentResponseCorrectionEvent,
  type AgentResponseEvent,
  type AudioEvent,
  type ClientMessage,
  type ClientToolCallEvent,
  type ErrorEvent,
  type InterruptionEvent,
  type PingEvent,
  type TentativeUserTranscriptEvent,
  type UserTranscriptEvent
} from './elevenlabs-protocol.js'

export interface ElevenLabsStats {
  audioIn: number
  audioOut: number
  audioDropped: number
  pings: number
  interruptions: number
}

/** Where the agent's current reply stands; read and written by the handlers and the agent. */
export interface ReplyState {
  /** Audio events at or below this id belong to an interrupted reply. */
  lastInterruptId: number
  seq: number
  /** The reply being played, undefined between replies. */
  id: string | undefined
  /** The console cancelled this reply: its remaining audio is dropped. */
  cancelled: boolean
  turnSeq: number
  /** Call clock at the caller's last end of turn, until the reply's first audio. */
  endOfTurnAtMs: number | undefined
}

export function newReplyState(): ReplyState {
  return { lastInterruptId: -1, seq: 0, id: undefined, cancelled: false, turnSeq: 0, endOfTurnAtMs: undefined }
}

/** What the handlers act on: the agent's state and outlets. */
export interface ConversationContext {
  readonly stats: ElevenLabsStats
  readonly reply: ReplyState
  readonly audio: AgentAudio
  /** The call's clock (ms), undefined before the call is known. */
  clock(): number | undefined
  /** Emits now, or holds until the session listens (a pre-warm). */
  emit<K extends keyof AgentEvents>(name: K, ...args: AgentEvents[K]): void
  send(msg: ClientMessage): void
  sendText(text: string): void
  /** Starts the reply's idle timer, or restarts it. */
  armIdle(): void
  /** Restarts the idle timer only if one was started. */
  refreshIdle(): void
  endReply(): void
  dropReply(): void
}

export function handleServerMessage(ctx: ConversationContext, text: string): void {
  const msg = parseServerMessage(text)
  if (!msg) {
    ctx.emit('error', new CallbenchError('invalid_message', 'ElevenLabs sent a frame that is not a JSON event'))
    return
  }
  switch (msg.type) {
    case 'ping':
      onPing(ctx, msg as PingEvent)
      break
    case 'audio':
      onAudio(ctx, msg as AudioEvent)
      break
    case 'interruption':
      onInterruption(ctx, msg as InterruptionEvent)
      break
    case 'agent_response':
      onAgentResponse(ctx, msg as AgentResponseEvent)
      break
    case 'agent_response_correction':
      onAgentResponseCorrection(ctx, msg as AgentResponseCorrectionEvent)
      break
    case 'user_transcript':
      onUserTranscript(ctx, msg as UserTranscriptEvent)
      break
    case 'tentative_user_transcript':
      onTentativeUserTranscript(ctx, msg as TentativeUserTranscriptEvent)
      break
    case 'client_tool_call':
      onClientToolCall(ctx, msg as ClientToolCallEvent)
      break
    case 'error':
      ctx.emit('error', upstreamError(msg as ErrorEvent))
      break
    default:
      break
  }
}

function onPing(ctx: ConversationContext, msg: PingEvent): void {
  ctx.stats.pings++
  ctx.sendText('{"type":"pong","event_id":' + msg.ping_event.event_id + '}')
}

function onAudio(ctx: ConversationContext, msg: AudioEvent): void {
  const ev = msg.audio_event
  const reply = ctx.reply
  if (ev.event_id <= reply.lastInterruptId || reply.cancelled) {
    ctx.stats.audioDropped++
    if (reply.cancelled) ctx.refreshIdle()
    return
  }
  const chunk = ctx.audio.fromAgent(Buffer.from(ev.audio_base_64, 'base64'))
  if (chunk.length === 0) return
  ctx.stats.audioOut++
  if (!reply.id) {
    reply.id = `el-${++reply.seq}`
    const endOfTurnAtMs = reply.endOfTurnAtMs
    if (endOfTurnAtMs !== undefined) {
      const nowMs = ctx.clock()
      if (nowMs !== undefined) {
        // Engine time from end of turn to its first audio, so the bridge's share is what remains (bridgeMs).
        ctx.emit('turn', { turn: ++reply.turnSeq, endOfTurnAtMs, ttsFirstByteMs: nowMs - endOfTurnAtMs })
        reply.endOfTurnAtMs = undefined
      }
    }
  }
  ctx.emit('audio', chunk, reply.id)
  ctx.armIdle()
}

function onInterruption(ctx: ConversationContext, msg: InterruptionEvent): void {
  const eventId = msg.interruption_event.event_id
  ctx.stats.interruptions++
  if (eventId > ctx.reply.lastInterruptId) ctx.reply.lastInterruptId = eventId
  // First: the bridge clears Twilio's buffer on this.
  ctx.emit('interrupt')
  ctx.dropReply()
  ctx.emit('event', 'elevenlabs.interruption', { eventId })
}

function onAgentResponse(ctx: ConversationContext, msg: AgentResponseEvent): void {
  ctx.emit('transcript', { role: 'agent', text: msg.agent_response_event.agent_response, final: true })
}

function onAgentResponseCorrection(ctx: ConversationContext, msg: AgentResponseCorrectionEvent): void {
  const e = msg.agent_response_correction_event
  ctx.emit('transcript', { role: 'agent', text: e.corrected_agent_response, final: true, correction: true })
}

function onUserTranscript(ctx: ConversationContext, msg: UserTranscriptEvent): void {
  ctx.endReply()
  ctx.reply.cancelled = false
  const nowMs = ctx.clock()
  if (nowMs !== undefined) ctx.reply.endOfTurnAtMs = nowMs
  ctx.emit('transcript', { role: 'caller', text: msg.user_transcription_event.user_transcript, final: true })
}

function onTentativeUserTranscript(ctx: ConversationContext, msg: TentativeUserTranscriptEvent): void {
  ctx.emit('transcript', { role: 'caller', text: msg.tentative_user_transcription_event.user_transcript, final: false })
}

function onClientToolCall(ctx: ConversationContext, msg: ClientToolCallEvent): void {
  const call = msg.client_tool_call
  ctx.emit('event', 'elevenlabs.tool_call', { tool: call.tool_name })
  if (call.tool_name === END_CALL_TOOL) {
    ctx.send({ type: 'client_tool_result', tool_call_id: call.tool_call_id, result: 'Call ended', is_error: false })
    ctx.endReply()
    ctx.emit('hangup', 'agent_end_call')
    return
  }
  ctx.send({
    type: 'client_tool_result',
    tool_call_id: call.tool_call_id,
    result: `Unknown tool '${call.tool_name}'`,
    is_error: true
  })
}
