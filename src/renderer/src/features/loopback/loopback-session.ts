// Twilio's half of a loopback Media Stream: caller frames out, agent audio and marks into a playback sink, echoes back.
import { FRAME_BYTES, MediaStreamWriter, parseBridgeMessage, type StreamIds } from './media-protocol.js'

/** The socket, as the session needs it. */
export interface StreamTransport {
  send(text: string): void
  close(code?: number, reason?: string): void
}

/**
 * Where the agent's audio goes: a Twilio-like queue. Played marks (and, after `clear`, every pending mark)
 * come back through {@link LoopbackSession.marksPlayed}.
 */
export interface AgentAudioSink {
  enqueue(ulaw: Uint8Array): void
  mark(name: string): void
  clear(): void
}

export interface LoopbackSessionOptions {
  ids: StreamIds
  /** `start.customParameters`: mode, profileId, direction, callId. */
  customParameters: Readonly<Record<string, string>>
  transport: StreamTransport
  sink: AgentAudioSink
}

/** Counters of one loopback stream. */
export interface LoopbackStats {
  callerFrames: number
  /** Agent audio received, in 20 ms frames (160 bytes). */
  agentFramesReceived: number
  marksReceived: number
  marksEchoed: number
  clears: number
  invalidMessages: number
}

export class LoopbackSession {
  readonly stats: LoopbackStats = {
    callerFrames: 0,
    agentFramesReceived: 0,
    marksReceived: 0,
    marksEchoed: 0,
    clears: 0,
    invalidMessages: 0
  }
  readonly #opts: LoopbackSessionOptions
  readonly #writer: MediaStreamWriter
  #agentBytes = 0
  #state: 'new' | 'streaming' | 'stopped' = 'new'

  constructor(opts: LoopbackSessionOptions) {
    this.#opts = opts
    this.#writer = new MediaStreamWriter(opts.ids)
  }

  get streaming(): boolean {
    return this.#state === 'streaming'
  }

  /** Sends `connected` and `start`; call once the socket is open. */
  open(): void {
    if (this.#state !== 'new') return
    this.#state = 'streaming'
    this.#opts.transport.send(this.#writer.connected())
    this.#opts.transport.send(this.#writer.start(this.#opts.customParameters))
  }

  /** One 20 ms μ-law frame from the microphone. */
  sendCallerFrame(frame: Uint8Array): void {
    if (this.#state !== 'streaming') return
    this.stats.callerFrames++
    this.#opts.transport.send(this.#writer.media(frame))
  }

  sendDtmf(digit: string): void {
    if (this.#state !== 'streaming') return
    this.#opts.transport.send(this.#writer.dtmf(digit))
  }

  /** A message from the bridge. */
  receive(data: unknown): void {
    if (this.#state !== 'streaming') return
    const msg = parseBridgeMessage(data)
    switch (msg.kind) {
      case 'media':
        this.#agentBytes += msg.payload.length
        this.stats.agentFramesReceived = Math.floor(this.#agentBytes / FRAME_BYTES)
        this.#opts.sink.enqueue(msg.payload)
        return
      case 'mark':
        this.stats.marksReceived++
        this.#opts.sink.mark(msg.name)
        return
      case 'clear':
        this.stats.clears++
        this.#opts.sink.clear()
        return
      case 'invalid':
        this.stats.invalidMessages++
        return
    }
  }

  /** The sink played these marks (or released them on clear): echo them, in order, as Twilio does. */
  marksPlayed(names: readonly string[]): void {
    if (this.#state !== 'streaming') return
    for (const name of names) {
      this.stats.marksEchoed++
      this.#opts.transport.send(this.#writer.mark(name))
    }
  }

  /** Hang-up from the caller's side: `stop`, then the socket closes. */
  hangup(): void {
    if (this.#state === 'stopped') return
    const wasStreaming = this.#state === 'streaming'
    this.#state = 'stopped'
    if (wasStreaming) this.#opts.transport.send(this.#writer.stop())
    this.#opts.transport.close(1000, 'caller hung up')
  }

  /** The socket closed from the other side: nothing more is sent. */
  closed(): void {
    this.#state = 'stopped'
  }
}
