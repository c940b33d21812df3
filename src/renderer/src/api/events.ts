// The only module that owns the events WebSocket: connects, reconnects with backoff, pings, and turns events into setState.
import { ServerEventSchema, type ClientMessage, type ServerEvent } from '../../../shared/events.js'
import type { AppStore } from '../store/index.js'
import type { EventLevel } from '../store/event-log-slice.js'

/** The parts of the WHATWG WebSocket this module uses (the browser's, or Node's global one in tests). */
export interface SocketLike {
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export interface EventsOptions {
  /** Full `ws://…/api/events?token=…` URL. */
  url: string
  store: AppStore
  /** Called when the server says hello (each (re)connect) and when the set of calls changes: refetch what events do not carry. */
  onResync?: () => void
  createSocket?: (url: string) => SocketLike
  /** First reconnect delay, ms. Default 500. */
  initialBackoffMs?: number
  /** Longest reconnect delay, ms. Default 10 000. */
  maxBackoffMs?: number
  /** Ping interval while online, ms; a ping unanswered for this long closes the socket. Default 15 000. */
  heartbeatMs?: number
  now?: () => number
  random?: () => number
}

const OPEN = 1

export class EventsConnection {
  private readonly opts: Required<Omit<EventsOptions, 'onResync'>> & Pick<EventsOptions, 'onResync'>
  private socket: SocketLike | null = null
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null
  private readonly pendingPings = new Map<string, number>()
  private pingSeq = 0
  private stopped = true

  constructor(options: EventsOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      initialBackoffMs: 500,
      maxBackoffMs: 10_000,
      heartbeatMs: 15_000,
      now: () => Date.now(),
      random: () => Math.random(),
      ...options
    }
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.connect()
  }

  stop(): void {
    this.stopped = true
    this.clearTimers()
    const socket = this.socket
    this.socket = null
    if (socket) {
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null
      socket.close(1000, 'console closed')
    }
  }

  /** Sends a ping now; returns false when the link is not open. */
  ping(): boolean {
    const socket = this.socket
    if (!socket || socket.readyState !== OPEN) return false
    const id = `p${++this.pingSeq}`
    this.pendingPings.set(id, this.opts.now())
    this.send({ type: 'ping', id })
    return true
  }

  /** Skips the remaining backoff and reconnects at once. */
  reconnectNow(): void {
    if (this.stopped || this.socket) return
    this.clearTimers()
    this.connect()
  }

  private send(message: ClientMessage): void {
    this.socket?.send(JSON.stringify(message))
  }

  private connect(): void {
    const { store } = this.opts
    store.getState().setLink({ status: 'connecting', retryAtMs: null })
    let socket: SocketLike
    try {
      socket = this.opts.createSocket(this.opts.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    socket.onopen = () => {
      store.getState().setLink({ status: 'online', attempt: 0, retryAtMs: null })
      this.pendingPings.clear()
      this.ping()
      this.heartbeatTimer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs)
    }
    socket.onmessage = (ev) => this.receive(ev.data)
    // An error is always followed by close; reconnecting is handled there, once.
    socket.onerror = () => {}
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = null
      this.clearTimers()
      if (this.stopped) return
      const wasOnline = store.getState().link.status === 'online'
      if (wasOnline) this.log('link', 'warn', 'Disconnected from the core')
      this.scheduleReconnect()
    }
  }

  private heartbeat(): void {
    const cutoff = this.opts.now() - this.opts.heartbeatMs
    for (const sentAt of this.pendingPings.values()) {
      if (sentAt <= cutoff) {
        // A silent peer (sleeping laptop, dropped NAT entry) never sends close: force it.
        this.socket?.close(4000, 'ping timeout')
        return
      }
    }
    this.ping()
  }

