/** A fake ElevenLabs on 127.0.0.1: Agents WebSocket, signed URLs, agents, voices, TTS stream and stream-input. */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { FakeScribe, type SttTurnInfo } from './elevenlabs-stt.js'

// Protocol facts: PROTOCOLS.md §5. This file speaks the wire itself and imports nothing from src/, so a
// bug in our client cannot hide behind the same bug here.

/** The byte the late audio after an interruption is made of (a quiet μ-law value no tone or fixture fills a frame with). */
export const LATE_AUDIO_BYTE = 0x7e

/** Text made only of this character is spoken as LATE_AUDIO_BYTE audio (text a client should never have sent). */
export const MARKER_TEXT_CHAR = '~'

function isMarkerText(text: string): boolean {
  const t = text.trim()
  return t.length > 0 && [...t].every((c) => c === MARKER_TEXT_CHAR)
}

export type FakeAudioFormat = 'ulaw_8000' | 'pcm_8000' | 'pcm_16000' | 'pcm_22050' | 'pcm_24000' | 'pcm_44100' | 'pcm_48000'

export interface FakeAgent {
  agentId: string
  name: string
  /** `conversation_config` as sent (snake_case), kept whole. */
  conversationConfig: Record<string, unknown>
  platformSettings?: Record<string, unknown>
  tags: string[]
}

export interface FakeVoice {
  voice_id: string
  name: string
  category: string
  labels: Record<string, string>
  preview_url: string
  description?: string
}

/** What the agent does after a caller turn (or as its first message). */
export interface FakeReply {
  text: string
  /** Length of the reply's audio, ms. Default `replyAudioMs`. */
  audioMs?: number
  /** A client tool call sent once the reply's audio is out. */
  toolCall?: { name: string; parameters?: Record<string, unknown> }
}

export interface FakeElevenLabsOptions {
  /** The key every request must carry in `xi-api-key`. Default 'test-key'. */
  apiKey?: string
  /** Server pings every this many ms; 0 = none. Default 1000. */
  pingIntervalMs?: number
  /** Reply audio length when a reply names none, ms. Default 1200. */
  replyAudioMs?: number
  /** Audio per `audio` event, ms. Default 100. */
  chunkMs?: number
  /** Time between `audio` events, ms (below chunkMs = faster than real time). Default 10. */
  chunkIntervalMs?: number
  /** Caller RMS (16-bit scale) above which a chunk counts as speech. Default 600. */
  speechRms?: number
  /** Speech needed to start a caller turn, ms. Default 60. */
  minSpeechMs?: number
  /** Silence that ends a caller turn, ms. Default 300. */
  endOfTurnSilenceMs?: number
  /** The reply to caller turn `turn` (1-based). Default: "You said something (turn N)." */
  respond?: (turn: number, conv: FakeConversation) => FakeReply | undefined
  /** Keep every client frame in `received` (audio as its size). Off for long benchmark runs. Default true. */
  recordFrames?: boolean
  /** After an interruption, send one more audio event with an id at or below it (in-flight audio). Default false. */
  lateAudioAfterInterruption?: boolean
  /** TTS audio per character of text, ms. Default 40 (at least 200 ms). */
  ttsMsPerChar?: number
  /** TTS audio per streamed chunk, ms. Default 100. */
  ttsChunkMs?: number
  /** Time between TTS chunks, ms. Default 10. */
  ttsChunkIntervalMs?: number
  voices?: FakeVoice[]
  /** Speech to text (test/fakes/elevenlabs-stt.ts): commit or upload → transcript, ms. Default 0. */
  sttDelayMs?: number
  /** What the caller said in STT turn `info.index`. Default "caller turn N". */
  transcribe?: (info: SttTurnInfo) => string
  /** stream-input socket: time before the first audio of each generation, ms. Default 0. */
  ttsFirstByteDelayMs?: number
}

export interface TtsRecord {
  kind: 'stream' | 'convert'
  voiceId: string
  query: Record<string, string>
  body: Record<string, unknown>
  bytesSent: number
  /** The client went away before the end. */
  aborted: boolean
  done: boolean
}

export interface TtsSocketRecord {
  voiceId: string
  query: Record<string, string>
  messages: Array<Record<string, unknown>>
  audioMessages: number
  finalSent: boolean
  /** The client's `X-Client-Request-Id` (the app sends its call id). */
  requestId?: string
  /** When the first text message after the init arrived (performance.now()). */
  firstTextAtMs?: number
  /** When the first audio message went out (performance.now()). */
  firstAudioSentAtMs?: number
  /** When the socket closed (performance.now()), and whether the client closed it before `isFinal`. */
  closedAtMs?: number
  closedBeforeFinal?: boolean
}

