/** The cascade mode: ElevenLabs STT and TTS fakes and the Chat Completions fake, and their figures (where each turn's time goes, barge-in). */
import type { TurnStages } from '../../src/main/agents/cascade.js'
import { performance } from 'node:perf_hooks'
import type { FakeElevenLabs, TtsSocketRecord } from '../../test/fakes/elevenlabs.js'
import type { SttSessionRecord } from '../../test/fakes/elevenlabs-stt.js'
import { FakeOpenAiChat, tokenize, type ChatRequestRecord } from '../../test/fakes/openai-chat.js'
import { TextChunker } from '../../src/main/speech/text-chunker.js'
import type { CallResult, ServerTurn } from '../load.js'
import type { EngineFakes, EngineOptions, FakeDelays } from '../engines.js'
import { distribution, type FigureRows } from '../report.js'
import { startElevenLabsFake } from './elevenlabs.js'
import { MATCH_WINDOW_MS } from './match.js'

/** The agent's answer to every turn: long enough that a barge-in lands while the model is still streaming it. */
export const BENCH_REPLY =
  'Sure, the shop opens at nine, and it closes at six on weekdays. On Saturdays it opens at ten and closes at four. Anything else?'

/** The fakes' own time in a turn, ms: what a real service would add, so not ours. */
const FAKE_DELAYS: Record<
  FakeDelays,
  { sttMs: number; llmFirstTokenMs: number; llmTokenIntervalMs: number; ttsFirstByteMs: number }
> = {
  zero: { sttMs: 0, llmFirstTokenMs: 0, llmTokenIntervalMs: 0, ttsFirstByteMs: 0 },
  realistic: { sttMs: 40, llmFirstTokenMs: 60, llmTokenIntervalMs: 40, ttsFirstByteMs: 50 }
}
/** TTS audio per character, ms (the fake's default of 40 makes a reply long enough to slow the turns down). */
const TTS_MS_PER_CHAR = 20
/** An abort further than this from a barge-in's clear has another cause, ms. */
const ABORT_WINDOW_MS = 200

/** Tokens of the reply the server's chunker (the same code) needs before it sends the first piece to TTS. */
function tokensToFirstPiece(reply: string): number {
  const chunker = new TextChunker()
  const tokens = tokenize(reply)
  let k = 1
  while (k < tokens.length && chunker.push(tokens[k - 1]!).length === 0) k++
  return k
}

/** The index of the clear nearest to `atMs` in sorted `clears`, if within `windowMs`. */
function nearest(clears: readonly number[], atMs: number, windowMs: number): number | undefined {
  let best: number | undefined
  for (const c of clears)
    if (Math.abs(c - atMs) < windowMs && (best === undefined || Math.abs(c - atMs) < Math.abs(best - atMs))) best = c
  return best
}

/** TTS sockets of one call (ids `<callId>:tts-<n>`) that the server closed before `isFinal`, near one of its clears. */
export function ttsStoppedByClears(fake: FakeElevenLabs, callId: string, clears: readonly number[]): number {
  let n = 0
  for (const s of fake.ttsSockets) {
    if (!ofCall(s.requestId, callId) || !s.closedBeforeFinal || s.closedAtMs === undefined) continue
    if (nearest(clears, s.closedAtMs, MATCH_WINDOW_MS) !== undefined) n++
  }
  return n
}

function ofCall(requestId: string | undefined, callId: string): boolean {
  return requestId === callId || (requestId?.startsWith(`${callId}:`) ?? false)
}

/** The steps of a turn, in order. `fake` names the part of a step the fake spent on its own clock, if any. */
const STAGES = [
  { key: 'vad', label: 'VAD: frame completing the deciding window in → decision delivered' },
  { key: 'sttSend', label: 'decision → STT commit sent' },
  { key: 'stt', label: 'STT commit → transcript received', fake: 'commit received → transcript sent' },
  { key: 'llmSend', label: 'transcript → LLM request sent' },
  { key: 'llm', label: 'LLM request → first token', fake: 'request received → first token sent' },
  { key: 'piece', label: 'first token → first speakable piece', fake: 'first token → piece-completing token sent' },
  { key: 'ttsSend', label: 'piece → written to the TTS socket' },
  { key: 'tts', label: 'piece written → first TTS audio', fake: 'text received → first audio sent' },
  { key: 'out', label: 'first TTS audio → first frame to Twilio' }
] as const
type StageKey = (typeof STAGES)[number]['key']

