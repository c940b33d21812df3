/** The conversation side of a Realtime session: replies, barge-in truncation, transcripts, end_call, turn metrics. */
import type { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { TurnMetrics } from '../../shared/calls.js'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import type { AgentEvents } from './agent.js'
import { PlaybackTracker } from './openai-realtime-playback.js'
import {
  END_CALL_TOOL_NAME,
  buildCancel,
  buildFunctionOutput,
  buildResponseCreate,
  buildSystemMessage,
  buildTruncate,
  isBenignError,
  responseUsage,
  type RealtimeClientEvent,
  type RealtimeServerEvent,
  type TurnDetectionSettings
} from './openai-realtime-protocol.js'

const WRAP_UP_TEXT =
  'The call reaches its time limit in under a minute. Wrap up now: conclude briefly, say goodbye, then call end_call.'
const GOODBYE_TEXT = 'Say a short goodbye to the caller.'
const KEEP_RESPONSES = 4

type Event<T extends RealtimeServerEvent['type']> = Extract<RealtimeServerEvent, { type: T }>

/**
 * Text-output sessions (the hybrid engine): the model writes and this speaks. Its text takes the place of
 * audio for turn metrics and end_call; barge-in tells it to stop, as it knows what is playing.
 */
export interface TextSpeaker {
  /** More text of reply `responseId` (one reply per response). */
  text(responseId: string, delta: string): void
  /** The reply's text is complete. */
  textDone(responseId: string): void
  /** Stop speaking now. On a barge-in the speaker emits `interrupt` if the caller was hearing it. */
  cut(bargeIn: boolean): void
  /** Whether the caller may still be hearing a reply (spoken, or queued to play). */
  speaking(): boolean
}

/** What the conversation needs from the agent that owns it. */
export interface ConversationHost {
  emit: EventEmitter<AgentEvents>['emit']
  emitError(err: CallbenchError): void
  send(ev: RealtimeClientEvent): void
  /** The call clock, ms. */
  clock(): number
  /** The call clock when the first caller audio was appended: where the service's audio clock starts. */
  audioOriginAtMs(): number | undefined
  /** A reply became due: watch for a stalled service. */
  replyDue(): void
  log: Logger
  /** Set for text-output sessions. */
  speaker?: TextSpeaker
}

interface ResponseState {
  id: string
  cut: boolean
  hadAudio: boolean
  endCall: boolean
  goodbye: boolean
  audioItemId: string | undefined
}

/** What we know of a turn from its end until the reply's first audio. */
interface TurnStart {
  callerStoppedAtMs?: number
  endOfTurnAtMs: number
  endOfSpeechWaitMs?: number
}

/**
 * Longest wait for the bridge's `cleared` before a truncation goes out uncorrected: a clear's round trip to Twilio is
 * well under it, and the service's own turn detection takes at least its silence window (500 ms) to answer.
 */
const TRUNCATE_WAIT_MS = 300

export class RealtimeConversation {
  readonly #host: ConversationHost
  readonly #turnDetection: TurnDetectionSettings
  readonly #playback: PlaybackTracker
  readonly #responses = new Map<string, ResponseState>()
  #active: ResponseState | undefined
  /** performance.now() since when a reply has been due and not yet created. */
  #dueSinceMs: number | undefined
  #turnStart: TurnStart | undefined
  #turns = 0
  #agentText = ''
  #agentTextItem: string | undefined
  #callerText = ''
  #callerTextItem: string | undefined
  #goodbyeDue = false
  /** A response asked for while another was still active: the service takes one at a time. */
  #queued: { instructions?: string; toolChoice?: 'none' } | undefined
  /** Replies cut and not yet truncated: what the caller had heard by our estimate, and how much was sent. */
  #truncates: Array<{ itemId: string; ms: number; fromMark: boolean; emittedMs: number }> = []
  #truncateTimer: NodeJS.Timeout | undefined
  #hungUp = false

  constructor(host: ConversationHost, turnDetection: TurnDetectionSettings, playbackClock: () => number) {
    this.#host = host
    this.#turnDetection = turnDetection
    this.#playback = new PlaybackTracker(playbackClock)
  }

  /** A reply is due or being generated: the service owes us events. */
  get awaitingReply(): boolean {
    return this.#dueSinceMs !== undefined || this.#active !== undefined
  }

  /** A reply is due, being generated or still playing: caller speech now may be a barge-in. */
  get agentAudioInPlay(): boolean {
    return this.awaitingReply || this.#playback.anyPlaying() || this.#host.speaker?.speaking() === true
  }

  get dueSinceMs(): number | undefined {
    return this.#dueSinceMs
  }

  handle(ev: RealtimeServerEvent): void {
    switch (ev.type) {
      case 'input_audio_buffer.speech_started':
        return this.#onSpeechStarted(ev)
      case 'input_audio_buffer.speech_stopped':
        return this.#onSpeechStopped(ev)
      case 'conversation.item.input_audio_transcription.delta':
        return this.#onCallerTranscript(ev.item_id, ev.delta ?? '', false)
      case 'conversation.item.input_audio_transcription.completed':
        this.#onTranscriptionUsage(ev)
        return this.#onCallerTranscript(ev.item_id, ev.transcript, true)
      case 'conversation.item.input_audio_transcription.failed':
        return this.#timeline('transcription.failed', { itemId: ev.item_id, code: ev.error.code })
      case 'response.created':
        return this.#onResponseCreated(ev)
      case 'response.output_audio.delta':
        return this.#onAudioDelta(ev)
      case 'response.output_audio.done':
        return this.#onAudioDone(ev)
      case 'response.output_audio_transcript.delta':
        return this.#onAgentTranscript(ev.response_id, ev.item_id, ev.delta, false)
      case 'response.output_audio_transcript.done':
        return this.#onAgentTranscript(ev.response_id, ev.item_id, ev.transcript, true)
      case 'response.output_text.delta':
        return this.#onTextDelta(ev)
      case 'response.output_text.done':
        return this.#onTextDone(ev)
      case 'response.function_call_arguments.done':
        return this.#onFunctionCall(ev)
      case 'response.done':
        return this.#onResponseDone(ev)
      case 'conversation.item.truncated':
        return this.#timeline('truncated', { itemId: ev.item_id, audioEndMs: ev.audio_end_ms })
      case 'error':
        return this.#onServerError(ev)
      default:
        return
    }
  }

  played(replyId: string, ms: number): void {
    this.#playback.played(replyId, ms)
  }

  /**
   * Stops what the caller is hearing. On a barge-in `interrupt` goes first (the bridge clears Twilio at once);
   * then the response is cancelled if still generating and each reply still playing is truncated at the heard
   * position, so the model's context holds only what the caller heard.
   */
  cut(bargeIn: boolean): void {
    const playing = this.#playback.playing()
    const heard = playing.map((r) => this.#playback.heard(r))
    if (bargeIn && playing.length > 0) this.#host.emit('interrupt')
    this.#host.speaker?.cut(bargeIn)
    const active = this.#active
    if (active && !active.cut) {
      active.cut = true
      this.#host.send(buildCancel(active.id))
      this.#timeline('cancel', { responseId: active.id, reason: bargeIn ? 'barge_in' : 'operator' })
    }
    for (let i = 0; i < playing.length; i++) {
      const r = playing[i]!
      this.#playback.cut(r)
      const resp = this.#responses.get(r.responseId)
      if (resp) resp.cut = true
      this.#truncates.push({ itemId: r.id, ...heard[i]!, emittedMs: r.emittedMs })
    }
    // The truncation waits for the bridge's `cleared` (the clear's round trip, added to a mark-based position), at
    // most TRUNCATE_WAIT_MS, and always goes out before anything that starts a response.
    if (this.#truncates.length > 0 && this.#truncateTimer === undefined) {
      this.#truncateTimer = setTimeout(() => this.flushTruncates(), TRUNCATE_WAIT_MS)
      this.#truncateTimer.unref()
    }
  }

  /** The bridge's clear came back after `roundTripMs`: truncate the cut replies where the caller stopped hearing them. */
  cleared(roundTripMs: number): void {
    this.flushTruncates(roundTripMs)
  }

  /** Sends the truncations still waiting; `roundTripMs` of the clear when known. */
  flushTruncates(roundTripMs?: number): void {
    clearTimeout(this.#truncateTimer)
    this.#truncateTimer = undefined
    const pending = this.#truncates
    if (pending.length === 0) return
    this.#truncates = []
    for (const t of pending) {
      const extraMs = t.fromMark && roundTripMs !== undefined ? Math.max(0, roundTripMs) : 0
      const audioEndMs = Math.floor(Math.min(t.emittedMs, t.ms + extraMs))
      this.#host.send(buildTruncate(t.itemId, audioEndMs))
      this.#timeline('truncate', {
        itemId: t.itemId,
        audioEndMs,
        emittedMs: t.emittedMs,
        ...(roundTripMs !== undefined ? { clearRoundTripMs: Math.round(roundTripMs) } : {})
      })
    }
  }

  /** Asks the model to speak; while a response is active (even one being cancelled), once it is done. */
  requestResponse(instructions?: string, toolChoice?: 'none'): void {
    const req = { ...(instructions !== undefined ? { instructions } : {}), ...(toolChoice ? { toolChoice } : {}) }
    if (this.#active) {
      this.#queued = req
      return
    }
    this.#turnStart ??= { endOfTurnAtMs: this.#host.clock() }
    this.flushTruncates()
    this.#host.send(buildResponseCreate(req))
    this.#due()
  }

  /** Near the session limit: tell the model to wrap up and let it speak (after its current reply, if any). */
  wrapUp(): void {
    if (this.#hungUp) return
    this.#timeline('session.wrap_up')
    this.#host.send(buildSystemMessage(WRAP_UP_TEXT))
    this.requestResponse()
  }

  hangup(reason: string): void {
    if (this.#hungUp) return
    this.#hungUp = true
    this.#host.emit('hangup', reason)
  }

  #onSpeechStarted(ev: Event<'input_audio_buffer.speech_started'>): void {
    this.#timeline('speech_started', { audioStartMs: ev.audio_start_ms })
    this.cut(true)
  }

  #onSpeechStopped(ev: Event<'input_audio_buffer.speech_stopped'>): void {
    const td = this.#turnDetection
    // audio_end_ms includes the server VAD's silence window (SDK docs), so the caller stopped that much earlier.
    const waitMs = td.type === 'server_vad' ? td.silenceMs : undefined
    const origin = this.#host.audioOriginAtMs()
    this.#turnStart = {
      endOfTurnAtMs: this.#host.clock(),
      ...(origin !== undefined ? { callerStoppedAtMs: origin + ev.audio_end_ms - (waitMs ?? 0) } : {}),
      ...(waitMs !== undefined ? { endOfSpeechWaitMs: waitMs } : {})
    }
    this.#timeline('speech_stopped', { audioEndMs: ev.audio_end_ms })
    // create_response is on: the service now owes us a reply.
    this.#due()
  }

  #onResponseCreated(ev: Event<'response.created'>): void {
    const id = ev.response.id
    if (!id) return
    const state: ResponseState = {
      id,
      cut: false,
      hadAudio: false,
      endCall: false,
      goodbye: this.#goodbyeDue,
      audioItemId: undefined
    }
    this.#goodbyeDue = false
    this.#responses.set(id, state)
    this.#active = state
    this.#dueSinceMs = undefined
    this.#timeline('response.created', { responseId: id })
    this.#host.replyDue()
  }

  #onAudioDelta(ev: Event<'response.output_audio.delta'>): void {
    const resp = this.#responses.get(ev.response_id)
    // Deltas of a response we cut are still in flight: the caller must not hear them.
    if (!resp || resp.cut || typeof ev.delta !== 'string') return
    const audio = Buffer.from(ev.delta, 'base64')
    if (audio.byteLength === 0) return
    if (!resp.hadAudio) {
      resp.hadAudio = true
      resp.audioItemId = ev.item_id
      this.#emitTurn()
    }
    this.#playback.emitted(ev.item_id, resp.id, audio.byteLength)
    this.#host.emit('audio', audio, ev.item_id)
  }

  /** Text-output sessions: the text goes to the speaker and to the transcript; its first delta opens the turn. */
  #onTextDelta(ev: Event<'response.output_text.delta'>): void {
    const resp = this.#responses.get(ev.response_id)
    if (!resp || resp.cut || !ev.delta) return
    if (!resp.hadAudio) {
      resp.hadAudio = true
      resp.audioItemId = ev.item_id
      this.#emitTurn()
    }
    this.#host.speaker?.text(resp.id, ev.delta)
    this.#onAgentTranscript(ev.response_id, ev.item_id, ev.delta, false)
  }

  #onTextDone(ev: Event<'response.output_text.done'>): void {
    const resp = this.#responses.get(ev.response_id)
    if (!resp || resp.cut) return
    this.#host.speaker?.textDone(resp.id)
    this.#onAgentTranscript(ev.response_id, ev.item_id, ev.text, true)
  }

  /** Sent just before a reply's first audio, so the bridge closes the turn on the frame that follows. */
  #emitTurn(): void {
    const start = this.#turnStart
    this.#turnStart = undefined
    const m: Partial<TurnMetrics> = { turn: ++this.#turns }
    if (start) {
      Object.assign(m, start)
      // End of turn → the engine's first audio is the model's share; the bridge's is what remains after it.
      m.llmFirstTokenMs = this.#host.clock() - start.endOfTurnAtMs
    }
    this.#host.emit('turn', m)
  }

  #onAudioDone(ev: Event<'response.output_audio.done'>): void {
    const resp = this.#responses.get(ev.response_id)
    if (resp && !resp.cut && resp.hadAudio) this.#host.emit('audioEnd', ev.item_id)
  }

  /** Partial lines carry the text so far (the console replaces the line), the final line the whole of it. */
  #onCallerTranscript(itemId: string, text: string, final: boolean): void {
    if (this.#callerTextItem !== itemId) {
      this.#callerTextItem = itemId
      this.#callerText = ''
    }
    this.#callerText = final ? text : this.#callerText + text
    if (this.#callerText || final) this.#host.emit('transcript', { role: 'caller', text: this.#callerText, final })
    if (final) this.#callerTextItem = undefined
  }

  #onAgentTranscript(responseId: string, itemId: string, text: string, final: boolean): void {
    const resp = this.#responses.get(responseId)
    if (resp?.cut && !final) return
    if (this.#agentTextItem !== itemId) {
      this.#agentTextItem = itemId
      this.#agentText = ''
    }
    this.#agentText = final ? text : this.#agentText + text
    this.#host.emit('transcript', { role: 'agent', text: this.#agentText, final })
    if (final) this.#agentTextItem = undefined
  }

  #onFunctionCall(ev: Event<'response.function_call_arguments.done'>): void {
    if (ev.name !== END_CALL_TOOL_NAME) {
      this.#host.send(buildFunctionOutput(ev.call_id, JSON.stringify({ error: `Unknown tool ${ev.name}` })))
      return
    }
    let reason: string | undefined
    try {
      const args = JSON.parse(ev.arguments || '{}') as { reason?: unknown }
      if (typeof args.reason === 'string') reason = args.reason.slice(0, 200)
    } catch {
      // The arguments are advisory; the call ends either way.
    }
    this.#host.send(buildFunctionOutput(ev.call_id, JSON.stringify({ ok: true })))
    this.#timeline('end_call', reason ? { reason } : undefined)
    const resp = this.#responses.get(ev.response_id)
    if (resp) resp.endCall = true
  }

  #onResponseDone(ev: Event<'response.done'>): void {
    const r = ev.response
    const id = r.id ?? ''
    const resp = this.#responses.get(id)
    this.#timeline('response.done', {
      responseId: id,
      status: r.status,
      ...(r.status_details?.reason ? { reason: r.status_details.reason } : {})
    })
    const usage = responseUsage(r.usage, r.output_modalities)
    if (usage) this.#timeline('usage', { responseId: id, ...usage })
    if (this.#active?.id === id) this.#active = undefined
    this.#dueSinceMs = undefined
    if (r.status === 'failed') {
      const e = r.status_details?.error
      this.#host.log.warn('realtime response failed', { type: e?.type, code: e?.code })
      this.#host.emitError(new CallbenchError('upstream_failed', e?.message || 'The OpenAI Realtime response failed'))
    }
    if (this.#agentTextItem !== undefined && this.#agentTextItem === resp?.audioItemId) {
      this.#host.emit('transcript', { role: 'agent', text: this.#agentText, final: true })
      this.#agentTextItem = undefined
    }
    let next = this.#queued
    this.#queued = undefined
    if (resp?.endCall) {
      // The goodbye normally comes in the same response as the call; when it did not, ask for one first.
      if (resp.hadAudio) this.hangup('agent_end_call')
      else {
        this.#goodbyeDue = true
        next = { instructions: GOODBYE_TEXT, toolChoice: 'none' }
      }
    } else if (resp?.goodbye) {
      this.hangup('agent_end_call')
    }
    if (next && !this.#hungUp && !this.#active) this.requestResponse(next.instructions, next.toolChoice)
    this.#prune()
  }

  /** The caller transcription's own usage; billed by duration for some models (by tokens for others: not counted). */
  #onTranscriptionUsage(ev: Event<'conversation.item.input_audio_transcription.completed'>): void {
    const u = ev.usage as { type?: string; seconds?: number } | undefined
    if (u?.type === 'duration' && typeof u.seconds === 'number' && u.seconds > 0)
      this.#timeline('usage', { itemId: ev.item_id, sttMs: u.seconds * 1000 })
  }

  #onServerError(ev: Event<'error'>): void {
    const e = ev.error
    if (isBenignError(e)) {
      this.#timeline('cancel.ignored', { code: e.code ?? undefined })
      return
    }
    this.#timeline('upstream.error', { type: e.type, code: e.code ?? undefined, message: e.message })
    this.#host.log.warn('realtime error event', { type: e.type, code: e.code })
    this.#host.emitError(new CallbenchError('upstream_failed', `OpenAI Realtime: ${e.message}`, { cause: e }))
  }

  #due(): void {
    this.#dueSinceMs ??= performance.now()
    this.#host.replyDue()
  }

  #prune(): void {
    if (this.#responses.size <= KEEP_RESPONSES * 2) return
    for (const id of this.#responses.keys()) {
      if (this.#responses.size <= KEEP_RESPONSES) break
      if (this.#active?.id !== id) this.#responses.delete(id)
    }
  }

  #timeline(name: string, data?: Record<string, unknown>): void {
    this.#host.emit('event', name, data)
  }
}