export interface RequestRecord {
  method: string
  path: string
  query: Record<string, string>
  apiKey: string | undefined
  body: unknown
}

const DEFAULT_VOICES: FakeVoice[] = [
  { voice_id: 'voice-rachel', name: 'Rachel', category: 'premade', labels: { accent: 'american', gender: 'female' }, preview_url: 'http://127.0.0.1/preview/rachel.mp3' },
  { voice_id: 'voice-adam', name: 'Adam', category: 'premade', labels: { accent: 'american', gender: 'male' }, preview_url: 'http://127.0.0.1/preview/adam.mp3' },
  // The real premade voice the app speaks with when settings name none (cascade, hybrid, Gather).
  { voice_id: '21m00Tcm4TlvDq8ikWAM', name: 'Rachel (default)', category: 'premade', labels: { accent: 'american', gender: 'female' }, preview_url: 'http://127.0.0.1/preview/default.mp3' }
]

type ResolvedOptions = Required<Omit<FakeElevenLabsOptions, 'respond' | 'voices' | 'sttDelayMs' | 'transcribe'>> & Pick<FakeElevenLabsOptions, 'respond'>

/** One agent conversation, as the fake sees it. */
export class FakeConversation extends EventEmitter<{ message: [Record<string, unknown>]; closed: [code: number] }> {
  readonly id = 'conv_' + randomBytes(8).toString('hex')
  readonly agentId: string
  /** Every client frame, parsed, in order; audio chunks as `{user_audio_chunk: <bytes>}`. */
  readonly received: Array<Record<string, unknown>> = []
  initiation: Record<string, unknown> | undefined
  /** Frames that arrived before `conversation_initiation_client_data`. */
  framesBeforeInitiation = 0
  userAudioChunks = 0
  userAudioBytes = 0
  /** Ping event id → sent at (performance.now()). */
  readonly pingsSentAt = new Map<number, number>()
  readonly pongLatenciesMs: number[] = []
  /** When each of those pings was sent (performance.now()), in the same order. */
  readonly pongPingSentAtMs: number[] = []
  /** Pongs whose event_id matched no ping. */
  badPongs = 0
  readonly toolResults: Array<Record<string, unknown>> = []
  readonly contextualUpdates: string[] = []
  readonly audioEventIds: number[] = []
  readonly interruptions: number[] = []
  /** When each interruption was sent (performance.now()). */
  readonly interruptionsSentAtMs: number[] = []
  /** Each reply's first audio event, when it was sent (performance.now()). */
  readonly replyFirstAudioSentAtMs: number[] = []
  callerTurns = 0
  /** WebSocket-level pings from the client (keep-alives). */
  wsPings = 0
  closed = false
  closeCode: number | undefined
  inputFormat: FakeAudioFormat
  outputFormat: FakeAudioFormat

  readonly #ws: WebSocket
  readonly #fake: FakeElevenLabs
  readonly #opts: ResolvedOptions
  #eventId = 0
  #pingTimer: NodeJS.Timeout | undefined
  #replyTimer: NodeJS.Timeout | undefined
  #replyChunksLeft = 0
  #replyPending: FakeReply | undefined
  #replyFirstChunk = false
  #lastAudioId = -1
  #playEndsAtMs = 0
  #phase = 0
  // Caller VAD, on audio time.
  #speechMs = 0
  #silenceMs = 0
  #inTurn = false
  #stalled = false