/**
 * One answered turn, split into steps: what the engine saw, and the fakes' own part of each. Where a fake took
 * part, `request` and `response` split the rest into its two legs (engine → fake, fake → engine) on the wall
 * clocks of the two processes (performance.timeOrigin + now()), which agree to well under a millisecond.
 */
interface TurnBreakdown {
  /** An early reply: started this long before the end of turn (its steps are then mostly before the decision). */
  earlyMs: number | undefined
  /** Not ours: the deciding window ended this long before the 20 ms packet that carried it; silence rounded up to windows. */
  frameTailMs: number | undefined
  roundingMs: number | undefined
  engine: Record<StageKey, number>
  fake: Partial<Record<StageKey, number>>
  request: Partial<Record<StageKey, number>>
  response: Partial<Record<StageKey, number>>
}

interface Fakes {
  chatById: Map<string, ChatRequestRecord>
  sttById: Map<string, SttSessionRecord>
  ttsById: Map<string, TtsSocketRecord>
  pieceTokens: number
}

function breakdown(s: TurnStages, t: ServerTurn, f: Fakes, silenceMs: number): TurnBreakdown | undefined {
  if (t.firstAudioOutAtMs === undefined || t.endOfTurnAtMs === undefined) return undefined
  const out = t.firstAudioOutAtMs - t.endOfTurnAtMs
  const marks = [
    s.sttRequestMs,
    s.sttTranscriptMs,
    s.llmRequestMs,
    s.llmFirstTokenMs,
    s.firstPieceMs,
    s.firstPieceSentMs,
    s.ttsFirstAudioMs
  ]
  if (marks.some((m) => m === undefined)) return undefined
  const [sttReq, sttText, llmReq, llmFirst, piece, pieceSent, ttsFirst] = marks as number[]
  const chat = f.chatById.get(s.llmRequestId)
  const commit =
    s.sttSessionId !== undefined && s.sttCommitIndex !== undefined
      ? f.sttById.get(s.sttSessionId)?.commitTimes[s.sttCommitIndex]
      : undefined
  const tts = s.ttsRequestId !== undefined ? f.ttsById.get(s.ttsRequestId) : undefined
  const pieceTokenAtMs = chat?.tokenSentAtMs[f.pieceTokens - 1]
  if (
    !chat ||
    chat.firstTokenAtMs === undefined ||
    pieceTokenAtMs === undefined ||
    commit?.sentAtMs === undefined ||
    tts?.firstTextAtMs === undefined ||
    tts.firstAudioSentAtMs === undefined
  )
    return undefined
  // Engine offsets are from the decision on the server; fake readings are this process's performance.now().
  const server = (offsetMs: number) => s.decidedAtEpochMs + offsetMs
  const here = (atMs: number) => performance.timeOrigin + atMs
  return {
    earlyMs: s.earlyReplyMs,
    frameTailMs: s.vadFrameTailMs,
    roundingMs: t.endOfSpeechWaitMs === undefined ? undefined : t.endOfSpeechWaitMs - silenceMs,
    request: {
      stt: here(commit.receivedAtMs) - server(sttReq),
      llm: here(chat.receivedAtMs) - server(llmReq),
      tts: here(tts.firstTextAtMs) - server(pieceSent)
    },
    response: {
      stt: server(sttText) - here(commit.sentAtMs),
      llm: server(llmFirst) - here(chat.firstTokenAtMs),
      tts: server(ttsFirst) - here(tts.firstAudioSentAtMs)
    },
    engine: {
      vad: s.vadDecisionMs,
      sttSend: sttReq,
      stt: sttText - sttReq,
      llmSend: llmReq - sttText,
      llm: llmFirst - llmReq,
      piece: piece - llmFirst,
      ttsSend: pieceSent - piece,
      tts: ttsFirst - pieceSent,
      out: out - ttsFirst
    },
    fake: {
      stt: commit.sentAtMs - commit.receivedAtMs,
      llm: chat.firstTokenAtMs - chat.receivedAtMs,
      piece: pieceTokenAtMs - chat.firstTokenAtMs,
      tts: tts.firstAudioSentAtMs - tts.firstTextAtMs
    }
  }
}

function sum(values: Partial<Record<StageKey, number>>): number {
  let n = 0
  for (const v of Object.values(values)) n += v ?? 0
  return n
}

