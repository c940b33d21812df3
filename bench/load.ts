/** Drives N simulated Twilio calls at once: each a bounded loop of utterances, pauses for the reply, and barge-ins. */
import { performance } from 'node:perf_hooks'
import {
  TwilioMediaSim,
  speechOf,
  type CallerSegment,
  type SimStats,
  type SpeechClip
} from '../test/fakes/twilio-media-sim.js'

export interface LoadOptions {
  /** Extra simulator options from the engine's fakes. */
  simOptions?: { markerByte?: number }
  mediaUrl: string
  controlUrl: string
  token: string
  /** Prefix of the call ids, unique per run. */
  runId: string
  calls: number
  durationMs: number
  mode: string
  vad: string | undefined
  /** End-of-turn silence the server is told to use, ms. */
  silenceMs: number
  /** The cascade's early reply, ms of silence (0 = off); unset: the server's setting. */
  earlyReplyMs?: number
  clips: readonly SpeechClip[]
  /** Every n-th turn barges in on the reply (0: never). */
  bargeInEvery: number
  /** Calls are opened over this long, so their handshakes and frame phases spread out. */
  rampMs: number
}

/** What the server says about one call (GET /api/calls/:id/live). */
export interface ServerCallStats {
  framesIn: number
  framesLost: number
  framesOut: number
  clears: number
  protocolErrors: number
}

/** The server's own view of one turn (TurnMetrics, call clock ms). */
export interface ServerTurn {
  turn?: number
  endOfTurnAtMs?: number
  /** When the first agent frame left for Twilio. */
  firstAudioOutAtMs?: number
  totalMs?: number
  endOfSpeechWaitMs?: number
  bridgeMs?: number
  /** Cascade only: the STT, LLM and TTS parts of the turn. */
  sttMs?: number
  llmFirstTokenMs?: number
  ttsFirstByteMs?: number
}

/** A caller turn as the server's VAD decided it, in stream ms (from the call's timeline). */
export interface ServerDecision {
  lastSpeechMs: number
  decidedAtMs: number
}

/** A timeline entry of the call (marks left out: they are many and no figure reads them). */
export interface ServerEvent {
  atMs: number
  kind: string
  data?: Record<string, unknown>
}

export interface CallResult {
  index: number
  sim: SimStats
  server: ServerCallStats | undefined
  serverTurns: ServerTurn[]
  serverDecisions: ServerDecision[]
  serverEvents: ServerEvent[]
  error: string | undefined
}

/** Longest the caller waits for a reply to start or finish before moving on; keeps every loop bounded. */
const REPLY_TIMEOUT_MS = 8_000

function turnSegments(clip: SpeechClip, next: SpeechClip, bargeIn: boolean, silenceMs: number): CallerSegment[] {
  if (!bargeIn) {
    return [
      speechOf(clip),
      { kind: 'waitForAgent', until: 'done', timeoutMs: silenceMs + REPLY_TIMEOUT_MS, afterMs: 400 }
    ]
  }
  // Speak again 300 ms into the reply; the barge-in utterance starts 100 ms before its onset.
  const leadMs = Math.min(100, next.onsetMs)
  const from = (next.onsetMs - leadMs) * 8
  return [
    speechOf(clip),
    { kind: 'waitForAgent', until: 'speaking', timeoutMs: silenceMs + REPLY_TIMEOUT_MS, afterMs: 300 },
    {
      kind: 'speech',
      audio: next.audio.subarray(from),
      onsetMs: leadMs,
      offsetMs: next.offsetMs - next.onsetMs + leadMs,
      label: `barge:${next.file}`
    },
    { kind: 'waitForAgent', until: 'done', timeoutMs: silenceMs + REPLY_TIMEOUT_MS, afterMs: 400 }
  ]
}

async function getJson(url: string, token: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`${url} answered ${res.status}`)
  return res.json()
}

async function serverViewOf(
  opts: LoadOptions,
  callId: string
): Promise<
  { stats: ServerCallStats; turns: ServerTurn[]; decisions: ServerDecision[]; events: ServerEvent[] } | undefined