  constructor(ws: WebSocket, fake: FakeElevenLabs, agentId: string, formats: { input: FakeAudioFormat; output: FakeAudioFormat }, opts: ResolvedOptions) {
    super()
    this.#ws = ws
    this.#fake = fake
    this.agentId = agentId
    this.inputFormat = formats.input
    this.outputFormat = formats.output
    this.#opts = opts
    ws.on('message', (data, isBinary) => this.#onFrame(data as Buffer, isBinary))
    ws.on('ping', (payload) => {
      this.wsPings++
      if (!this.#stalled) ws.pong(payload)
    })
    ws.on('close', (code) => {
      this.closed = true
      this.closeCode = code
      this.#stop()
      this.emit('closed', code)
    })
    ws.on('error', () => undefined)
  }

  /** The agent speaks a reply now (as after a caller turn). */
  reply(reply: FakeReply): void {
    this.#stopReply()
    this.#send({ type: 'agent_response', agent_response_event: { agent_response: reply.text, event_id: ++this.#eventId } })
    const audioMs = reply.audioMs ?? this.#opts.replyAudioMs
    this.#replyChunksLeft = Math.max(1, Math.ceil(audioMs / this.#opts.chunkMs))
    this.#replyPending = reply
    this.#replyFirstChunk = true
    this.#sendChunk()
  }

  /** Sends a client tool call; resolves with the client's `client_tool_result`. */
  toolCall(name: string, parameters: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const toolCallId = 'tool_' + randomBytes(6).toString('hex')
    this.#send({ type: 'client_tool_call', client_tool_call: { tool_name: name, tool_call_id: toolCallId, parameters, event_id: ++this.#eventId } })
    return new Promise((resolve) => {
      const check = (msg: Record<string, unknown>) => {
        if (msg.type === 'client_tool_result' && msg.tool_call_id === toolCallId) {
          this.off('message', check)
          resolve(msg)
        }
      }
      this.on('message', check)
    })
  }

  /** Sends any server event as is. */
  sendRaw(msg: Record<string, unknown>): void {
    this.#send(msg)
  }

  /** Sends an interruption now, for the audio sent so far. */
  interrupt(): number {
    const id = this.#lastAudioId
    this.#stopReply()
    this.interruptions.push(id)
    this.interruptionsSentAtMs.push(performance.now())
    this.#send({ type: 'interruption', interruption_event: { event_id: id } })
    if (this.#opts.lateAudioAfterInterruption && id >= 0) {
      // In flight when the interruption was decided: the client must drop it. Made of one marker byte, so a
      // simulated caller can tell if any of it was ever played.
      const late = Buffer.alloc(Math.round(this.#opts.chunkMs * 8), LATE_AUDIO_BYTE)
      this.#send({ type: 'audio', audio_event: { audio_base_64: late.toString('base64'), event_id: id } })
    }
    return id
  }

  /** The agent is still "speaking": audio sent would not have finished playing in real time. */
  agentSpeaking(): boolean {
    return this.#replyChunksLeft > 0 || performance.now() < this.#playEndsAtMs
  }

  /** The upstream vanishes (socket destroyed, no close frame). */
  drop(): void {
    this.#stop()
    this.#ws.terminate()
  }

  /** The upstream stops answering anything, pings included, and keeps the socket open. */
  stall(): void {
    this.#stalled = true
    this.#stop()
  }

  close(code = 1000): void {
    this.#stop()
    this.#ws.close(code)
  }

  /** Resolves once a client frame matches. */
  waitFor(pred: (msg: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const found = this.received.find(pred)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => {
      const check = (msg: Record<string, unknown>) => {
        if (pred(msg)) {
          this.off('message', check)
          resolve(msg)
        }
      }
      this.on('message', check)
    })
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    if (isBinary || this.#stalled) return
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(data.toString()) as Record<string, unknown>
    } catch {
      this.#ws.close(1008, 'invalid json')
      return
    }
    if (typeof msg.user_audio_chunk === 'string') {
      if (!this.initiation) this.framesBeforeInitiation++
      this.userAudioChunks++
      const audio = Buffer.from(msg.user_audio_chunk, 'base64')
      this.userAudioBytes += audio.length
      const recorded = { user_audio_chunk: audio.length }
      if (this.#opts.recordFrames) this.received.push(recorded)
      this.#vad(audio)
      this.emit('message', recorded)
      return
    }
    this.received.push(msg)
    switch (msg.type) {
      case 'conversation_initiation_client_data':
        this.initiation = msg
        this.#begin()
        break
      case 'pong': {
        const sentAt = this.pingsSentAt.get(msg.event_id as number)
        if (sentAt === undefined) this.badPongs++
        else {
          this.pingsSentAt.delete(msg.event_id as number)
          this.pongLatenciesMs.push(performance.now() - sentAt)
          this.pongPingSentAtMs.push(sentAt)
        }
        break
      }
      case 'client_tool_result':
        this.toolResults.push(msg)
        break
      case 'contextual_update':
        this.contextualUpdates.push(String(msg.text))
        break
      default:
        if (!this.initiation) this.framesBeforeInitiation++
    }
    this.emit('message', msg)
  }

  #begin(): void {
    this.#send({
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: {
        conversation_id: this.id,
        agent_output_audio_format: this.outputFormat,
        user_input_audio_format: this.inputFormat
      }
    })
    if (this.#opts.pingIntervalMs > 0) {
      this.#pingTimer = setInterval(() => {
        const id = ++this.#eventId
        this.pingsSentAt.set(id, performance.now())
        this.#send({ type: 'ping', ping_event: { event_id: id, ping_ms: null } })
      }, this.#opts.pingIntervalMs)
    }
    const override = (this.initiation?.conversation_config_override as { agent?: { first_message?: string } } | undefined)?.agent
    const agentConfig = (this.#fake.agents.get(this.agentId)?.conversationConfig.agent ?? {}) as { first_message?: string }
    const first = override?.first_message ?? agentConfig.first_message
    if (first) this.reply({ text: first })
  }

  #vad(audio: Buffer): void {
    const { rms, durationMs } = measure(audio, this.inputFormat)
    if (rms >= this.#opts.speechRms) {
      this.#speechMs += durationMs
      this.#silenceMs = 0
      if (!this.#inTurn && this.#speechMs >= this.#opts.minSpeechMs) {
        this.#inTurn = true
        if (this.agentSpeaking()) this.interrupt()
      }
    } else {
      this.#silenceMs += durationMs
      if (this.#silenceMs >= this.#opts.endOfTurnSilenceMs) {
        this.#speechMs = 0
        if (this.#inTurn) {
          this.#inTurn = false
          this.#callerTurn()
        }
      }
    }
  }

  #callerTurn(): void {
    const turn = ++this.callerTurns
    this.#send({ type: 'user_transcript', user_transcription_event: { user_transcript: `caller turn ${turn}`, event_id: ++this.#eventId } })
    const reply = this.#opts.respond ? this.#opts.respond(turn, this) : { text: `You said something (turn ${turn}).` }
    if (reply) this.reply(reply)
  }