/**
 * The per-step table: each step as the engine saw it, and where a fake took part, its share and ours. Early replies
 * (`early`) leave out the steps that straddle the decision: their commit went out at the pause, and their audio
 * waited for the end of turn.
 */
function stageRows(turns: readonly TurnBreakdown[], early = false): FigureRows {
  const rows: FigureRows = {}
  STAGES.forEach((stage, i) => {
    if (early && (stage.key === 'sttSend' || stage.key === 'out')) return
    const name = `${early ? 'early reply ' : ''}${i + 1}. ${stage.label}`
    rows[name] = distribution(turns.map((t) => t.engine[stage.key]))
    if ('fake' in stage) {
      rows[`${i + 1}.   fake: ${stage.fake}`] = distribution(turns.map((t) => t.fake[stage.key] ?? 0))
      rows[`${i + 1}.   ours (transport, client, parsing)`] = distribution(
        turns.map((t) => t.engine[stage.key] - (t.fake[stage.key] ?? 0))
      )
      const request = turns.flatMap((t) => (t.request[stage.key] === undefined ? [] : [t.request[stage.key]!]))
      const response = turns.flatMap((t) => (t.response[stage.key] === undefined ? [] : [t.response[stage.key]!]))
      if (request.length) rows[`${i + 1}.     request leg: sent → the fake has it`] = distribution(request)
      if (response.length) rows[`${i + 1}.     response leg: the fake sent → we have it`] = distribution(response)
    }
  })
  return rows
}

/** The turns an early reply answered: how far ahead it started, whether its audio was ready at the decision. */
function earlyRows(turns: readonly TurnBreakdown[], dropped: ReadonlyMap<string, number>): FigureRows {
  const early = turns.filter((t) => t.earlyMs !== undefined)
  const rows: FigureRows = {
    'early reply: turns it answered (the steps below: the other turns)': `${early.length} of ${turns.length}`
  }
  if (early.length === 0) return rows
  // Offsets from the decision: the first TTS audio is the sum of the steps up to it, less the VAD's.
  const audioAt = (t: TurnBreakdown) => sum(t.engine) - t.engine.vad - t.engine.out
  rows['early reply: started before the end of turn ms'] = distribution(early.map((t) => t.earlyMs!))
  rows['early reply: first TTS audio before the decision'] =
    `${early.filter((t) => audioAt(t) <= 0).length} of ${early.length}`
  rows['early reply: decision → first frame out ms'] = distribution(early.map((t) => sum(t.engine) - t.engine.vad))
  rows['early replies dropped, by reason'] = [...dropped].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
  return rows
}

/** How far the server's and this process's wall clocks may disagree, ms. */
const CLOCK_SLACK_MS = 2

/** The engine's `vad.speech_start` timeline entry. */
interface SpeechStart {
  confirmedAtMs: number
  decidedAtMs: number
  clockEpochMs: number
  decisionMs?: number
}

/** One barge-in, split: the VAD's own time, the way to the server and its decision, the clear, its way back. */
interface BargeBreakdown {
  /** The fixture the caller barged in with. */
  clip: string
  totalMs: number
  vadMs: number
  toDecisionMs: number
  decisionMs: number | undefined
  clearSentMs: number
  clearBackMs: number
}

