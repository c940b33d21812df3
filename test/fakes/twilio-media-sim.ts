/** A fake Twilio for one call on a Media Streams WebSocket: paced caller audio in, simulated playback out, timings recorded. */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'

// Protocol facts: PROTOCOLS.md §1.3–1.5. This file speaks the wire itself and does not import
// src/main/telephony/media-protocol.ts, so a bug there cannot hide behind a matching bug here.
const FRAME_MS = 20
const FRAME_BYTES = 160
const BYTES_PER_MS = 8
const SILENCE_BYTE = 0xff
const TICK_MS = 5
/** A frame sent more than this after its due time counts as late (one frame period). */
export const LATE_FRAME_MS = FRAME_MS
const SILENCE_B64 = Buffer.alloc(FRAME_BYTES, SILENCE_BYTE).toString('base64')

/** One part of what the caller does, played in order. */
export type CallerSegment =
  | {
      kind: 'speech'
      /** μ-law 8 kHz audio; sent in 160-byte frames, the last padded with silence. */
      audio: Uint8Array
      /** Where speech starts and ends inside `audio` (default: its whole length). */
      onsetMs?: number
      offsetMs?: number
      label?: string
    }
  | { kind: 'silence'; durationMs: number }
  /**
   * Silence until the agent starts playing (`until: 'speaking'`, the default) or has played and gone quiet
   * (`until: 'done'`), then `afterMs` more; never longer than `timeoutMs`, nor than `startTimeoutMs` if the
   * agent has not started by then.
   */
  | { kind: 'waitForAgent'; timeoutMs: number; afterMs?: number; until?: 'speaking' | 'done'; startTimeoutMs?: number }

export type SpeechSegment = Extract<CallerSegment, { kind: 'speech' }>

export interface SimOptions {
  /** `ws://…` URL of the Media Streams endpoint. */
  url: string
  headers?: Record<string, string>
  /** Sent as `start.customParameters`. */
  customParameters?: Record<string, string>
  streamSid?: string
  callSid?: string
  accountSid?: string
  /** Gaps in agent audio shorter than this, within one reply, count as underruns (default 500 ms). */
  underrunWindowMs?: number
  /** Count received frames made only of this byte (`markerFrames`): audio a fake sent that must never be heard. */
  markerByte?: number
}

/** One speech segment as it actually went out, and what the agent did about it. All times are performance.now() ms. */
export interface SpeechRecord {
  label: string | undefined
  startSentAtMs: number
  onsetSentAtMs: number | undefined
  offsetSentAtMs: number | undefined
  endSentAtMs: number | undefined
  /** Agent audio was still playing when the onset frame went out: a barge-in. */
  agentPlayingAtOnset: boolean
  /** First `clear` received after the onset went out. */
  clearAtMs: number | undefined
  /** First agent media frame received after the offset went out. */
  firstAgentMediaAtMs: number | undefined
}

export interface MarkRecord {
  name: string
  receivedAtMs: number
  echoedAtMs: number | undefined
  /** Echoed because of a clear rather than because playback reached it. */
  cleared: boolean
}

/** Playback between two clears. */
export interface GenerationRecord {
  startedAtMs: number
  framesReceived: number
  bytesReceived: number
  firstMediaAtMs: number | undefined
  /** Frames received after this generation's clear and before the caller's next speech ended: audio that leaked past the clear. */
  staleFrames: number
}

export interface SimStats {
  streamSid: string
  callSid: string
  connectedAtMs: number | undefined
  closedAtMs: number | undefined
  closeCode: number | undefined
  closedBy: 'us' | 'server' | undefined
  framesSent: number
  /** When frame k was due: `startAtMs + 20 k` (performance.now() ms); it went out `lateness[k]` later. */
  startAtMs: number
  /** Frames sent more than LATE_FRAME_MS after their due time: the simulator's own lateness, not the server's. */
  framesLate: number
  /** Send time minus due time, per frame, ms. */
  lateness: readonly number[]
  speech: readonly SpeechRecord[]
  clears: readonly number[]
  /**
   * Parallel to `clears`: how much of the reply being played had been heard when the clear arrived, ms. The reply
   * is the agent audio from the first frame after the latest caller utterance ended (or from the call's start).
   */
  playedAtClearMs: readonly number[]
  marks: readonly MarkRecord[]
  mediaFramesReceived: number
  mediaBytesReceived: number
  generations: readonly GenerationRecord[]
  /** Agent audio ran dry inside a reply and resumed within the underrun window. */
  underruns: number
  underrunMs: number
  /** Messages from the server that were not valid Media Streams JSON. */
  badMessages: number
  unknownEvents: number
  /** Frames made only of `markerByte` (0 when no marker is set). */
  markerFrames: number
}

