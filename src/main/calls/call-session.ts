/** One call: wires a Media Stream to an agent, with playout tracking, barge-in, levels, recording and metrics. */
import { performance } from 'node:perf_hooks'
import { CallbenchError } from '../../shared/errors.js'
import type { AgentMode } from '../../shared/modes.js'
import type { CallState, CallSummary, TurnMetrics } from '../../shared/calls.js'
import type { TimelineEntry } from '../../shared/events.js'
import type { CallCost } from '../../shared/cost.js'
import { CostRatesSchema, type CostRates } from '../../shared/settings.js'
import type { Agent, TranscriptEvent } from '../agents/agent.js'
import { TWILIO_FRAME_BYTES } from '../audio/format.js'
import { Framer } from '../audio/framer.js'
import { LevelMeter } from '../audio/level-meter.js'
import type { EventHub } from '../events/hub.js'
import type { Logger } from '../log.js'
import { buildClear, buildMark, buildMedia, type ParsedMessage } from '../telephony/media-protocol.js'
import { agentToCaller, callerToAgent, type Converter } from './convert.js'
import { Playout } from './playout.js'
import type { CallRecorder } from './recorder.js'
import { UsageMeter } from './usage.js'

/** The socket side of a Media Stream, as the session needs it. */
export interface MediaTransport {
  send(text: string): void
  close(code?: number, reason?: string): void
}

export interface CallSessionOptions {
  id: string
  streamSid: string
  callSid?: string
  direction: CallSummary['direction']
  from?: string
  to?: string
  mode: AgentMode
  agent: Agent
  transport: MediaTransport
  hub: EventHub
  log: Logger
  /** Shipped apology (μ-law 8 kHz) played when the engine fails. */
  apologyPrompt?: Uint8Array
  recorder?: CallRecorder
  /** Extra data for `call.started` (settings snapshot, profile id…). */
  meta?: Record<string, unknown>
  /** Called once the call has fully ended. */
  onEnded?: (session: CallSession) => void
  /** Rates of the cost estimate, read when it is computed (default: the settings' defaults). */
  costRates?: () => CostRates
}

/**
 * Hears the call as the recorder does: each caller frame with the agent frame playing at that moment (undefined
 * when none). Called synchronously on the media path with buffers it must not keep: copy what it needs.
 */
export interface AudioListener {
  frame(callerFrame: Uint8Array, agentFrame: Uint8Array | undefined, frameIndex: number): void
  /** The call ended; the listener has been removed. */
  end(): void
}

/** Levels go to the console at most this often (ms of caller audio). */
const LEVELS_EVERY_MS = 50
/** Most agent audio in one `media` message to Twilio: 1 s (50 frames). */
const MAX_MEDIA_BYTES = 50 * TWILIO_FRAME_BYTES
/** Entries kept per call timeline (a long call's marks could grow without bound). */
const MAX_TIMELINE = 20_000
/** Extra time allowed for the last audio to play before a hang-up closes the stream anyway. */
const HANGUP_GRACE_MS = 2_000

interface PendingMark {
  name: string
  generation: number
  replyId: string
  /** Bytes of this reply sent up to and including this mark. */
  replyBytes: number
}

interface Reply {
  id: string
  sentBytes: number
  firstFrameAtMs?: number
}

let replySeq = 0

/** A call from `start` to `stop`. One failing never touches another: every entry point catches its own errors. */
export class CallSession {
  readonly id: string
  readonly streamSid: string
  readonly agent: Agent
  readonly mode: AgentMode
  readonly startedAt = new Date()
  readonly #t0 = performance.now()
  readonly #opts: CallSessionOptions
  readonly #log: Logger
  readonly #framer = new Framer(TWILIO_FRAME_BYTES)
  readonly #playout = new Playout()
  readonly #callerMeter = new LevelMeter()
  readonly #agentMeter = new LevelMeter()
  readonly #toAgent: Converter | undefined
  readonly #toCaller: Converter | undefined
  readonly #pendingMarks: PendingMark[] = []
  readonly #cancelledReplies = new Set<string>()
  readonly #timeline: TimelineEntry[] = []
  readonly #unpublished: TimelineEntry[] = []
  readonly #turns: TurnMetrics[] = []
  readonly #listeners = new Set<AudioListener>()
  readonly #usage: UsageMeter
  #state: CallState = 'active'
  #endReason: string | undefined
  #endedAt: Date | undefined
  #generation = 0
  /** The generation the last clear ended, and when that clear was sent (until its first returned mark). */
  #clearedGeneration = -1
  #clearSentAtMs: number | undefined
  #markSeq = 0
  #reply: Reply | undefined
  #lastChunk = 0
  #callerMs = 0
  #lastLevelsMs = -LEVELS_EVERY_MS
  #pendingTurn: Partial<TurnMetrics> | undefined
  #hangupTimer: NodeJS.Timeout | undefined
  #hangupReason: string | undefined
  #ended: Promise<void> | undefined
  readonly stats = {
    framesIn: 0,
    framesLost: 0,
    framesOut: 0,
    marksSent: 0,
    marksPlayed: 0,
    clears: 0,
    protocolErrors: 0
  }