/** The barge-ins of one call that were cleared in time, broken down (bench clock → epoch via performance.timeOrigin). */
function bargeIns(r: CallResult): BargeBreakdown[] {
  const starts = r.serverEvents
    .filter((e) => e.kind === 'vad.speech_start' && e.data)
    .map((e) => e.data as unknown as SpeechStart)
  // The session records `barge_in` just before it sends the clear (its `clear` entry comes after the send).
  const clears = r.serverEvents.filter((e) => e.kind === 'barge_in' && e.data?.playing === true).map((e) => e.atMs)
  const originEpochMs = starts[0]?.clockEpochMs
  if (originEpochMs === undefined) return []
  const here = (atMs: number) => performance.timeOrigin + atMs
  // The simulator sends frame k at startAtMs + 20 k + lateness[k]; stream ms t is in frame ceil(t / 20) − 1.
  const sentAt = (streamMs: number): number | undefined => {
    const k = Math.ceil(streamMs / 20) - 1
    return k >= 0 && k < r.sim.lateness.length ? r.sim.startAtMs + 20 * k + r.sim.lateness[k]! : undefined
  }
  const out: BargeBreakdown[] = []
  for (const sp of r.sim.speech) {
    if (!sp.agentPlayingAtOnset || sp.onsetSentAtMs === undefined || sp.clearAtMs === undefined) continue
    if (sp.offsetSentAtMs !== undefined && sp.clearAtMs > sp.offsetSentAtMs) continue
    const clearEpochMs = here(sp.clearAtMs)
    const onsetEpochMs = here(sp.onsetSentAtMs)
    // The server's clear that reached the caller, and the speech start that caused it (the two processes' clocks
    // agree to about a millisecond).
    const serverClear = clears
      .filter(
        (c) => originEpochMs + c >= onsetEpochMs - CLOCK_SLACK_MS && originEpochMs + c <= clearEpochMs + CLOCK_SLACK_MS
      )
      .at(-1)
    if (serverClear === undefined) continue
    const start = starts.filter((st) => st.decidedAtMs <= serverClear + 0.1).at(-1)
    const confirmSent = start ? sentAt(start.confirmedAtMs) : undefined
    if (!start || confirmSent === undefined) continue
    out.push({
      clip: (sp.label ?? '').replace(/^barge:/, ''),
      totalMs: sp.clearAtMs - sp.onsetSentAtMs,
      vadMs: confirmSent - sp.onsetSentAtMs,
      toDecisionMs: originEpochMs + start.decidedAtMs - here(confirmSent),
      decisionMs: start.decisionMs,
      clearSentMs: serverClear - start.decidedAtMs,
      clearBackMs: clearEpochMs - (originEpochMs + serverClear)
    })
  }
  return out
}