interface PendingMark {
  name: string
  dueAtMs: number
  record: MarkRecord
}

interface FrameSource {
  segment: CallerSegment
  record: SpeechRecord | undefined
  resolve: () => void
  /** Frames this segment has sent. */
  sent: number
  /** For waitForAgent: when agent audio was first seen playing, and when it last went quiet after that. */
  agentSeenAtMs: number | undefined
  agentDoneAtMs: number | undefined
  startedAtMs: number | undefined
}

/** The single timer every simulated call in the process shares, so 300 calls do not mean 300 timers. */
class SharedTicker {
  private readonly members = new Set<TwilioMediaSim>()
  private timer: NodeJS.Timeout | undefined
  private originMs = 0
  private slot = 0

  add(sim: TwilioMediaSim): number {
    this.members.add(sim)
    if (this.timer === undefined) {
      this.originMs = performance.now()
      this.slot = 0
      this.schedule()
    }
    // A call starts on the next slot, so calls that connect at different times spread over the 20 ms period.
    return this.originMs + this.slot * TICK_MS
  }

  remove(sim: TwilioMediaSim): void {
    this.members.delete(sim)
    if (this.members.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private schedule(): void {
    const now = performance.now()
    // Drift-free: slot n is due at origin + n·TICK_MS; after a stall we skip to the current slot.
    this.slot = Math.max(this.slot + 1, Math.floor((now - this.originMs) / TICK_MS))
    const delayMs = Math.max(0, this.originMs + this.slot * TICK_MS - now)
    this.timer = setTimeout(this.tick, delayMs)
  }

  private readonly tick = (): void => {
    // Node may fire a timer up to 1 ms before its due time; the slot's own time is the horizon then.
    const now = Math.max(performance.now(), this.originMs + this.slot * TICK_MS)
    for (const sim of this.members) sim.onTick(now)
    if (this.members.size > 0) this.schedule()
    else this.timer = undefined
  }
}

const ticker = new SharedTicker()

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex')
}

/** Plays Twilio's side of one bidirectional Media Streams call. */
export class TwilioMediaSim extends EventEmitter<{
  media: [bytes: number]
  mark: [name: string]
  clear: []
  close: [code: number]
}> {
  readonly streamSid: string
  readonly callSid: string
  private readonly accountSid: string
  private readonly opts: SimOptions
  private ws: WebSocket | undefined
  private seq = 0
  private framesSent = 0
  private framesLate = 0
  private readonly lateness: number[] = []
  private startAtMs = 0
  private running = false
  private readonly queue: FrameSource[] = []
  private readonly speech: SpeechRecord[] = []
  private readonly clears: number[] = []
  private readonly playedAtClearMs: number[] = []
  /** Agent audio a clear dropped before it played, and the played-audio position where the current reply began. */
  private discardedBytes = 0
  private replyStartBytes = 0
  private readonly marks: MarkRecord[] = []
  private readonly pendingMarks: PendingMark[] = []
  private readonly generations: GenerationRecord[] = []
  private playbackEndsAtMs = 0
  private mediaFramesReceived = 0
  private mediaBytesReceived = 0
  private underruns = 0
  private underrunMs = 0
  private badMessages = 0
  private unknownEvents = 0
  private markerFrames = 0
  private connectedAtMs: number | undefined
  private closedAtMs: number | undefined
  private closeCode: number | undefined
  private closedBy: 'us' | 'server' | undefined
  private lastOffsetSentAtMs = 0
  private readonly frame = new Uint8Array(FRAME_BYTES)
  private readonly closed: Promise<number>
  private resolveClosed!: (code: number) => void

  constructor(opts: SimOptions) {
    super()
    this.opts = opts
    this.streamSid = opts.streamSid ?? sid('MZ')
    this.callSid = opts.callSid ?? sid('CA')
    this.accountSid = opts.accountSid ?? sid('AC')
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve))
  }

  /** Opens the socket and sends `connected` and `start`; caller audio (silence until `play`) begins on the next tick. */
  async connect(): Promise<void> {
    const ws = new WebSocket(this.opts.url, {
      headers: this.opts.headers ?? {},
      perMessageDeflate: false,
      handshakeTimeout: 10_000
    })
    this.ws = ws
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary))
    ws.on('close', (code) => this.onClose(code, this.closedBy ?? 'server'))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    ws.on('error', () => {
      // A socket error is followed by close; the close handler records it.
    })
    this.connectedAtMs = performance.now()
    ws.send('{"event":"connected","protocol":"Call","version":"1.0.0"}')
    this.seq = 1
    ws.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        start: {
          accountSid: this.accountSid,
          streamSid: this.streamSid,
          callSid: this.callSid,
          tracks: ['inbound'],
          customParameters: this.opts.customParameters ?? {},
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }
        },
        streamSid: this.streamSid
      })
    )
    this.generations.push({
      startedAtMs: this.connectedAtMs,
      framesReceived: 0,
      bytesReceived: 0,
      firstMediaAtMs: undefined,
      staleFrames: 0
    })
    this.running = true
    this.startAtMs = ticker.add(this)
  }

  /** Queues caller segments; resolves when the last of them has been sent. */
  play(segments: readonly CallerSegment[]): Promise<void> {
    const all = segments.map(
      (segment) =>
        new Promise<void>((resolve) => {
          this.queue.push({
            segment,
            record: undefined,
            resolve,
            sent: 0,
            agentSeenAtMs: undefined,
            agentDoneAtMs: undefined,
            startedAtMs: undefined
          })
        })
    )
    return Promise.all(all).then(() => undefined)
  }

  /** Sends a DTMF digit now. */
  dtmf(digit: string): void {
    this.send(
      `{"event":"dtmf","streamSid":"${this.streamSid}","sequenceNumber":"${++this.seq}","dtmf":{"track":"inbound_track","digit":${JSON.stringify(digit)}}}`
    )
  }

  /** Sends anything at all, for fuzzing the server. */
  sendRaw(data: string | Uint8Array, binary = false): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(data, { binary })
  }

  /** Sends `stop` and closes, as Twilio does when the caller hangs up; drops the socket if the close handshake stalls. */
  async hangup(closeTimeoutMs = 5_000): Promise<number> {
    const ws = this.ws
    if (ws && ws.readyState === WebSocket.OPEN) {
      this.closedBy = 'us'
      this.send(
        `{"event":"stop","sequenceNumber":"${++this.seq}","stop":{"accountSid":"${this.accountSid}","callSid":"${this.callSid}"},"streamSid":"${this.streamSid}"}`
      )
      this.stopSending()
      ws.close(1000)
      const timer = setTimeout(() => ws.terminate(), closeTimeoutMs)
      void this.closed.then(() => clearTimeout(timer))
    } else if (ws && ws.readyState === WebSocket.CONNECTING) {
      ws.terminate()
    }
    return this.closed
  }

  /** Resolves with the close code once the socket has closed, whoever closed it. */
  whenClosed(): Promise<number> {
    return this.closed
  }

  /** True while agent audio is queued for playback. */
  agentPlaying(nowMs = performance.now()): boolean {
    return this.playbackEndsAtMs > nowMs
  }

  stats(): SimStats {
    return {
      streamSid: this.streamSid,
      callSid: this.callSid,
      connectedAtMs: this.connectedAtMs,
      closedAtMs: this.closedAtMs,
      closeCode: this.closeCode,
      closedBy: this.closedBy,
      framesSent: this.framesSent,
      startAtMs: this.startAtMs,
      framesLate: this.framesLate,
      lateness: this.lateness,
      speech: this.speech,
      clears: this.clears,
      playedAtClearMs: this.playedAtClearMs,
      marks: this.marks,
      mediaFramesReceived: this.mediaFramesReceived,
      mediaBytesReceived: this.mediaBytesReceived,
      generations: this.generations,
      underruns: this.underruns,
      underrunMs: this.underrunMs,
      badMessages: this.badMessages,
      unknownEvents: this.unknownEvents,
      markerFrames: this.markerFrames
    }
  }

  /** @internal Called by the shared ticker. */
  onTick(nowMs: number): void {
    this.echoDueMarks(nowMs)
    if (!this.running) return
    // Send every frame that is due; frame k is due at start + 20k whatever happened before.
    while (this.running && this.startAtMs + this.framesSent * FRAME_MS <= nowMs) {
      this.sendFrame(this.startAtMs + this.framesSent * FRAME_MS)
    }
  }

  private sendFrame(dueAtMs: number): void {
    const src = this.queue[0]
    let b64 = SILENCE_B64
    let sourceDone = false
    let frameIndexInSpeech = -1
    if (src) {
      const seg = src.segment
      if (seg.kind === 'speech') {
        const offset = src.sent * FRAME_BYTES
        const n = Math.min(FRAME_BYTES, seg.audio.byteLength - offset)
        this.frame.set(seg.audio.subarray(offset, offset + n))
        if (n < FRAME_BYTES) this.frame.fill(SILENCE_BYTE, n)
        b64 = Buffer.from(this.frame.buffer, this.frame.byteOffset, FRAME_BYTES).toString('base64')
        frameIndexInSpeech = src.sent
        sourceDone = offset + n >= seg.audio.byteLength
      } else if (seg.kind === 'silence') {
        sourceDone = (src.sent + 1) * FRAME_MS >= seg.durationMs
      } else {
        src.startedAtMs ??= dueAtMs
        const playing = this.agentPlaying(dueAtMs)
        if (src.agentSeenAtMs === undefined && playing) src.agentSeenAtMs = dueAtMs
        if (playing) src.agentDoneAtMs = undefined
        else if (src.agentSeenAtMs !== undefined) src.agentDoneAtMs ??= dueAtMs
        const readyAtMs = seg.until === 'done' ? src.agentDoneAtMs : src.agentSeenAtMs
        const waitedMs = dueAtMs - src.startedAtMs
        sourceDone =
          waitedMs >= seg.timeoutMs ||
          (src.agentSeenAtMs === undefined && seg.startTimeoutMs !== undefined && waitedMs >= seg.startTimeoutMs) ||
          (readyAtMs !== undefined && dueAtMs - readyAtMs >= (seg.afterMs ?? 0))
      }
    }
    const chunk = this.framesSent + 1
    const text = `{"event":"media","sequenceNumber":"${++this.seq}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${this.framesSent * FRAME_MS}","payload":"${b64}"},"streamSid":"${this.streamSid}"}`
    if (!this.send(text)) return
    const sentAtMs = performance.now()
    const late = sentAtMs - dueAtMs
    this.lateness.push(late)
    if (late > LATE_FRAME_MS) this.framesLate++
    this.framesSent++
    if (src) {
      if (frameIndexInSpeech >= 0) this.recordSpeechFrame(src, frameIndexInSpeech, sentAtMs, sourceDone)
      src.sent++
      if (sourceDone) {
        this.queue.shift()
        src.resolve()
      }
    }
  }

  private recordSpeechFrame(src: FrameSource, index: number, sentAtMs: number, last: boolean): void {
    const seg = src.segment
    if (seg.kind !== 'speech') return
    if (!src.record) {
      src.record = {
        label: seg.label,
        startSentAtMs: sentAtMs,
        onsetSentAtMs: undefined,
        offsetSentAtMs: undefined,
        endSentAtMs: undefined,
        agentPlayingAtOnset: false,
        clearAtMs: undefined,
        firstAgentMediaAtMs: undefined
      }
      this.speech.push(src.record)
    }
    const rec = src.record
    const onsetFrame = Math.floor((seg.onsetMs ?? 0) / FRAME_MS)
    const durationMs = seg.audio.byteLength / BYTES_PER_MS
    // The frame that carries the offset: the server can know speech ended only once it arrives.
    const offsetFrame = Math.max(0, Math.ceil(Math.min(seg.offsetMs ?? durationMs, durationMs) / FRAME_MS) - 1)
    if (index === onsetFrame) {
      rec.onsetSentAtMs = sentAtMs
      rec.agentPlayingAtOnset = this.agentPlaying(sentAtMs)
    }
    if (index === offsetFrame) {
      rec.offsetSentAtMs = sentAtMs
      this.lastOffsetSentAtMs = sentAtMs
    }
    if (last) rec.endSentAtMs = sentAtMs
  }

  private send(text: string): boolean {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      this.stopSending()
      return false
    }
    ws.send(text)
    return true
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const nowMs = performance.now()
    if (isBinary) {
      this.badMessages++
      return
    }
    let msg: { event?: unknown; streamSid?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } }
    try {
      msg = JSON.parse(data.toString('utf8')) as typeof msg
    } catch {
      this.badMessages++
      return
    }
    if (typeof msg !== 'object' || msg === null || msg.streamSid !== this.streamSid) {
      this.badMessages++
      return
    }
    switch (msg.event) {
      case 'media': {
        const payload = msg.media?.payload
        if (typeof payload !== 'string') {
          this.badMessages++
          return
        }
        if (this.opts.markerByte !== undefined) this.markerFrames += markerFrames(payload, this.opts.markerByte)
        this.onMedia(Buffer.byteLength(payload, 'base64'), nowMs)
        return
      }
      case 'mark': {
        const name = msg.mark?.name
        if (typeof name !== 'string') {
          this.badMessages++
          return
        }
        this.onMark(name, nowMs)
        return
      }
      case 'clear':
        this.onClear(nowMs)
        return
      default:
        this.unknownEvents++
    }
  }

  private onMedia(bytes: number, nowMs: number): void {
    const gen = this.generations[this.generations.length - 1]!
    const wasPlaying = this.agentPlaying(nowMs)
    const window = this.opts.underrunWindowMs ?? 500
    // Ran dry and resumed shortly after, with no caller turn in between: the caller heard a hole.
    if (!wasPlaying && gen.framesReceived > 0 && this.lastOffsetSentAtMs < this.playbackEndsAtMs) {
      const gapMs = nowMs - this.playbackEndsAtMs
      if (gapMs > 0 && gapMs < window) {
        this.underruns++
        this.underrunMs += gapMs
      }
    }
    this.playbackEndsAtMs = Math.max(nowMs, this.playbackEndsAtMs) + bytes / BYTES_PER_MS
    // A message may carry several 20 ms frames (Twilio takes payloads of any size): counted in frames' worth.
    const frames = Math.ceil(bytes / FRAME_BYTES)
    this.mediaFramesReceived += frames
    this.mediaBytesReceived += bytes
    gen.framesReceived += frames
    gen.bytesReceived += bytes
    gen.firstMediaAtMs ??= nowMs
    if (this.generations.length > 1 && this.lastOffsetSentAtMs < gen.startedAtMs) gen.staleFrames += frames
    // Credited to the latest utterance whose end has gone out; an earlier one left unanswered stays unanswered.
    for (let i = this.speech.length - 1; i >= 0; i--) {
      const rec = this.speech[i]!
      if (rec.offsetSentAtMs === undefined) continue
      if (rec.firstAgentMediaAtMs === undefined) {
        rec.firstAgentMediaAtMs = nowMs
        // Playback is first in, first out: this reply starts once everything kept before it has played.
        this.replyStartBytes = this.mediaBytesReceived - bytes - this.discardedBytes
      }
      break
    }
    this.emit('media', bytes)
  }

  private onMark(name: string, nowMs: number): void {
    const record: MarkRecord = { name, receivedAtMs: nowMs, echoedAtMs: undefined, cleared: false }
    this.marks.push(record)
    // Echoed when everything queued before it has played; with nothing queued, at once.
    this.pendingMarks.push({ name, dueAtMs: Math.max(nowMs, this.playbackEndsAtMs), record })
    this.echoDueMarks(nowMs)
  }

  private onClear(nowMs: number): void {
    this.clears.push(nowMs)
    const queuedBytes = Math.max(0, this.playbackEndsAtMs - nowMs) * BYTES_PER_MS
    const playedBytes = this.mediaBytesReceived - this.discardedBytes - queuedBytes
    this.playedAtClearMs.push(Math.max(0, playedBytes - this.replyStartBytes) / BYTES_PER_MS)
    this.discardedBytes += queuedBytes
    // Credited to the latest utterance whose onset has gone out, as with agent media.
    for (let i = this.speech.length - 1; i >= 0; i--) {
      const rec = this.speech[i]!
      if (rec.onsetSentAtMs === undefined) continue
      rec.clearAtMs ??= nowMs
      break
    }
    this.playbackEndsAtMs = nowMs
    for (const m of this.pendingMarks) m.record.cleared = true
    this.echoDueMarks(Number.POSITIVE_INFINITY)
    this.generations.push({
      startedAtMs: nowMs,
      framesReceived: 0,
      bytesReceived: 0,
      firstMediaAtMs: undefined,
      staleFrames: 0
    })
    this.emit('clear')
  }

  private echoDueMarks(nowMs: number): void {
    let n = 0
    while (n < this.pendingMarks.length && this.pendingMarks[n]!.dueAtMs <= nowMs) {
      const m = this.pendingMarks[n]!
      if (
        !this.send(
          `{"event":"mark","sequenceNumber":"${++this.seq}","streamSid":"${this.streamSid}","mark":{"name":${JSON.stringify(m.name)}}}`
        )
      ) {
        break
      }
      m.record.echoedAtMs = performance.now()
      this.emit('mark', m.name)
      n++
    }
    if (n > 0) this.pendingMarks.splice(0, n)
  }

  private stopSending(): void {
    if (!this.running) return
    this.running = false
    // Whatever was still scripted will never be sent; let play() callers go on.
    for (const src of this.queue.splice(0)) src.resolve()
  }

  private onClose(code: number, by: 'us' | 'server'): void {
    this.stopSending()
    this.closedAtMs = performance.now()
    this.closeCode = code
    this.closedBy = by
    this.pendingMarks.length = 0
    ticker.remove(this)
    this.emit('close', code)
    this.resolveClosed(code)
  }
}