  constructor(opts: CallSessionOptions) {
    this.#opts = opts
    this.id = opts.id
    this.streamSid = opts.streamSid
    this.agent = opts.agent
    this.mode = opts.mode
    this.#log = opts.log.child({ callId: opts.id })
    this.#toAgent = callerToAgent(opts.agent.input)
    this.#toCaller = agentToCaller(opts.agent.output)
    const defaultRates = opts.costRates ? undefined : CostRatesSchema.parse({})
    this.#usage = new UsageMeter({
      clock: this.clock,
      telephony: opts.direction !== 'loopback',
      rates: opts.costRates ?? (() => defaultRates!),
      publish: (cost, final) => opts.hub.publish({ type: 'call.cost', callId: this.id, cost, final })
    })
    this.#bindAgent()
    opts.hub.publish({ type: 'call.started', call: this.summary() })
    this.#record('call.start', { mode: opts.mode, direction: opts.direction, ...(opts.meta ?? {}) })
    this.#usage.start()
  }

  /** Milliseconds since the call started: the one clock of the timeline and the metrics. */
  clock = (): number => performance.now() - this.#t0

  get state(): CallState {
    return this.#state
  }

  get timeline(): readonly TimelineEntry[] {
    return this.#timeline
  }

  /** Timeline entries that were not published live (marks), for the call log at the end. */
  get unpublishedTimeline(): readonly TimelineEntry[] {
    return this.#unpublished
  }

  get turns(): readonly TurnMetrics[] {
    return this.#turns
  }

  /** The cost estimate so far (final once the call has ended). */
  cost(): CallCost {
    return this.#usage.cost()
  }

  /** Starts feeding `listener` the call's audio (listen-in); nothing is done per frame while there is none. */
  addAudioListener(listener: AudioListener): void {
    if (this.#state === 'ended') {
      listener.end()
      return
    }
    this.#listeners.add(listener)
  }

  removeAudioListener(listener: AudioListener): void {
    this.#listeners.delete(listener)
  }

  summary(): CallSummary {
    const totals = this.#turns
      .map((t) => t.totalMs)
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b)
    const o = this.#opts
    return {
      id: this.id,
      ...(o.callSid ? { callSid: o.callSid } : {}),
      direction: o.direction,
      ...(o.from ? { from: o.from } : {}),
      ...(o.to ? { to: o.to } : {}),
      mode: this.mode,
      state: this.#state,
      startedAt: this.startedAt.toISOString(),
      ...(this.#endedAt ? { endedAt: this.#endedAt.toISOString() } : {}),
      ...(this.#endReason ? { endReason: this.#endReason } : {}),
      turns: this.#turns.length,
      ...(totals.length ? { medianTurnMs: totals[Math.floor(totals.length / 2)]! } : {})
    }
  }

  /** Handles one parsed Media Streams message from Twilio (or the loopback console). */
  handle(msg: ParsedMessage): void {
    if (this.#state === 'ended') return
    switch (msg.kind) {
      case 'media':
        this.#onMedia(msg.payload, msg.chunk)
        break
      case 'mark':
        this.#onMark(msg.name)
        break
      case 'dtmf':
        this.#record('dtmf', { digit: msg.digit })
        break
      case 'stop':
        void this.end('caller_hangup')
        break
      case 'connected':
      case 'start':
        break
    }
  }

  /** Notes a malformed message on the timeline; the call goes on. */
  protocolError(code: string, message: string): void {
    this.stats.protocolErrors++
    // Bounded: a flood of garbage must not fill the timeline or the log.
    if (this.stats.protocolErrors <= 20) {
      this.#log.warn('media message rejected', { code })
      this.#record('protocol.error', { code, message })
    }
  }

  /** Plays audio that does not come from the engine (operator `say`), as its own reply. */
  playAudio(chunk: Uint8Array, replyId: string): void {
    this.#sendAgentAudio(chunk, replyId)
  }

  /** Stops whatever is playing now (operator stop): Twilio clear, engine speech cancelled. */
  stopPlayback(reason = 'operator_stop'): void {
    if (this.#reply) this.#cancelledReplies.add(this.#reply.id)
    this.agent.cancel()
    this.#clear(reason)
  }

  /** Ends the call: closes the engine, the recorder and the stream. Idempotent. */
  end(reason: string): Promise<void> {
    if (this.#ended) return this.#ended
    this.#ended = this.#finish(reason)
    return this.#ended
  }

  async #finish(reason: string): Promise<void> {
    this.#state = 'ending'
    clearTimeout(this.#hangupTimer)
    this.#endReason = reason
    this.#record('call.end', { reason })
    try {
      this.#opts.transport.close(1000, 'call ended')
    } catch {
      // The socket may already be gone.
    }
    await Promise.allSettled([this.agent.close(), this.#opts.recorder?.close()])
    this.agent.removeAllListeners()
    // After the engine closed (its last usage is in), before call.ended: the call log keeps it.
    this.#record('cost', { ...this.#usage.finish() })
    for (const l of this.#listeners) {
      try {
        l.end()
      } catch (err) {
        this.#log.warn('audio listener failed at call end', { err: err as Error })
      }
    }
    this.#listeners.clear()
    this.#state = 'ended'
    this.#endedAt = new Date()
    this.#log.info('call ended', {
      reason,
      turns: this.#turns.length,
      framesIn: this.stats.framesIn,
      framesLost: this.stats.framesLost
    })
    this.#opts.onEnded?.(this)
    this.#opts.hub.publish({ type: 'call.ended', call: this.summary() })
  }

  #onMedia(payload: Uint8Array, chunk: number): void {
    this.stats.framesIn++
    if (this.#lastChunk && chunk > this.#lastChunk + 1) this.stats.framesLost += chunk - this.#lastChunk - 1
    if (chunk) this.#lastChunk = chunk
    // One caller frame of time has passed: Twilio played one agent frame meanwhile.
    const agentFrame = this.#playout.take()
    this.#opts.recorder?.write(payload, agentFrame)
    if (this.#listeners.size > 0) this.#tellListeners(payload, agentFrame)
    this.#callerMeter.addUlaw(payload)
    if (agentFrame) this.#agentMeter.addUlaw(agentFrame)
    else this.#agentMeter.addSilence(payload.length)
    this.#callerMs += payload.length / 8
    if (this.#callerMs - this.#lastLevelsMs >= LEVELS_EVERY_MS) this.#publishLevels()
    try {
      this.agent.pushAudio(this.#toAgent ? this.#toAgent(payload) : payload)
    } catch (err) {
      this.#agentError(err)
    }
  }

  #tellListeners(callerFrame: Uint8Array, agentFrame: Uint8Array | undefined): void {
    for (const l of this.#listeners) {
      try {
        l.frame(callerFrame, agentFrame, this.stats.framesIn)
      } catch (err) {
        // A broken listener must not break the call: drop it.
        this.#listeners.delete(l)
        this.#log.warn('audio listener failed', { err: err as Error })
      }
    }
  }

  #publishLevels(): void {
    this.#lastLevelsMs = this.#callerMs
    const c = this.#callerMeter.read()
    const a = this.#agentMeter.read()
    this.#opts.hub.publish({
      type: 'call.levels',
      callId: this.id,
      atMs: Math.round(this.#callerMs),
      levels: {
        callerRmsDbfs: c.rmsDbfs,
        callerPeakDbfs: c.peakDbfs,
        agentRmsDbfs: a.rmsDbfs,
        agentPeakDbfs: a.peakDbfs
      }
    })
  }

  #bindAgent(): void {
    const a = this.agent
    a.on('audio', (chunk, replyId) => this.#sendAgentAudio(this.#toCaller ? this.#toCaller(chunk) : chunk, replyId))
    a.on('audioEnd', (replyId) => this.#endReply(replyId))
    a.on('interrupt', () => this.#bargeIn())
    a.on('transcript', (t) => this.#transcript(t))
    a.on('turn', (m) => this.#turn(m))
    a.on('event', (name, data) => {
      if (name === 'usage') this.#usage.add(data)
      this.#record(name, data)
    })
    a.on('error', (err) => this.#agentError(err))
    a.on('failed', (err) => this.#fail(err))
    a.on('hangup', (reason) => this.hangupAfterPlayout(reason))
  }

  #sendAgentAudio(chunk: Uint8Array, replyId = 'reply'): void {
    if (this.#state !== 'active' && !this.#hangupReason) return
    if (this.#cancelledReplies.has(replyId)) return
    let reply = this.#reply
    if (!reply || reply.id !== replyId) {
      if (reply) this.#sendFrames(this.#framer.flush(0xff), reply)
      reply = this.#reply = { id: replyId, sentBytes: 0 }
      this.#record('reply.start', { replyId })
    }
    this.#sendFrames(this.#framer.push(chunk), reply)
    this.#sendMark(reply)
  }

  /**
   * Sends whole agent frames (a buffer the framer handed out; the playout keeps it) as one `media` message per
   * second of audio or less: a chunk's frames go together (Twilio takes payloads of any size, PROTOCOLS.md §1.4;
   * §1.7 advises 20 ms to about 1 s), one message instead of one per 20 ms.
   */
  #sendFrames(frames: Uint8Array | undefined, reply: Reply): void {
    if (!frames) return
    if (reply.firstFrameAtMs === undefined) {
      reply.firstFrameAtMs = this.clock()
      this.#firstAudioOut(reply.firstFrameAtMs)
    }
    const bytes = frames.length
    for (let at = 0; at < bytes; at += MAX_MEDIA_BYTES)
      this.#opts.transport.send(buildMedia(this.streamSid, frames.subarray(at, at + MAX_MEDIA_BYTES)))
    reply.sentBytes += bytes
    this.stats.framesOut += bytes / TWILIO_FRAME_BYTES
    this.#playout.push(frames)
  }

  #sendMark(reply: Reply): void {
    const last = this.#pendingMarks[this.#pendingMarks.length - 1]
    if (
      last &&
      last.replyId === reply.id &&
      last.replyBytes === reply.sentBytes &&
      last.generation === this.#generation
    )
      return
    if (reply.sentBytes === 0) return
    const name = `${this.#generation}:${++this.#markSeq}`
    this.#pendingMarks.push({ name, generation: this.#generation, replyId: reply.id, replyBytes: reply.sentBytes })
    this.#opts.transport.send(buildMark(this.streamSid, name))
    this.stats.marksSent++
    this.#record('mark.sent', { name, replyId: reply.id, atReplyMs: reply.sentBytes / 8 }, false)
  }

  #endReply(replyId: string | undefined): void {
    const reply = this.#reply
    if (!reply || (replyId !== undefined && reply.id !== replyId)) return
    this.#sendFrames(this.#framer.flush(0xff), reply)
    this.#sendMark(reply)
    this.#record('reply.end', { replyId: reply.id, sentMs: reply.sentBytes / 8 })
  }

  #onMark(name: string): void {
    const idx = this.#pendingMarks.findIndex((m) => m.name === name)
    if (idx < 0) return
    const mark = this.#pendingMarks[idx]!
    this.#pendingMarks.splice(0, idx + 1)
    // Marks Twilio returns because of a clear were not played: their generation is over.
    if (mark.generation !== this.#generation) {
      this.#record('mark.cleared', { name }, false)
      // The first of them times the clear's round trip, which the agent adds to its heard position.
      if (mark.generation === this.#clearedGeneration && this.#clearSentAtMs !== undefined) {
        const roundTripMs = this.clock() - this.#clearSentAtMs
        this.#clearSentAtMs = undefined
        try {
          this.agent.cleared?.(roundTripMs)
        } catch (err) {
          this.#agentError(err)
        }
      }
      return
    }
    this.stats.marksPlayed++
    this.#record('mark.played', { name, replyId: mark.replyId, atReplyMs: mark.replyBytes / 8 }, false)
    try {
      this.agent.played(mark.replyBytes / 8, mark.replyId)
    } catch (err) {
      this.#agentError(err)
    }
    if (this.#hangupReason && this.#pendingMarks.length === 0) void this.end(this.#hangupReason)
  }

  /** Caller speech over the agent: clear Twilio's buffer at once if anything is still playing. */
  #bargeIn(): void {
    const playing = this.#pendingMarks.some((m) => m.generation === this.#generation) || this.#playout.queuedFrames > 0
    this.#record('barge_in', { playing })
    if (!playing) return
    if (this.#reply) this.#cancelledReplies.add(this.#reply.id)
    this.#clear('barge_in')
  }

  #clear(reason: string): void {
    this.#opts.transport.send(buildClear(this.streamSid))
    this.stats.clears++
    this.#clearedGeneration = this.#generation
    this.#clearSentAtMs = this.clock()
    this.#generation++
    this.#framer.reset()
    this.#playout.clear()
    this.#reply = undefined
    this.#record('clear', { reason })
  }

  #transcript(t: TranscriptEvent): void {
    this.#opts.hub.publish({
      type: 'call.transcript',
      callId: this.id,
      atMs: Math.round(this.clock()),
      role: t.role,
      text: t.text,
      final: t.final,
      ...(t.correction ? { correction: true } : {})
    })
  }

  #turn(m: Partial<TurnMetrics>): void {
    // Engines report what they know as the turn goes; the first agent frame out completes it.
    this.#pendingTurn = { ...this.#pendingTurn, ...m, turn: m.turn ?? this.#turns.length + 1 }
  }

  #firstAudioOut(atMs: number): void {
    const t = this.#pendingTurn
    if (!t) return
    this.#pendingTurn = undefined
    const metrics: TurnMetrics = { ...t, turn: t.turn ?? this.#turns.length + 1, firstAudioOutAtMs: atMs }
    if (metrics.callerStoppedAtMs !== undefined) metrics.totalMs = atMs - metrics.callerStoppedAtMs
    if (metrics.endOfTurnAtMs !== undefined) metrics.bridgeMs ??= atMs - metrics.endOfTurnAtMs - sumParts(metrics)
    this.#turns.push(metrics)
    this.#opts.hub.publish({ type: 'call.turn', callId: this.id, metrics })
  }

  /** Ends the call once everything sent has played (goodbye, end_call tool), with a bounded wait. */
  hangupAfterPlayout(reason: string): void {
    if (this.#hangupReason || this.#state !== 'active') return
    this.#hangupReason = reason
    this.#state = 'ending'
    this.#record('hangup.requested', { reason })
    const reply = this.#reply
    if (reply) {
      this.#sendFrames(this.#framer.flush(0xff), reply)
      this.#sendMark(reply)
    }
    if (this.#pendingMarks.length === 0) {
      void this.end(reason)
      return
    }
    const queuedMs = this.#pendingMarks.reduce((ms, m) => Math.max(ms, m.replyBytes / 8), 0)
    this.#hangupTimer = setTimeout(() => void this.end(reason), queuedMs + HANGUP_GRACE_MS)
  }

  /**
   * Takes back a hang-up asked for with `hangupAfterPlayout` (the operator says a person answered after all): the
   * call stays up. False when no such hang-up is pending or the call is already ending for good.
   */
  cancelHangup(): boolean {
    if (!this.#hangupReason || this.#ended) return false
    clearTimeout(this.#hangupTimer)
    this.#hangupTimer = undefined
    this.#record('hangup.cancelled', { reason: this.#hangupReason })
    this.#hangupReason = undefined
    this.#state = 'active'
    return true
  }

  #agentError(err: unknown): void {
    const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Engine error', { cause: err })
    this.#log.warn('engine error', { code: e.code, err: e })
    this.#record('engine.error', { code: e.code, message: e.message })
  }

  /** The engine cannot go on: apology, then hang up with the reason recorded. */
  #fail(err: CallbenchError): void {
    if (this.#state !== 'active') return
    this.#log.error('engine failed', { code: err.code, err })
    this.#record('engine.failed', { code: err.code, message: err.message })
    if (this.#reply) this.#cancelledReplies.add(this.#reply.id)
    this.#clear('engine_failed')
    if (this.#opts.apologyPrompt) {
      this.#sendAgentAudio(this.#opts.apologyPrompt, `apology-${++replySeq}`)
      this.#endReply(undefined)
    }
    this.hangupAfterPlayout(`engine_failed:${err.code}`)
  }

  /** Adds to the timeline; high-rate entries (marks) stay in memory and are not published live. */
  #record(kind: string, data?: Record<string, unknown>, publish = true): void {
    const entry: TimelineEntry = { atMs: Math.round(this.clock() * 10) / 10, kind, ...(data ? { data } : {}) }
    const keep = this.#timeline.length < MAX_TIMELINE
    if (keep) this.#timeline.push(entry)
    if (publish) this.#opts.hub.publish({ type: 'call.timeline', callId: this.id, entry })
    else if (keep) this.#unpublished.push(entry)
  }
}

function sumParts(m: TurnMetrics): number {
  return (m.sttMs ?? 0) + (m.llmFirstTokenMs ?? 0) + (m.ttsFirstByteMs ?? 0)
}