export async function startCascade(opts: EngineOptions): Promise<EngineFakes> {
  const delays = FAKE_DELAYS[opts.fakeDelays ?? 'zero']
  const el = await startElevenLabsFake(opts.silenceMs, {
    sttDelayMs: delays.sttMs,
    ttsFirstByteDelayMs: delays.ttsFirstByteMs,
    ttsMsPerChar: TTS_MS_PER_CHAR
  })
  const chat = await FakeOpenAiChat.start({
    firstTokenDelayMs: delays.llmFirstTokenMs,
    tokenIntervalMs: delays.llmTokenIntervalMs,
    reply: () => BENCH_REPLY
  })
  const pieceTokens = tokensToFirstPiece(BENCH_REPLY)
  const configuredTurnMs =
    delays.sttMs + delays.llmFirstTokenMs + (pieceTokens - 1) * delays.llmTokenIntervalMs + delays.ttsFirstByteMs
  return {
    env: { ...el.env, OPENAI_API_KEY: chat.apiKey, OPENAI_BASE_URL: chat.url },
    close: async () => {
      await Promise.all([el.fake.stop(), chat.stop()])
    },
    progress: () => `${chat.requests.length} LLM requests, ${el.fake.ttsSockets.length} TTS sockets`,
    figures: async (results: readonly CallResult[], ctx) => {
      const fakes: Fakes = {
        chatById: new Map(chat.requests.flatMap((q) => (q.clientRequestId ? [[q.clientRequestId, q] as const] : []))),
        sttById: new Map(el.fake.stt.sessions.map((s) => [s.id, s] as const)),
        ttsById: new Map(el.fake.ttsSockets.flatMap((s) => (s.requestId ? [[s.requestId, s] as const] : []))),
        pieceTokens: pieceTokens
      }
      const turns: TurnBreakdown[] = []
      const overhead: number[] = []
      const overheadAfterDecision: number[] = []
      const overheadStrict: number[] = []
      const fakeOwn: number[] = []
      let unmatched = 0
      const allClears: number[] = []
      const barges: BargeBreakdown[] = []
      let ttsStopped = 0
      const earlyDropped = new Map<string, number>()
      for (const r of results) {
        const byTurn = new Map(r.serverTurns.filter((t) => t.turn !== undefined).map((t) => [t.turn!, t] as const))
        for (const e of r.serverEvents) {
          if (e.kind !== 'turn.stages' || !e.data) continue
          const s = e.data as unknown as TurnStages
          const t = byTurn.get(s.turn)
          const b = t ? breakdown(s, t, fakes, opts.silenceMs) : undefined
          if (!b) {
            unmatched++
            continue
          }
          turns.push(b)
          // The steps add up to decision → first frame out. The fakes' own time is not ours; for an early reply it
          // was spent before the decision (off the caller's path), so nothing is taken off.
          const own = b.earlyMs === undefined ? sum(b.fake) : 0
          const afterDecision = sum(b.engine) - b.engine.vad - own
          fakeOwn.push(sum(b.fake))
          overheadAfterDecision.push(afterDecision)
          overhead.push(afterDecision + b.engine.vad)
          if (b.frameTailMs !== undefined && b.roundingMs !== undefined)
            overheadStrict.push(afterDecision + b.engine.vad + b.frameTailMs + b.roundingMs)
        }
        for (const e of r.serverEvents) {
          if (e.kind !== 'reply.early_dropped') continue
          const reason = String(e.data?.reason ?? 'unknown')
          earlyDropped.set(reason, (earlyDropped.get(reason) ?? 0) + 1)
        }
        for (const c of r.sim.clears) allClears.push(c)
        barges.push(...bargeIns(r))
        ttsStopped += ttsStoppedByClears(el.fake, ctx.callIdOf(r.index), r.sim.clears)
      }
      // Chat requests are matched to calls by their X-Client-Request-Id; an abort is a barge-in's when one of
      // that call's clears went out with it.
      const clearsOf = new Map<string, number[]>()
      for (const r of results)
        clearsOf.set(
          ctx.callIdOf(r.index),
          [...r.sim.clears].sort((a, b) => a - b)
        )
      allClears.sort((a, b) => a - b)
      let aborted = 0
      let abortedOtherwise = 0
      for (const q of chat.requests) {
        if (!q.aborted || q.abortedAtMs === undefined) continue
        const callId = q.clientRequestId?.slice(0, q.clientRequestId.lastIndexOf(':'))
        const clears = (callId !== undefined ? clearsOf.get(callId) : undefined) ?? allClears
        if (nearest(clears, q.abortedAtMs, ABORT_WINDOW_MS) !== undefined) aborted++
        else abortedOtherwise++
      }
      return {
        rows: {
          'bridge overhead ms (deciding audio in → first frame out − fakes)': distribution(overhead),
          '  of it after the VAD decision': distribution(overheadAfterDecision),
          '  + packet tail + silence rounding (configured silence over → …)': distribution(overheadStrict),
          'not ours: deciding window end → its 20 ms packet in': distribution(
            turns.flatMap((t) => (t.frameTailMs === undefined ? [] : [t.frameTailMs]))
          ),
          'not ours: end-of-speech wait − configured silence (32 ms windows)': distribution(
            turns.flatMap((t) => (t.roundingMs === undefined ? [] : [t.roundingMs]))
          ),
          "fakes' own time per turn ms (measured)": distribution(fakeOwn),
          "fakes' configured delay per turn ms": configuredTurnMs,
          'turns broken down': turns.length,
          'turns not matched to the fakes': unmatched,
          'LLM requests': chat.requests.length,
          'LLM TCP connections (the fake accepted)': chat.connections,
          ...earlyRows(turns, earlyDropped),
          ...(turns.some((t) => t.earlyMs === undefined)
            ? stageRows(turns.filter((t) => t.earlyMs === undefined))
            : stageRows(turns, true)),
          'barge-in: onset → clear ms': ctx.summary.bargeIn.latencyMs,
          'barge-in 1. onset frame → confirming frame sent (VAD: min speech, model, 32 ms windows)': distribution(
            barges.map((b) => b.vadMs)
          ),
          'barge-in 2. confirming frame sent → speech start decided': distribution(barges.map((b) => b.toDecisionMs)),
          'barge-in 2.   of it frame in → decided (inference and its queue)': distribution(
            barges.flatMap((b) => (b.decisionMs === undefined ? [] : [b.decisionMs]))
          ),
          'barge-in 3. decided → clear sent': distribution(barges.map((b) => b.clearSentMs)),
          'barge-in 4. clear sent → the caller has it': distribution(barges.map((b) => b.clearBackMs)),
          ...Object.fromEntries(
            [...new Set(barges.map((b) => b.clip))]
              .sort()
              .map((clip) => [
                `barge-in onset → clear, ${clip}`,
                distribution(barges.filter((b) => b.clip === clip).map((b) => b.totalMs))
              ])
          ),
          'barge-in: clears': allClears.length,
          'barge-in: LLM requests aborted': aborted,
          'LLM requests aborted otherwise': abortedOtherwise,
          'barge-in: TTS streams stopped': ttsStopped
        },
        failures: []
      }
    }
  }
}
