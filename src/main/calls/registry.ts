/** Live calls: accepts Media Stream sockets, builds a session per stream, pre-warms engines for TwiML webhooks. */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { RawData, WebSocket } from 'ws'
import { CallbenchError } from '../../shared/errors.js'
import { isAgentMode, type AgentMode } from '../../shared/modes.js'
import { VAD_METHODS, type Settings, type VadMethod } from '../../shared/settings.js'
import type { CallSummary } from '../../shared/calls.js'
import { AGENT_EVENT_NAMES, type Agent, type AgentEvents, type CallContext } from '../agents/agent.js'
import { getEngine, type AgentDeps } from '../agents/engines.js'
import type { EventHub } from '../events/hub.js'
import type { Logger } from '../log.js'
import { loadPrompt } from '../resources.js'
import type { SecretStore } from '../settings/secrets.js'
import { deepMerge } from '../settings/settings-store.js'
import {
  isProtocolError,
  parseTwilioMessage,
  type ParsedMessage,
  type SidCache,
  type StartMessage
} from '../telephony/media-protocol.js'
import { CallSession } from './call-session.js'
import type { RecorderFactory } from './recorder.js'
import { deliverTextFrames } from '../server/ws-fast-receive.js'

/** A profile as the registry needs it: an engine and settings overrides. */
export interface ResolvedProfile {
  id: string
  mode?: AgentMode
  overrides?: Partial<Settings>
}

export interface CallRegistryOptions {
  hub: EventHub
  log: Logger
  secrets: SecretStore
  config: (name: string) => string | undefined
  settings: () => Settings
  resourcesDir: string
  /** How long a pre-warmed engine waits for its media stream. Default 30 s. */
  prewarmTimeoutMs?: number
}

interface Prewarmed {
  agent: Agent
  /** Events the engine emitted before its stream arrived (a greeting), replayed once the session listens. */
  held: HeldEvents
  mode: AgentMode
  settings: Settings
  ctx: CallContext
  started: Promise<void>
  timer: NodeJS.Timeout
  meta: Record<string, unknown>
}

/** Per-call details a webhook knows before the stream arrives. */
export interface PrewarmContext {
  direction: CallContext['direction']
  callSid?: string
  from?: string
  to?: string
  profileId?: string
  customer?: Record<string, string>
  customParameters?: Record<string, string>
  /** Settings overrides for this call only (POST /api/calls `overrides`), merged over the profile's. */
  overrides?: Partial<Settings>
}

/** Holds an agent's events until `release()` replays them (after the session has bound its own listeners). */
class HeldEvents {
  readonly #agent: Agent
  readonly #events: Array<[keyof AgentEvents, unknown[]]> = []
  readonly #listeners = new Map<keyof AgentEvents, (...args: unknown[]) => void>()

  constructor(agent: Agent) {
    this.#agent = agent
    for (const name of AGENT_EVENT_NAMES) {
      const fn = (...args: unknown[]) => void this.#events.push([name, args])
      this.#listeners.set(name, fn)
      agent.on(name, fn as never)
    }
  }

