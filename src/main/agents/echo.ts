/** The offline echo agent: greets with a shipped prompt, then plays back each caller turn. Needs no key. */
import { EventEmitter } from 'node:events'
import { CallbenchError } from '../../shared/errors.js'
import { TWILIO_FORMAT, type AudioFormat } from '../audio/format.js'
import { decodeUlaw } from '../audio/g711.js'
import { loadPrompt } from '../resources.js'
import { createVad, type VadStream } from '../vad/index.js'
import type { SpeechEndEvent, SpeechStartEvent } from '../vad/segmenter.js'
import type { Agent, AgentCapabilities, AgentEvents, CallContext } from './agent.js'
import type { AgentDeps, EngineDefinition } from './engines.js'

/** Caller audio kept for playback, ms. A turn longer than this is echoed from its last part. */
const HISTORY_MS = 20_000
/** Size of the chunks the echo is emitted in; one mark follows each, so this is the barge-in granularity. */
const CHUNK_MS = 100
const BYTES_PER_MS = 8

export class EchoAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly input: AudioFormat = TWILIO_FORMAT
  readonly output: AudioFormat = TWILIO_FORMAT
  readonly capabilities: AgentCapabilities = { ownsTurnDetection: true, canSay: false, wantsPlayback: true }
  readonly #deps: AgentDeps
  readonly #vad: VadStream
  /** Ring of the caller's μ-law audio, indexed by stream byte position. */
  readonly #history = new Uint8Array(HISTORY_MS * BYTES_PER_MS)
  #pcm = new Int16Array(160)
  #streamBytes = 0
  #call: CallContext | undefined
  #turn = 0
  #reply: { id: string; sentMs: number; playedMs: number } | undefined
  #closed = false

  constructor(deps: AgentDeps) {
    super()
    this.#deps = deps
    this.#vad = createVad(deps.settings.vad)
    this.#vad.on('speechStart', (e) => this.#speechStart(e))
    this.#vad.on('speechEnd', (e) => this.#speechEnd(e))
    this.#vad.on('misfire', (e) => this.emit('event', 'vad.misfire', { onsetMs: e.onsetMs, speechMs: e.speechMs }))
    this.#vad.on('error', (err) => this.emit('error', err))
  }

  async start(call: CallContext): Promise<void> {
    this.#call = call
    const greeting = await loadPrompt(this.#deps.resourcesDir, 'echo-greeting')
    if (!this.#closed) this.#speak(greeting, 'greeting')
  }

  pushAudio(chunk: Uint8Array): void {
    if (this.#closed) return
    const startMs = this.#streamBytes / BYTES_PER_MS
    this.#remember(chunk)
    if (this.#pcm.length !== chunk.length) this.#pcm = new Int16Array(chunk.length)
    decodeUlaw(chunk, this.#pcm)
    this.#vad.push(this.#pcm, startMs)
  }

  played(ms: number, replyId?: string): void {
    if (this.#reply && (replyId === undefined || replyId === this.#reply.id)) this.#reply.playedMs = ms
  }

  async say(): Promise<void> {
    throw new CallbenchError('unsupported', 'The echo agent cannot speak text; set an ElevenLabs key to speak into calls')
  }

  cancel(): void {
    this.#reply = undefined
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#vad.close()
  }

  #remember(chunk: Uint8Array): void {
    const size = this.#history.length
    let pos = this.#streamBytes % size
    let offset = 0
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, size - pos)
      this.#history.set(chunk.subarray(offset, offset + n), pos)
      offset += n
      pos = (pos + n) % size
    }
    this.#streamBytes += chunk.length
  }

  /** A copy of the caller's audio between two stream times (clamped to what is still kept). */
  #recall(fromMs: number, toMs: number): Uint8Array {
    const size = this.#history.length
    const end = Math.min(Math.round(toMs * BYTES_PER_MS), this.#streamBytes)
    const start = Math.max(Math.round(fromMs * BYTES_PER_MS), end - size, 0)
    const out = new Uint8Array(Math.max(0, end - start))
    for (let i = 0; i < out.length; i++) out[i] = this.#history[(start + i) % size]!
    return out
  }

  #speechStart(e: SpeechStartEvent): void {
    this.emit('event', 'vad.speech_start', { onsetMs: e.onsetMs, confirmedAtMs: e.confirmedAtMs })
    const r = this.#reply
    if (r && r.playedMs < r.sentMs) {
      this.#reply = undefined
      this.emit('interrupt')
    }
  }

  #speechEnd(e: SpeechEndEvent): void {
    const call = this.#call
    if (!call) return
    const nowStreamMs = this.#streamBytes / BYTES_PER_MS
    const nowMs = call.clock()
    this.emit('event', 'vad.speech_end', { onsetMs: e.onsetMs, lastSpeechMs: e.lastSpeechMs, decidedAtMs: e.decidedAtMs, speechMs: e.speechMs })
    const pad = this.#deps.settings.vad.preSpeechPadMs
    const audio = this.#recall(e.onsetMs - pad, e.lastSpeechMs + 100)
    this.#turn++
    this.emit('turn', {
      turn: this.#turn,
      // The caller's stream time mapped onto the call clock at the moment of the decision.
      callerStoppedAtMs: nowMs - (nowStreamMs - e.lastSpeechMs),
      endOfTurnAtMs: nowMs,
      endOfSpeechWaitMs: e.decidedAtMs - e.lastSpeechMs
    })
    this.emit('transcript', { role: 'caller', text: `(${(e.speechMs / 1000).toFixed(1)} s of speech)`, final: true })
    this.#speak(audio, `echo-${this.#turn}`)
  }

  #speak(audio: Uint8Array, replyId: string): void {
    this.#reply = { id: replyId, sentMs: audio.length / BYTES_PER_MS, playedMs: 0 }
    const step = CHUNK_MS * BYTES_PER_MS
    for (let off = 0; off < audio.length; off += step) this.emit('audio', audio.subarray(off, off + step), replyId)
    this.emit('audioEnd', replyId)
  }
}

export const echoEngine: EngineDefinition = {
  mode: 'echo',
  unavailable: async () => undefined,
  create: (deps) => new EchoAgent(deps)
}