> {
  const url = `${opts.controlUrl}/api/calls/${encodeURIComponent(callId)}/live?marks=0`
  const live = (await getJson(url, opts.token)) as {
    stats?: ServerCallStats
    turns?: ServerTurn[]
    timeline?: ServerEvent[]
  }
  const decisions = (live.timeline ?? [])
    .filter((e) => e.kind === 'vad.speech_end' && typeof e.data?.decidedAtMs === 'number')
    .map((e) => ({ lastSpeechMs: e.data!.lastSpeechMs as number, decidedAtMs: e.data!.decidedAtMs as number }))
  const events = live.timeline ?? []
  return live.stats ? { stats: live.stats, turns: live.turns ?? [], decisions, events } : undefined
}

/** Waits until the simulator has received as many agent frames as the server says it sent (bounded). */
async function settle(sim: TwilioMediaSim, framesOut: number): Promise<void> {
  const deadline = performance.now() + 2_000
  while (sim.stats().mediaFramesReceived < framesOut && performance.now() < deadline) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t)
        sim.off('media', done)
        resolve()
      }
      const t = setTimeout(done, 50)
      sim.on('media', done)
    })
  }
}

/** The id call `index` of a run goes by at the server (and so at the fakes it talks to). */
export function callIdOf(runId: string, index: number): string {
  return `${runId}-${index}`
}

async function runCall(opts: LoadOptions, index: number): Promise<CallResult> {
  // The server takes `callId` as the call's id, so its live view can be fetched directly.
  const callId = callIdOf(opts.runId, index)
  const params: Record<string, string> = { mode: opts.mode, silenceMs: String(opts.silenceMs), callId }
  if (opts.vad) params.vad = opts.vad
  if (opts.earlyReplyMs !== undefined) params.earlyReplyMs = String(opts.earlyReplyMs)
  const sim = new TwilioMediaSim({ url: opts.mediaUrl, customParameters: params, ...opts.simOptions })
  let error: string | undefined
  let server: ServerCallStats | undefined
  let serverTurns: ServerTurn[] = []
  let serverDecisions: ServerDecision[] = []
  let serverEvents: ServerEvent[] = []
  try {
    await sim.connect()
    const endAtMs = performance.now() + opts.durationMs
    // Let the greeting play first, if the engine has one.
    await sim.play([
      { kind: 'waitForAgent', until: 'done', timeoutMs: REPLY_TIMEOUT_MS, startTimeoutMs: 2_000, afterMs: 300 }
    ])
    let turn = 0
    while (performance.now() < endAtMs && sim.stats().closedAtMs === undefined) {
      const clip = opts.clips[(index + turn) % opts.clips.length]!
      const next = opts.clips[(index + turn + 1) % opts.clips.length]!
      turn++
      const bargeIn = opts.bargeInEvery > 0 && turn % opts.bargeInEvery === 0
      await sim.play(turnSegments(clip, next, bargeIn, opts.silenceMs))
    }
    if (sim.stats().closedAtMs === undefined) {
      const view = await serverViewOf(opts, callId)
      server = view?.stats
      serverTurns = view?.turns ?? []
      serverDecisions = view?.decisions ?? []
      serverEvents = view?.events ?? []
      if (server) await settle(sim, server.framesOut)
    } else {
      error = `server closed the call (${sim.stats().closeCode})`
    }
  } catch (err) {
    error = (err as Error).message
  } finally {
    await sim.hangup()
  }
  return { index, sim: sim.stats(), server, serverTurns, serverDecisions, serverEvents, error }
}

export async function runLoad(opts: LoadOptions): Promise<CallResult[]> {
  const gapMs = opts.calls > 1 ? opts.rampMs / (opts.calls - 1) : 0
  const runs: Array<Promise<CallResult>> = []
  for (let i = 0; i < opts.calls; i++) {
    runs.push(runCall(opts, i))
    if (gapMs > 0 && i < opts.calls - 1) await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
  return Promise.all(runs)
}
