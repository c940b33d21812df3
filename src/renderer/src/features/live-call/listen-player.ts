// Listen-in on a live call: its listen socket → the loopback playback worklet (μ-law decode, resampling) → gain → speaker.
import playbackWorkletUrl from '../loopback/playback-worklet.ts?worker&url'
import { PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackReport } from '../loopback/worklet-messages.js'
import { decodeListenFrame, listenPath } from '../../../../shared/listen.js'
import { ListenCounter, listenAudio, type ListenChannel } from './listen-mix.js'

export type ListenState = 'connecting' | 'on' | 'ended' | 'failed'

export interface ListenPlayerOptions {
  controlUrl: string
  token: string
  callId: string
  channel: ListenChannel
  /** 0–1. */
  volume: number
  muted: boolean
  speakerId?: string | undefined
  onState(state: ListenState, detail?: string): void
}

/** More than this queued (a stall, then a burst) is dropped so the audio stays live, 8 kHz samples (400 ms). */
const MAX_QUEUED_SAMPLES = 3200

/** The listen socket URL for a call. */
export function listenUrl(controlUrl: string, token: string, callId: string): string {
  const url = new URL(listenPath(callId), controlUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('token', token)
  return url.toString()
}

export class ListenPlayer {
  readonly counter = new ListenCounter()
  readonly #opts: ListenPlayerOptions
  #channel: ListenChannel
  #volume: number
  #muted: boolean
  #context: AudioContext | undefined
  #node: AudioWorkletNode | undefined
  #gain: GainNode | undefined
  #socket: WebSocket | undefined
  #done = false

  constructor(opts: ListenPlayerOptions) {
    this.#opts = opts
    this.#channel = opts.channel
    this.#volume = opts.volume
    this.#muted = opts.muted
  }

  async start(): Promise<void> {
    this.#opts.onState('connecting')
    try {
      const context = (this.#context = new AudioContext({ latencyHint: 'interactive' }))
      if (this.#opts.speakerId && 'setSinkId' in context) {
        await (context as AudioContext & { setSinkId(id: string): Promise<void> }).setSinkId(this.#opts.speakerId)
      }
      await context.audioWorklet.addModule(playbackWorkletUrl)
      this.#node = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, { numberOfInputs: 0, outputChannelCount: [1] })
      this.#gain = context.createGain()
      this.#gain.gain.value = this.#muted ? 0 : this.#volume
      this.#node.connect(this.#gain).connect(context.destination)
      await context.resume()
    } catch (err) {
      this.#finish('failed', `Audio could not start: ${err instanceof Error ? err.message : String(err)}`)
      return
    }
    if (this.#done) return this.#cleanup()
    this.#connect()
  }

  setChannel(channel: ListenChannel): void {
    this.#channel = channel
  }

  setVolume(volume: number): void {
    this.#volume = volume
    this.#applyGain()
  }

  setMuted(muted: boolean): void {
    this.#muted = muted
    this.#applyGain()
  }

  stop(): void {
    this.#finish('ended', 'Stopped listening')
  }

  #connect(): void {
    const port = this.#node!.port
    const post = (cmd: PlaybackCommand, transfer: Transferable[] = []) => port.postMessage(cmd, transfer)
    port.onmessage = (e: MessageEvent<PlaybackReport>) => {
      if (e.data.queuedSamples > MAX_QUEUED_SAMPLES) post({ type: 'clear' })
    }
    const socket = (this.#socket = new WebSocket(listenUrl(this.#opts.controlUrl, this.#opts.token, this.#opts.callId)))
    socket.binaryType = 'arraybuffer'
    socket.onopen = () => this.#opts.onState('on')
    socket.onmessage = (e: MessageEvent) => {
      if (!(e.data instanceof ArrayBuffer)) return
      const frame = decodeListenFrame(new Uint8Array(e.data))
      if (!frame) return
      this.counter.add(frame.index)
      const ulaw = listenAudio(frame, this.#channel)
      post({ type: 'audio', ulaw }, [ulaw.buffer as ArrayBuffer])
    }
    socket.onclose = (e: CloseEvent) => {
      if (this.#done) return
      // 1006 without an open: the upgrade was refused (the call is over, or no longer known).
      if (e.code === 1000 || e.code === 1005) this.#finish('ended', 'The call ended')
      else this.#finish('failed', e.reason || `Listening stopped (${e.code})`)
    }
  }

  #applyGain(): void {
    const gain = this.#gain
    if (!gain || !this.#context) return
    // A short ramp: a step in gain clicks.
    gain.gain.setTargetAtTime(this.#muted ? 0 : this.#volume, this.#context.currentTime, 0.015)
  }

  #finish(state: 'ended' | 'failed', detail: string): void {
    if (this.#done) return
    this.#done = true
    this.#cleanup()
    this.#opts.onState(state, detail)
  }

  #cleanup(): void {
    this.#node?.port.postMessage({ type: 'stop' } satisfies PlaybackCommand)
    this.#node?.disconnect()
    this.#gain?.disconnect()
    if (this.#socket && this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(1000, 'stopped listening')
    void this.#context?.close().catch(() => {})
  }
}