  /** Stops holding; returns a function that replays what was held, in order. */
  release(): () => void {
    for (const [name, fn] of this.#listeners) this.#agent.off(name, fn as never)
    return () => {
      for (const [name, args] of this.#events.splice(0))
        (this.#agent.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args)
    }
  }
}

const RECENT_CALLS = 200
/** Messages a Media Stream may send per second: Twilio sends 50 media frames plus marks; far above that is abuse. */
const MAX_MESSAGES_PER_SECOND = 400
/** Messages kept while a call is being set up. */
const MAX_PENDING_MESSAGES = 500

export class CallRegistry extends EventEmitter<{ started: [CallSession]; ended: [CallSession] }> {
  readonly #opts: CallRegistryOptions
  readonly #sessions = new Map<string, CallSession>()
  readonly #prewarmed = new Map<string, Prewarmed>()
  readonly #recent: CallSummary[] = []
  /** Set by the call-records feature: opens the call's recording. */
  recorderFactory: RecorderFactory | undefined
  /** Set by the profiles feature: resolves a profile id to an engine and overrides. */
  profileResolver: ((profileId: string) => Promise<ResolvedProfile | undefined>) | undefined
  /** Set by telephony: checks a stream's start (per-call token) before a session is built. */
  startVerifier: ((start: StartMessage, source: 'twilio' | 'loopback') => void) | undefined

  constructor(opts: CallRegistryOptions) {
    super()
    this.#opts = opts
  }

  get(id: string): CallSession | undefined {
    return this.#sessions.get(id)
  }

  list(): CallSession[] {
    return [...this.#sessions.values()]
  }

  /** Summaries of live calls first, then the most recent ended ones kept in memory. */
  summaries(): CallSummary[] {
    return [...this.list().map((s) => s.summary()), ...this.#recent]
  }

  activeCount(): number {
    return this.#sessions.size
  }

  /**
   * Builds and starts the engine for a call whose stream has not arrived yet (TwiML webhook answered),
   * so the first turn does not pay for the engine's connect. The stream's `callId` parameter claims it.
   */
  async prewarm(callId: string, requested: AgentMode | undefined, pctx: PrewarmContext): Promise<void> {
    if (this.#prewarmed.has(callId) || this.#sessions.has(callId)) return
    const { mode, settings, meta } = await this.#resolve(
      requested,
      pctx.profileId,
      pctx.customParameters ?? {},
      pctx.overrides
    )
    const ctx = this.#context(callId, mode, pctx, () => 0)
    const agent = this.#createAgent(mode, settings, ctx)
    const held = new HeldEvents(agent)
    const started = agent.start(ctx)
    const timer = setTimeout(() => {
      if (this.#prewarmed.get(callId)?.agent !== agent) return
      this.#prewarmed.delete(callId)
      this.#opts.log.warn('pre-warmed engine never claimed', { callId, mode })
      void agent.close()
    }, this.#opts.prewarmTimeoutMs ?? 30_000)
    timer.unref()
    started.catch((err: unknown) => this.#opts.log.warn('pre-warm failed', { callId, mode, err: err as Error }))
    this.#prewarmed.set(callId, { agent, held, mode, settings, ctx, started, timer, meta })
  }

  /** Serves one Media Streams WebSocket (Twilio's, or the loopback console's). */
  attach(ws: WebSocket, req: IncomingMessage, source: 'twilio' | 'loopback'): void {
    let session: CallSession | undefined
    let pending: ParsedMessage[] | undefined
    let closed = false
    const log = this.#opts.log
    const transport = {
      send: batchedSender(ws, req.socket),
      close: (code?: number, reason?: string) => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason)
      }
    }

    let windowStartMs = 0
    let windowCount = 0
    const sids: SidCache = { sid: '' }
    const onMessage = (data: RawData, isBinary = false): void => {
      const nowMs = performance.now()
      if (nowMs - windowStartMs >= 1000) {
        windowStartMs = nowMs
        windowCount = 0
      }
      if (++windowCount > MAX_MESSAGES_PER_SECOND) {
        if (windowCount === MAX_MESSAGES_PER_SECOND + 1) {
          log.warn('media stream over its message rate; closing it', { source })
          session?.protocolError('rate_limited', 'Too many messages')
          ws.close(1008, 'rate limit')
        }
        return
      }
      const parsed = isBinary
        ? ({ kind: 'error', code: 'binary_frame', message: 'Binary frames are not part of the protocol' } as const)
        : parseTwilioMessage(data as Buffer, sids)
      if (isProtocolError(parsed)) {
        if (session) session.protocolError(parsed.code, parsed.message)
        else log.warn('media message rejected before start', { code: parsed.code, source })
        return
      }
      if (session) {
        session.handle(parsed)
        return
      }
      if (pending) {
        // Held while the engine and recorder open; 10 s of frames is far more than that takes.
        if (pending.length < MAX_PENDING_MESSAGES) pending.push(parsed)
        return
      }
      if (parsed.kind !== 'start') return
      pending = []
      this.#open(parsed, source, transport).then(
        (s) => {
          session = s
          if (closed) {
            void s.end('stream_closed')
            return
          }
          for (const msg of pending!) s.handle(msg)
          pending = undefined
        },
        (err: unknown) => {
          const e =
            err instanceof CallbenchError
              ? err
              : new CallbenchError('internal', 'Could not start the call', { cause: err })
          log.warn('call could not start', { code: e.code, message: e.message, source })
          transport.close(1011, e.message.slice(0, 120))
        }
      )
    }
    ws.on('message', onMessage)
    // The frames the receive shortcut takes (nearly all) come straight here, without an emit each, in a buffer the
    // next read reuses: the reader copies what it keeps (strings, the decoded payload), nothing holds `data`.
    deliverTextFrames(ws, onMessage)
    ws.on('close', () => {
      closed = true
      if (session) void session.end(session.state === 'active' ? 'stream_closed' : 'ended')
    })
    ws.on('error', (err) => log.warn('media socket error', { err, source }))
  }

  async #open(
    start: StartMessage,
    source: 'twilio' | 'loopback',
    transport: ConstructorParameters<typeof CallSession>[0]['transport']
  ): Promise<CallSession> {
    this.startVerifier?.(start, source)
    const params = start.customParameters
    const callId = params.callId && !this.#sessions.has(params.callId) ? params.callId : randomUUID()
    const direction: CallContext['direction'] =
      source === 'loopback' ? 'loopback' : params.direction === 'outbound' ? 'outbound' : 'inbound'
    let clockRef: () => number = () => 0
    const pre = this.#prewarmed.get(callId)
    let agent: Agent
    let mode: AgentMode
    let meta: Record<string, unknown>
    let startEngine: () => Promise<void>
    let held: HeldEvents | undefined
    if (pre) {
      this.#prewarmed.delete(callId)
      clearTimeout(pre.timer)
      ;({ agent, mode, meta } = pre)
      pre.ctx.streamSid = start.streamSid
      pre.ctx.callSid = start.callSid
      pre.ctx.clock = () => clockRef()
      held = pre.held
      startEngine = () => pre.started
    } else {
      const resolved = await this.#resolve(isAgentMode(params.mode) ? params.mode : undefined, params.profileId, params)
      mode = resolved.mode
      meta = resolved.meta
      const ctx = this.#context(
        callId,
        mode,
        { direction, callSid: start.callSid, ...pick(params, ['from', 'to']), customParameters: { ...params } },
        () => clockRef()
      )
      ctx.streamSid = start.streamSid
      const fresh = this.#createAgent(mode, resolved.settings, ctx)
      agent = fresh
      // Started once the session listens, so no early event is lost.
      startEngine = () => fresh.start(ctx)
    }
    const recorder = this.recorderFactory
      ? await this.recorderFactory(callId).catch((err: unknown) => {
          this.#opts.log.warn('recording could not start', { callId, err: err as Error })
          return undefined
        })
      : undefined
    const session = new CallSession({
      id: callId,
      streamSid: start.streamSid,
      ...(start.callSid ? { callSid: start.callSid } : {}),
      direction,
      ...pick(params, ['from', 'to']),
      mode,
      agent,
      transport,
      hub: this.#opts.hub,
      log: this.#opts.log,
      apologyPrompt: await loadPrompt(this.#opts.resourcesDir, 'apology').catch(() => new Uint8Array(0)),
      ...(recorder ? { recorder } : {}),
      meta,
      costRates: () => this.#opts.settings().costs,
      onEnded: (ended) => {
        this.#sessions.delete(callId)
        this.#recent.unshift(ended.summary())
        if (this.#recent.length > RECENT_CALLS) this.#recent.pop()
        this.emit('ended', ended)
      }
    })
    clockRef = session.clock
    // The session listens now: stop holding and replay, with no await in between so nothing slips through.
    held?.release()()
    this.#sessions.set(callId, session)
    this.emit('started', session)
    startEngine().catch((err: unknown) => {
      const e =
        err instanceof CallbenchError
          ? err
          : new CallbenchError('upstream_failed', 'Engine failed to start', { cause: err })
      session.agent.emit('failed', e)
    })
    return session
  }

  /** Engine and settings for a call: requested mode, else the profile's, else the default. */
  async #resolve(
    requested: AgentMode | undefined,
    profileId: string | undefined,
    params: Record<string, string>,
    overrides?: Partial<Settings>
  ) {
    let settings = this.#opts.settings()
    const profile = profileId ? await this.profileResolver?.(profileId) : undefined
    if (profile?.overrides) settings = deepMerge(settings, profile.overrides)
    if (overrides) settings = deepMerge(settings, overrides)
    settings = applyParamOverrides(settings, params)
    const mode = requested ?? profile?.mode ?? settings.defaultMode
    const engine = getEngine(mode)
    const reason = await engine.unavailable({ secrets: this.#opts.secrets, config: this.#opts.config, settings })
    if (reason) throw new CallbenchError('not_configured', `${mode}: ${reason}`)
    return {
      mode,
      settings,
      meta: { settings, ...(profile ? { profileId: profile.id } : {}) } as Record<string, unknown>
    }
  }

  #context(callId: string, mode: AgentMode, p: PrewarmContext, clock: () => number): CallContext {
    return {
      callId,
      direction: p.direction,
      mode,
      customParameters: p.customParameters ?? {},
      clock,
      ...(p.callSid ? { callSid: p.callSid } : {}),
      ...(p.from ? { from: p.from } : {}),
      ...(p.to ? { to: p.to } : {}),
      ...(p.customer ? { customer: p.customer } : {})
    }
  }

  #createAgent(mode: AgentMode, settings: Settings, call: CallContext): Agent {
    const deps: AgentDeps = {
      settings,
      secrets: this.#opts.secrets,
      config: this.#opts.config,
      log: this.#opts.log.child({ callId: call.callId, mode }),
      resourcesDir: this.#opts.resourcesDir
    }
    return getEngine(mode).create(deps, call)
  }

  /** Ends every live call and closes pre-warmed engines (app shutdown). */
  async closeAll(reason = 'shutdown'): Promise<void> {
    for (const p of this.#prewarmed.values()) {
      clearTimeout(p.timer)
      void p.agent.close()
    }
    this.#prewarmed.clear()
    await Promise.allSettled(this.list().map((s) => s.end(reason)))
  }
}

function pick(params: Readonly<Record<string, string>>, keys: Array<'from' | 'to'>): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {}
  for (const k of keys) if (params[k]) out[k] = params[k]
  return out
}

/** Per-call turn-taking overrides from stream parameters (`vad`, `silenceMs`, `threshold`, `earlyReplyMs`), for tests and the benchmark. */
function applyParamOverrides(settings: Settings, params: Readonly<Record<string, string>>): Settings {
  const vad = { ...settings.vad }
  if (params.vad && (VAD_METHODS as readonly string[]).includes(params.vad)) vad.method = params.vad as VadMethod
  const silenceMs = Number(params.silenceMs)
  if (Number.isFinite(silenceMs) && silenceMs >= 100 && silenceMs <= 5000) vad.silenceMs = silenceMs
  const threshold = Number(params.threshold)
  if (Number.isFinite(threshold) && threshold > 0 && threshold <= 1) vad.threshold = threshold
  const earlyReplyMs = params.earlyReplyMs === undefined ? Number.NaN : Number(params.earlyReplyMs)
  if (Number.isInteger(earlyReplyMs) && earlyReplyMs >= 0 && earlyReplyMs <= 5000) vad.earlyReplyMs = earlyReplyMs
  return { ...settings, vad }
}

/**
 * `ws.send` for one media stream, with every message sent in one turn of the event loop (an agent chunk's frames
 * and its mark, a clear) leaving in one write: `ws` writes each message on its own, and on a busy bridge those
 * system calls are most of the CPU time. The upgraded request's socket is the one `ws` writes to; the batch is
 * released on the next tick, so nothing waits for a timer.
 */
export function batchedSender(ws: WebSocket, socket: { cork(): void; uncork(): void }): (text: string) => void {
  let corked = false
  const release = (): void => {
    corked = false
    socket.uncork()
  }
  return (text) => {
    if (ws.readyState !== ws.OPEN) return
    if (!corked) {
      corked = true
      socket.cork()
      process.nextTick(release)
    }
    ws.send(text)
  }
}