  private scheduleReconnect(): void {
    const { store, initialBackoffMs, maxBackoffMs } = this.opts
    const attempt = store.getState().link.attempt
    const ceilingMs = Math.min(maxBackoffMs, initialBackoffMs * 2 ** attempt)
    // Jitter keeps many consoles from reconnecting in lockstep after a restart.
    const delayMs = Math.round(ceilingMs * (0.5 + 0.5 * this.opts.random()))
    store.getState().setLink({ status: 'offline', attempt: attempt + 1, retryAtMs: this.opts.now() + delayMs })
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delayMs)
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer)
    this.retryTimer = null
    this.heartbeatTimer = null
  }

  private receive(data: unknown): void {
    let json: unknown
    try {
      json = typeof data === 'string' ? JSON.parse(data) : undefined
    } catch {
      json = undefined
    }
    const parsed = ServerEventSchema.safeParse(json)
    if (!parsed.success) {
      this.log('invalid', 'warn', 'Ignored a message the console does not understand')
      return
    }
    this.dispatch(parsed.data)
  }

  private dispatch(event: ServerEvent): void {
    const state = this.opts.store.getState()
    switch (event.type) {
      case 'hello':
        state.setLink({ serverVersion: event.version })
        this.log(event.type, 'info', `Connected to Callbench ${event.version}`)
        this.opts.onResync?.()
        return
      case 'pong': {
        const nowMs = this.opts.now()
        const sentAt = event.id === undefined ? undefined : this.pendingPings.get(event.id)
        if (event.id !== undefined) this.pendingPings.delete(event.id)
        const rttMs = sentAt === undefined ? null : nowMs - sentAt
        this.log(event.type, 'debug', rttMs === null ? 'pong' : `pong in ${rttMs} ms`)
        state.setLink({ lastPongAtMs: nowMs, rttMs })
        return
      }
      case 'log':
        this.log(event.type, event.level, event.msg)
        return
      case 'call.started':
      case 'call.ended':
        state.upsertCall(event.call)
        this.log(event.type, 'info', `Call ${event.call.id} ${event.call.state} (${event.call.mode})`)
        this.opts.onResync?.()
        return
      case 'call.updated':
        state.upsertCall(event.call)
        this.log(event.type, 'info', `Call ${event.call.id} ${event.call.state}`)
        return
      case 'call.levels':
        // 20 Hz per call: into the store for meters, never into the log.
        state.setLevels(event.callId, event.levels)
        return
      case 'call.transcript':
        state.addTranscript(event.callId, event)
        if (event.final) this.log(event.type, 'info', `Call ${event.callId}: ${event.role} said a line`)
        return
      case 'call.turn':
        state.addTurn(event.callId, event.metrics)
        this.log(
          event.type,
          'info',
          `Call ${event.callId}: turn ${event.metrics.turn}` +
            (event.metrics.totalMs === undefined ? '' : ` in ${Math.round(event.metrics.totalMs)} ms`)
        )
        return
      case 'call.timeline':
        state.addTimeline(event.callId, event.entry)
        this.log(event.type, 'debug', `Call ${event.callId}: ${event.entry.kind}`)
        return
      case 'call.cost':
        // Up to once a second per call: into the store, into the log only at the end.
        state.setCost(event.callId, event.cost)
        if (event.final)
          this.log(event.type, 'debug', `Call ${event.callId}: estimated cost ${event.cost.total.toFixed(4)}`)
        return
      case 'upload.progress':
        state.setUpload(event.callId, event.upload)
        this.log(
          event.type,
          event.upload.state === 'failed' ? 'warn' : 'debug',
          `Call ${event.callId}: upload ${event.upload.state}`
        )
        return
      case 'twilio.recording':
        this.log(event.type, 'debug', `Twilio recording ${event.status}`)
        return
      case 'tunnel.state':
        state.setTunnel(event.tunnel)
        this.log(event.type, event.tunnel.status === 'error' ? 'error' : 'info', `Tunnel ${event.tunnel.status}`)
        return
      case 'reply':
        this.log(event.type, event.ok ? 'debug' : 'warn', event.ok ? `Reply ${event.id}` : `Request ${event.id} failed`)
        return
    }
  }

  private log(type: string, level: EventLevel, summary: string): void {
    this.opts.store.getState().appendEvent({ atMs: this.opts.now(), type, level, summary })
  }
}