  #sendChunk = (): void => {
    this.#replyTimer = undefined
    if (this.#replyChunksLeft <= 0 || this.closed) return
    this.#replyChunksLeft--
    const id = ++this.#eventId
    this.#lastAudioId = id
    this.audioEventIds.push(id)
    const payload = JSON.stringify({ type: 'audio', audio_event: { audio_base_64: this.#audio(this.#opts.chunkMs).toString('base64'), event_id: id } })
    const now = performance.now()
    if (this.#replyFirstChunk) {
      this.#replyFirstChunk = false
      this.replyFirstAudioSentAtMs.push(now)
    }
    this.#sendText(payload)
    this.#playEndsAtMs = Math.max(now, this.#playEndsAtMs) + this.#opts.chunkMs
    if (this.#replyChunksLeft > 0) {
      this.#replyTimer = setTimeout(this.#sendChunk, this.#opts.chunkIntervalMs)
      return
    }
    const tool = this.#replyPending?.toolCall
    this.#replyPending = undefined
    if (tool) void this.toolCall(tool.name, tool.parameters)
  }

  #audio(ms: number): Buffer {
    const out = tone(this.outputFormat, ms, this.#phase)
    this.#phase = out.phase
    return out.bytes
  }

  #stopReply(): void {
    clearTimeout(this.#replyTimer)
    this.#replyTimer = undefined
    this.#replyChunksLeft = 0
    this.#replyPending = undefined
    this.#playEndsAtMs = 0
  }

  #stop(): void {
    clearInterval(this.#pingTimer)
    this.#stopReply()
  }

  #send(msg: Record<string, unknown>): void {
    this.#sendText(JSON.stringify(msg))
  }

  #sendText(text: string): void {
    if (this.#stalled || this.#ws.readyState !== this.#ws.OPEN) return
    this.#ws.send(text)
  }
}

export class FakeElevenLabs extends EventEmitter<{ conversation: [FakeConversation] }> {
  readonly agents = new Map<string, FakeAgent>()
  readonly voices: FakeVoice[]
  readonly conversations: FakeConversation[] = []
  readonly requests: RequestRecord[] = []
  readonly tts: TtsRecord[] = []
  readonly ttsSockets: TtsSocketRecord[] = []
  /** Scribe speech to text on the same base URL. */
  readonly stt: FakeScribe
  /** The account's subscription as `GET /v1/user` shows it. */
  readonly subscription = { tier: 'creator', characterCount: 1234, characterLimit: 100_000, status: 'active' }
  /** What the next TTS stream does: play out, drop after the first chunk, or stall after it. */
  ttsBehaviour: 'normal' | 'drop' | 'stall' = 'normal'
  readonly #opts: ResolvedOptions
  readonly #server: Server
  readonly #wss: WebSocketServer
  readonly #signatures = new Map<string, string>()
  readonly #sockets = new Set<Socket>()
  #agentSeq = 0

  private constructor(opts: FakeElevenLabsOptions) {
    super()
    this.#opts = {
      apiKey: opts.apiKey ?? 'test-key',
      pingIntervalMs: opts.pingIntervalMs ?? 1000,
      replyAudioMs: opts.replyAudioMs ?? 1200,
      chunkMs: opts.chunkMs ?? 100,
      chunkIntervalMs: opts.chunkIntervalMs ?? 10,
      speechRms: opts.speechRms ?? 600,
      minSpeechMs: opts.minSpeechMs ?? 60,
      endOfTurnSilenceMs: opts.endOfTurnSilenceMs ?? 300,
      lateAudioAfterInterruption: opts.lateAudioAfterInterruption ?? false,
      recordFrames: opts.recordFrames ?? true,
      ttsMsPerChar: opts.ttsMsPerChar ?? 40,
      ttsChunkMs: opts.ttsChunkMs ?? 100,
      ttsChunkIntervalMs: opts.ttsChunkIntervalMs ?? 10,
      ttsFirstByteDelayMs: opts.ttsFirstByteDelayMs ?? 0,
      ...(opts.respond ? { respond: opts.respond } : {})
    }
    this.stt = new FakeScribe({
      apiKey: this.#opts.apiKey,
      ...(opts.sttDelayMs !== undefined ? { delayMs: opts.sttDelayMs } : {}),
      ...(opts.transcribe ? { transcribe: opts.transcribe } : {})
    })
    this.voices = opts.voices ?? DEFAULT_VOICES.map((v) => ({ ...v, labels: { ...v.labels } }))
    this.#wss = new WebSocketServer({ noServer: true, autoPong: false, perMessageDeflate: false })
    this.#server = createServer((req, res) => void this.#http(req, res))
    this.#server.on('connection', (s) => {
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
    })
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head))
  }

  static async start(opts: FakeElevenLabsOptions = {}): Promise<FakeElevenLabs> {
    const fake = new FakeElevenLabs(opts)
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve))
    return fake
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  /** Base URL for the SDK (`baseUrl`) and ELEVENLABS_BASE_URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get apiKey(): string {
    return this.#opts.apiKey
  }

  /** Adds an agent set for the given formats (ElevenLabs' default is pcm_16000 both ways). */
  addAgent(opts: { agentId?: string; name?: string; input?: FakeAudioFormat; output?: FakeAudioFormat; firstMessage?: string; tags?: string[] } = {}): FakeAgent {
    const agentId = opts.agentId ?? `agent_${++this.#agentSeq}`
    const agent: FakeAgent = {
      agentId,
      name: opts.name ?? agentId,
      conversationConfig: {
        agent: { ...(opts.firstMessage ? { first_message: opts.firstMessage } : {}), prompt: { prompt: 'You are a test agent.' } },
        asr: { user_input_audio_format: opts.input ?? 'ulaw_8000' },
        tts: { agent_output_audio_format: opts.output ?? 'ulaw_8000' }
      },
      tags: opts.tags ?? []
    }
    this.agents.set(agentId, agent)
    return agent
  }

  /** The conversation of our call `callId` (from its `call_id` dynamic variable). */
  conversationFor(callId: string): FakeConversation | undefined {
    return this.conversations.find((c) => (c.initiation?.dynamic_variables as Record<string, unknown> | undefined)?.call_id === callId)
  }

  /** The next conversation to open. */
  nextConversation(): Promise<FakeConversation> {
    return new Promise((resolve) => this.once('conversation', resolve))
  }

  async stop(): Promise<void> {
    this.stt.close()
    for (const c of this.#wss.clients) c.terminate()
    this.#wss.close()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
      for (const s of this.#sockets) s.destroy()
    })
  }

  // ---- HTTP ----

  async #http(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    if (this.stt.handleHttp(req, res, url)) return
    const query = Object.fromEntries(url.searchParams)
    const raw = await readAll(req)
    let body: unknown = undefined
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        body = raw.toString('utf8')
      }
    }
    const apiKey = header(req, 'xi-api-key')
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query, apiKey, body })
    if (apiKey !== this.#opts.apiKey) return json(res, 401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } })
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const m = req.method ?? 'GET'
    const b = (body ?? {}) as Record<string, unknown>

    if (m === 'GET' && url.pathname === '/v1/convai/conversation/get-signed-url') {
      const agentId = query.agent_id ?? ''
      if (!this.agents.has(agentId)) return json(res, 404, { detail: { status: 'agent_not_found', message: `Agent ${agentId} not found` } })
      const signature = randomBytes(12).toString('hex')
      this.#signatures.set(signature, agentId)
      return json(res, 200, { signed_url: `ws://127.0.0.1:${this.port}/v1/convai/conversation?agent_id=${encodeURIComponent(agentId)}&conversation_signature=${signature}` })
    }
    if (m === 'POST' && url.pathname === '/v1/convai/agents/create') {
      const agentId = `agent_${++this.#agentSeq}`
      const agent: FakeAgent = {
        agentId,
        name: typeof b.name === 'string' ? b.name : agentId,
        conversationConfig: (b.conversation_config ?? {}) as Record<string, unknown>,
        ...(b.platform_settings ? { platformSettings: b.platform_settings as Record<string, unknown> } : {}),
        tags: Array.isArray(b.tags) ? (b.tags as string[]) : []
      }
      this.agents.set(agentId, agent)
      return json(res, 200, { agent_id: agentId })
    }
    if (parts[0] === 'v1' && parts[1] === 'convai' && parts[2] === 'agents' && parts.length === 4) {
      const agent = this.agents.get(parts[3]!)
      if (!agent) return json(res, 404, { detail: { status: 'agent_not_found', message: 'Agent not found' } })
      if (m === 'PATCH') {
        if (typeof b.name === 'string') agent.name = b.name
        if (b.conversation_config) agent.conversationConfig = deepMerge(agent.conversationConfig, b.conversation_config as Record<string, unknown>)
        if (b.platform_settings) agent.platformSettings = b.platform_settings as Record<string, unknown>
        if (Array.isArray(b.tags)) agent.tags = b.tags as string[]
      } else if (m !== 'GET') return json(res, 405, { detail: 'method not allowed' })
      return json(res, 200, agentView(agent))
    }
    if (m === 'GET' && url.pathname === '/v1/user') return json(res, 200, this.#user())
    if (m === 'GET' && url.pathname === '/v1/voices') return json(res, 200, { voices: this.voices })
    if (m === 'GET' && parts[0] === 'v1' && parts[1] === 'voices' && parts.length === 3) {
      const voice = this.voices.find((v) => v.voice_id === parts[2])
      if (!voice) return json(res, 404, { detail: { status: 'voice_not_found', message: `A voice with the voice_id ${parts[2]} was not found.` } })
      return json(res, 200, voice)
    }
    if (m === 'POST' && parts[0] === 'v1' && parts[1] === 'text-to-speech' && (parts.length === 3 || (parts.length === 4 && parts[3] === 'stream'))) {
      return this.#tts(res, parts[2]!, parts.length === 4 ? 'stream' : 'convert', query, b)
    }
    json(res, 404, { detail: 'not found' })
  }

  /** `GET /v1/user`: every field the SDK requires (serialization/types/User, SubscriptionResponse). */
  #user(): Record<string, unknown> {
    return {
      user_id: 'user_fake',
      workspace_id: 'workspace_fake',
      subscription: {
        tier: this.subscription.tier,
        character_count: this.subscription.characterCount,
        character_limit: this.subscription.characterLimit,
        max_credit_limit_extension: 0,
        can_extend_character_limit: false,
        allowed_to_extend_character_limit: false,
        voice_slots_used: 0,
        professional_voice_slots_used: 0,
        professional_voice_slots_used_in_workspace: 0,
        voice_limit: 30,
        voice_add_edit_counter: 0,
        professional_voice_limit: 1,
        can_extend_voice_limit: false,
        can_use_instant_voice_cloning: true,
        can_use_professional_voice_cloning: false,
        current_overage: { amount: '0', currency: 'usd' },
        status: this.subscription.status
      },
      is_new_user: false,
      can_use_delayed_payment_methods: false,
      is_onboarding_completed: true,
      is_onboarding_checklist_completed: true,
      created_at: 1_700_000_000,
      seat_type: 'workspace_admin'
    }
  }

  async #tts(res: ServerResponse, voiceId: string, kind: TtsRecord['kind'], query: Record<string, string>, body: Record<string, unknown>): Promise<void> {
    if (!this.voices.some((v) => v.voice_id === voiceId)) {
      return json(res, 404, { detail: { status: 'voice_not_found', message: `A voice with the voice_id ${voiceId} was not found.` } })
    }
    const text = typeof body.text === 'string' ? body.text : ''
    if (!text) return json(res, 422, { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] })
    const format = query.output_format ?? 'mp3_44100_128'
    const record: TtsRecord = { kind, voiceId, query, body, bytesSent: 0, aborted: false, done: false }
    this.tts.push(record)
    const behaviour = this.ttsBehaviour
    this.ttsBehaviour = 'normal'
    const totalMs = Math.max(200, text.length * this.#opts.ttsMsPerChar)
    res.writeHead(200, { 'content-type': format.startsWith('mp3') ? 'audio/mpeg' : 'application/octet-stream' })
    res.flushHeaders()
    res.on('close', () => {
      if (!record.done) record.aborted = true
    })
    let phase = 0
    for (let at = 0; at < totalMs; at += this.#opts.ttsChunkMs) {
      if (res.destroyed) return
      const ms = Math.min(this.#opts.ttsChunkMs, totalMs - at)
      let bytes: Buffer
      if (format.startsWith('mp3')) bytes = fakeMp3(ms)
      else {
        const t = tone(format as FakeAudioFormat, ms, phase)
        phase = t.phase
        bytes = t.bytes
      }
      res.write(bytes)
      record.bytesSent += bytes.length
      if (behaviour === 'drop') {
        res.destroy()
        return
      }
      if (behaviour === 'stall') return
      if (kind === 'stream') await delay(this.#opts.ttsChunkIntervalMs)
    }
    record.done = true
    res.end()
  }

  // ---- WebSockets ----

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    if (this.stt.handleUpgrade(req, socket, head, url)) return
    if (url.pathname === '/v1/convai/conversation') {
      const signature = url.searchParams.get('conversation_signature') ?? ''
      const agentId = this.#signatures.get(signature)
      if (!agentId || agentId !== url.searchParams.get('agent_id')) return refuse(socket, 403)
      this.#signatures.delete(signature)
      const agent = this.agents.get(agentId)
      if (!agent) return refuse(socket, 404)
      const cc = agent.conversationConfig as { asr?: { user_input_audio_format?: FakeAudioFormat }; tts?: { agent_output_audio_format?: FakeAudioFormat } }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        const conv = new FakeConversation(ws, this, agentId, {
          input: cc.asr?.user_input_audio_format ?? 'pcm_16000',
          output: cc.tts?.agent_output_audio_format ?? 'pcm_16000'
        }, this.#opts)
        this.conversations.push(conv)
        this.emit('conversation', conv)
      })
      return
    }
    if (parts[0] === 'v1' && parts[1] === 'text-to-speech' && parts[3] === 'stream-input' && parts.length === 4) {
      if (header(req, 'xi-api-key') !== this.#opts.apiKey) return refuse(socket, 401)
      const voiceId = parts[2]!
      if (!this.voices.some((v) => v.voice_id === voiceId)) return refuse(socket, 404)
      const requestId = header(req, 'x-client-request-id')
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#ttsSocket(ws, voiceId, Object.fromEntries(url.searchParams), requestId))
      return
    }
    refuse(socket, 404)
  }

  #ttsSocket(ws: WebSocket, voiceId: string, query: Record<string, string>, requestId?: string): void {
    const record: TtsSocketRecord = { voiceId, query, messages: [], audioMessages: 0, finalSent: false, ...(requestId ? { requestId } : {}) }
    this.ttsSockets.push(record)
    const format = (query.output_format ?? 'mp3_44100_128') as FakeAudioFormat | string
    let buffered = ''
    let phase = 0
    let queue = Promise.resolve()
    const generate = (text: string) => {
      queue = queue.then(async () => {
        const totalMs = Math.max(100, text.trim().length * this.#opts.ttsMsPerChar)
        if (this.#opts.ttsFirstByteDelayMs > 0) await delay(this.#opts.ttsFirstByteDelayMs)
        for (let at = 0; at < totalMs; at += this.#opts.ttsChunkMs) {
          if (ws.readyState !== ws.OPEN) return
          const ms = Math.min(this.#opts.ttsChunkMs, totalMs - at)
          let bytes: Buffer
          if (format.startsWith('mp3')) bytes = fakeMp3(ms)
          else if (format === 'ulaw_8000' && isMarkerText(text)) bytes = Buffer.alloc(ms * 8, LATE_AUDIO_BYTE)
          else {
            const t = tone(format as FakeAudioFormat, ms, phase)
            phase = t.phase
            bytes = t.bytes
          }
          const chars = [...text]
          ws.send(JSON.stringify({
            audio: bytes.toString('base64'),
            normalizedAlignment: at === 0 ? { chars, charStartTimesMs: chars.map((_, i) => i * 40), charDurationsMs: chars.map(() => 40) } : null,
            alignment: at === 0 ? { chars, charStartTimesMs: chars.map((_, i) => i * 40), charDurationsMs: chars.map(() => 40) } : null
          }))
          record.audioMessages++
          record.firstAudioSentAtMs ??= performance.now()
          await delay(this.#opts.ttsChunkIntervalMs)
        }
      })
    }
    ws.on('message', (data) => {
      let msg: Record<string, unknown>
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>
      } catch {
        ws.close(1008, 'invalid json')
        return
      }
      record.messages.push(msg)
      if (record.messages.length === 1) {
        if (msg.text !== ' ') ws.close(1008, 'first message must be the init message with text " "')
        return
      }
      const text = typeof msg.text === 'string' ? msg.text : ''
      if (text.trim()) record.firstTextAtMs ??= performance.now()
      if (text === '' && msg.flush !== true) {
        const rest = buffered
        buffered = ''
        if (rest.trim()) generate(rest)
        void queue.then(() => {
          if (ws.readyState !== ws.OPEN) return
          ws.send(JSON.stringify({ isFinal: true }))
          record.finalSent = true
          ws.close(1000)
        })
        return
      }
      buffered += text
      const auto = query.auto_mode === 'true' && /[.!?]\s*$/.test(buffered)
      if (msg.flush === true || msg.try_trigger_generation === true || auto) {
        const now = buffered
        buffered = ''
        if (now.trim()) generate(now)
      }
    })
    ws.on('close', () => {
      record.closedAtMs = performance.now()
      record.closedBeforeFinal = !record.finalSent
    })
    ws.on('error', () => undefined)
  }
}

// ---- helpers ----

function agentView(agent: FakeAgent): Record<string, unknown> {
  return {
    agent_id: agent.agentId,
    name: agent.name,
    conversation_config: agent.conversationConfig,
    metadata: { created_at_unix_secs: 1_700_000_000, updated_at_unix_secs: 1_700_000_000 },
    ...(agent.platformSettings ? { platform_settings: agent.platformSettings } : {}),
    tags: agent.tags
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function json(res: ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function refuse(socket: Socket, status: number): void {
  socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k]
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

function rateOf(format: string): number {
  const m = /_(\d+)$/.exec(format)
  return m ? Number(m[1]) : 16000
}

/** A 440 Hz tone in `format`, phase carried between chunks. */
export function tone(format: string, ms: number, phase = 0): { bytes: Buffer; phase: number } {
  const rate = rateOf(format)
  const n = Math.round((rate * ms) / 1000)
  const ulaw = format.startsWith('ulaw')
  const out = Buffer.alloc(ulaw ? n : n * 2)
  const step = (2 * Math.PI * 440) / rate
  let p = phase
  for (let i = 0; i < n; i++) {
    const s = Math.round(8000 * Math.sin(p))
    p += step
    if (ulaw) out[i] = ulawEncode(s)
    else out.writeInt16LE(s, i * 2)
  }
  return { bytes: out, phase: p % (2 * Math.PI) }
}

/** Bytes that look like MPEG-1 layer III frames (sync word and header), not decodable audio. */
export function fakeMp3(ms: number): Buffer {
  // 128 kbit/s at 44.1 kHz: 417-byte frames of 26.1 ms.
  const frames = Math.max(1, Math.round(ms / 26.1))
  const out = Buffer.alloc(frames * 417)
  for (let f = 0; f < frames; f++) out.set([0xff, 0xfb, 0x90, 0x64], f * 417)
  return out
}

// The classic Sun/CCITT μ-law encoder, written out here so the fake shares no code with the app.
function ulawEncode(sample: number): number {
  const BIAS = 0x84
  let s = Math.max(-32635, Math.min(32635, sample))
  const sign = s < 0 ? 0x80 : 0
  if (sign) s = -s
  s += BIAS
  let exponent = 7
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; exponent--, mask >>= 1);
  const mantissa = (s >> (exponent + 3)) & 0x0f
  return ~(sign | (exponent << 4) | mantissa) & 0xff
}

function ulawDecode(code: number): number {
  const u = ~code & 0xff
  const exponent = (u >> 4) & 7
  const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84
}

/** RMS (16-bit scale) and duration of a chunk of caller audio in `format`. */
function measure(audio: Buffer, format: FakeAudioFormat): { rms: number; durationMs: number } {
  const ulaw = format === 'ulaw_8000'
  const n = ulaw ? audio.length : audio.length >> 1
  if (n === 0) return { rms: 0, durationMs: 0 }
  let sum = 0
  for (let i = 0; i < n; i++) {
    const s = ulaw ? ulawDecode(audio[i]!) : audio.readInt16LE(i * 2)
    sum += s * s
  }
  return { rms: Math.sqrt(sum / n), durationMs: (n * 1000) / rateOf(format) }
}
