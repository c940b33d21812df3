// A loopback call in the window: microphone → capture worklet → Media Stream to the core; agent audio → playback worklet.
import captureWorkletUrl from './capture-worklet.ts?worker&url'
import playbackWorkletUrl from './playback-worklet.ts?worker&url'
import { LoopbackSession, type LoopbackStats } from './loopback-session.js'
import { makeStreamIds } from './media-protocol.js'
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackReport } from './worklet-messages.js'

export type LoopbackPhase = 'starting' | 'active' | 'ended' | 'failed'

export interface LoopbackCallOptions {
  controlUrl: string
  token: string
  /** Our call id, sent as `customParameters.callId` so the console knows the call before `call.started`. */
  callId: string
  mode?: string | undefined
  profileId?: string | undefined
  microphoneId?: string | undefined
  speakerId?: string | undefined
  onPhase(phase: LoopbackPhase, detail?: string): void
}

export interface LoopbackCallStats extends LoopbackStats {
  /** Agent audio actually played to the speaker, in 20 ms frames. */
  agentFramesPlayed: number
}

/** Media socket URL: the same Media Streams endpoint Twilio reaches on the public side, token-checked. */
export function mediaUrl(controlUrl: string, token: string): string {
  const url = new URL('/api/media', controlUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('token', token)
  return url.toString()
}

export class LoopbackCall {
  readonly callId: string
  readonly #opts: LoopbackCallOptions
  #session: LoopbackSession | undefined
  #socket: WebSocket | undefined
  #context: AudioContext | undefined
  #stream: MediaStream | undefined
  #capture: AudioWorkletNode | undefined
  #playback: AudioWorkletNode | undefined
  #agentFramesPlayed = 0
  #done = false

  constructor(opts: LoopbackCallOptions) {
    this.#opts = opts
    this.callId = opts.callId
  }

  get stats(): LoopbackCallStats {
    const base: LoopbackStats = this.#session?.stats ?? {
      callerFrames: 0,
      agentFramesReceived: 0,
      marksReceived: 0,
      marksEchoed: 0,
      clears: 0,
      invalidMessages: 0
    }
    return { ...base, agentFramesPlayed: this.#agentFramesPlayed }
  }

  /** Asks for the microphone, loads the worklets, opens the stream. Resolves once streaming (or failed). */
  async start(): Promise<void> {
    const { onPhase } = this.#opts
    onPhase('starting')
    try {
      this.#stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          ...(this.#opts.microphoneId ? { deviceId: { exact: this.#opts.microphoneId } } : {}),
          channelCount: 1,
          echoCancellation: true,
          noiseSuppression: false,
          autoGainControl: false
        }
      })
    } catch (err) {
      this.#fail(`Microphone not available: ${describe(err)}`)
      return
    }
    if (this.#done) return this.#cleanup()
    try {
      const context = (this.#context = new AudioContext({ latencyHint: 'interactive' }))
      if (this.#opts.speakerId && 'setSinkId' in context) {
        await (context as AudioContext & { setSinkId(id: string): Promise<void> }).setSinkId(this.#opts.speakerId)
      }
      await context.audioWorklet.addModule(captureWorkletUrl)
      await context.audioWorklet.addModule(playbackWorkletUrl)
      this.#capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        channelCount: 1,
        channelCountMode: 'explicit'
      })
      this.#playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1]
      })
      // The capture node writes nothing; connecting it keeps the graph pulling it on every engine.
      this.#capture.connect(context.destination)
      this.#playback.connect(context.destination)
      await context.resume()
    } catch (err) {
      this.#fail(`Audio could not start: ${describe(err)}`)
      return
    }
    if (this.#done) return this.#cleanup()
    this.#connect()
  }

  /** Sends `stop` and closes the stream, as Twilio does when the caller hangs up. */
  hangup(): void {
    if (this.#done) return
    this.#session?.hangup()
    this.#finish('ended', 'You hung up')
  }

  sendDtmf(digit: string): void {
    this.#session?.sendDtmf(digit)
  }

  setMuted(muted: boolean): void {
    for (const track of this.#stream?.getAudioTracks() ?? []) track.enabled = !muted
  }

  #connect(): void {
    const playbackPort = this.#playback!.port
    const post = (cmd: PlaybackCommand, transfer: Transferable[] = []) => playbackPort.postMessage(cmd, transfer)
    const socket = (this.#socket = new WebSocket(mediaUrl(this.#opts.controlUrl, this.#opts.token)))
    const customParameters: Record<string, string> = { direction: 'loopback', callId: this.callId }
    if (this.#opts.mode) customParameters.mode = this.#opts.mode
    if (this.#opts.profileId) customParameters.profileId = this.#opts.profileId
    const session = (this.#session = new LoopbackSession({
      ids: makeStreamIds(),
      customParameters,
      transport: {
        send: (text) => socket.readyState === WebSocket.OPEN && socket.send(text),
        close: (code, reason) => socket.close(code, reason)
      },
      sink: {
        // The payload buffer is fresh per message: hand it to the worklet without a copy.
        enqueue: (ulaw) => post({ type: 'audio', ulaw }, [ulaw.buffer as ArrayBuffer]),
        mark: (name) => post({ type: 'mark', name }),
        clear: () => post({ type: 'clear' })
      }
    }))
    playbackPort.onmessage = (e: MessageEvent<PlaybackReport>) => {
      this.#agentFramesPlayed = Math.floor(e.data.playedSamples / 160)
      if (e.data.marks.length > 0) session.marksPlayed(e.data.marks)
    }
    socket.onopen = () => {
      session.open()
      this.#capture!.port.onmessage = (e: MessageEvent<Uint8Array>) => session.sendCallerFrame(e.data)
      const source = this.#context!.createMediaStreamSource(this.#stream!)
      source.connect(this.#capture!)
      this.#opts.onPhase('active')
    }
    socket.onmessage = (e: MessageEvent) => session.receive(e.data)
    socket.onclose = (e: CloseEvent) => {
      session.closed()
      if (this.#done) return
      if (e.code === 1000 || e.code === 1005) this.#finish('ended', 'The call ended')
      else this.#finish('failed', e.reason || `The media stream closed (${e.code})`)
    }
  }

  #fail(message: string): void {
    this.#finish('failed', message)
  }

  #finish(phase: 'ended' | 'failed', detail: string): void {
    if (this.#done) return
    this.#done = true
    this.#cleanup()
    this.#opts.onPhase(phase, detail)
  }

  #cleanup(): void {
    this.#capture?.port.postMessage('stop')
    this.#playback?.port.postMessage({ type: 'stop' } satisfies PlaybackCommand)
    this.#capture?.disconnect()
    this.#playback?.disconnect()
    for (const track of this.#stream?.getTracks() ?? []) track.stop()
    if (this.#socket && this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(1000, 'caller hung up')
    void this.#context?.close().catch(() => {})
  }
}

function describe(err: unknown): string {
  if (err instanceof DOMException) return err.name === 'NotAllowedError' ? 'permission denied' : err.message || err.name
  return err instanceof Error ? err.message : String(err)
}