/** A speech clip from test/fixtures/speech (μ-law 8 kHz, with measured speech onset and offset). */
export interface SpeechClip {
  file: string
  text: string
  durationMs: number
  onsetMs: number
  offsetMs: number
  audio: Uint8Array
}

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'speech')

/** Loads the speech fixtures listed in index.json. */
export function loadSpeechClips(dir = FIXTURE_DIR): SpeechClip[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    clips: Array<{ file: string; text: string; durationMs: number; speechOnsetMs: number; speechOffsetMs: number }>
  }
  return index.clips.map((c) => ({
    file: c.file,
    text: c.text,
    durationMs: c.durationMs,
    onsetMs: c.speechOnsetMs,
    offsetMs: c.speechOffsetMs,
    audio: new Uint8Array(readFileSync(join(dir, c.file)))
  }))
}

/** A speech segment for a clip, carrying its measured onset and offset. */
export function speechOf(clip: SpeechClip): SpeechSegment {
  return { kind: 'speech', audio: clip.audio, onsetMs: clip.onsetMs, offsetMs: clip.offsetMs, label: clip.file }
}

/** The 20 ms frames of a payload made only of `byte` (a payload may carry several frames). */
function markerFrames(payloadB64: string, byte: number): number {
  const bytes = Buffer.from(payloadB64, 'base64')
  let count = 0
  for (let at = 0; at < bytes.length; at += FRAME_BYTES) {
    const frame = bytes.subarray(at, at + FRAME_BYTES)
    if (frame.every((b) => b === byte)) count++
  }
  return count
}
