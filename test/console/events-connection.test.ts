// The console's events link against a real WebSocket server: ping/pong, dispatch into the store, reconnect with backoff.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { EventsConnection } from '../../src/renderer/src/api/events.js'
import { createAppStore, type AppState, type AppStore } from '../../src/renderer/src/store/index.js'

/** Resolves when the store reaches a state the predicate accepts. */
function until(store: AppStore, predicate: (s: AppState) => boolean): Promise<AppState> {
  return new Promise((resolve) => {
    if (predicate(store.getState())) return resolve(store.getState())
    const unsubscribe = store.subscribe((s) => {
      if (predicate(s)) {
        unsubscribe()
        resolve(s)
      }
    })
  })
}

describe('EventsConnection', () => {
  let wss: WebSocketServer
  let url: string
  let store: AppStore
  let conn: EventsConnection | undefined
  const received: unknown[] = []
  const sockets: ServerSocket[] = []

  beforeEach(async () => {
    received.length = 0
    sockets.length = 0
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(wss, 'listening')
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/events?token=t`
    wss.on('connection', (ws) => {
      sockets.push(ws)
      ws.send(JSON.stringify({ type: 'hello', version: '9.9.9', serverTimeMs: Date.now() }))
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type: string; id?: string }
        received.push(msg)
        if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong', id: msg.id, serverTimeMs: Date.now() }))
      })
    })
    store = createAppStore()
  })

  afterEach(async () => {
    conn?.stop()
    conn = undefined
    for (const ws of wss.clients) ws.terminate()
    await new Promise((resolve) => wss.close(resolve))
  })

  it('goes online, pings on connect, and records the pong round trip', async () => {
    let resyncs = 0
    conn = new EventsConnection({ url, store, onResync: () => resyncs++ })
    conn.start()
    const s = await until(store, (st) => st.link.lastPongAtMs !== null)
    expect(s.link.status).toBe('online')
    expect(s.link.serverVersion).toBe('9.9.9')
    expect(s.link.rttMs).toBeGreaterThanOrEqual(0)
    expect(received[0]).toEqual({ type: 'ping', id: 'p1' })
    expect(resyncs).toBe(1)
    expect(s.eventLog.map((e) => e.type)).toEqual(expect.arrayContaining(['hello', 'pong']))

    expect(conn.ping()).toBe(true)
    await until(store, (st) => st.eventLog.filter((e) => e.type === 'pong').length === 2)
    expect(received).toContainEqual({ type: 'ping', id: 'p2' })
  })

  it('turns events into state: calls, levels (not logged), tunnel, and ignores invalid messages', async () => {
    conn = new EventsConnection({ url, store })
    conn.start()
    await until(store, (st) => st.link.status === 'online')
    store.getState().setHealth(
      {
        status: 'ok',
        version: '9.9.9',
        uptimeS: 1,
        services: { twilio: false, openai: false, elevenlabs: false, s3: false },
        tunnel: { status: 'off' },
        activeCalls: 0
      },
      Date.now()
    )
    const call = {
      id: 'c1',
      direction: 'loopback',
      mode: 'echo',
      state: 'active',
      startedAt: new Date().toISOString()
    }
    const levels = { callerRmsDbfs: -30, callerPeakDbfs: -20, agentRmsDbfs: -60, agentPeakDbfs: -50 }
    const server = sockets[0]!
    server.send(JSON.stringify({ type: 'call.started', call }))
    server.send(JSON.stringify({ type: 'call.levels', callId: 'c1', atMs: 20, levels }))
    server.send('not json')
    server.send(JSON.stringify({ type: 'no.such.event' }))
    server.send(JSON.stringify({ type: 'tunnel.state', tunnel: { status: 'ready', publicUrl: 'https://x.example' } }))

    const s = await until(store, (st) => st.health?.tunnel.status === 'ready')
    expect(s.calls.c1?.state).toBe('active')
    expect(s.levels.c1).toEqual(levels)
    expect(s.health?.publicUrl).toBe('https://x.example')
    expect(s.eventLog.some((e) => e.type === 'call.levels')).toBe(false)
    expect(s.eventLog.filter((e) => e.type === 'invalid')).toHaveLength(2)
  })

  it('shows offline when the server drops the link, then reconnects by itself', async () => {
    let resyncs = 0
    conn = new EventsConnection({ url, store, initialBackoffMs: 20, maxBackoffMs: 40, onResync: () => resyncs++ })
    conn.start()
    await until(store, (st) => st.link.status === 'online')
    sockets[0]!.terminate()

    const offline = await until(store, (st) => st.link.status === 'offline')
    expect(offline.link.attempt).toBe(1)
    expect(offline.link.retryAtMs).not.toBeNull()
    expect(offline.eventLog.some((e) => e.type === 'link' && e.level === 'warn')).toBe(true)

    const back = await until(store, (st) => st.link.status === 'online' && resyncs === 2)
    expect(back.link.attempt).toBe(0)
    expect(sockets).toHaveLength(2)
  })

  it('backs off exponentially up to the ceiling while the server is down', async () => {
    const port = (wss.address() as AddressInfo).port
    await new Promise((resolve) => wss.close(resolve))
    const delays: number[] = []
    const now = 1_000
    conn = new EventsConnection({
      url: `ws://127.0.0.1:${port}/api/events`,
      store,
      initialBackoffMs: 10,
      maxBackoffMs: 40,
      now: () => now,
      random: () => 1
    })
    store.subscribe((s, prev) => {
      if (s.link.retryAtMs !== null && s.link.retryAtMs !== prev.link.retryAtMs) delays.push(s.link.retryAtMs - now)
    })
    conn.start()
    await until(store, (st) => st.link.attempt >= 5)
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 40, 40])
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(wss, 'listening')
  })

  it('stop() closes the link and does not reconnect', async () => {
    conn = new EventsConnection({ url, store, initialBackoffMs: 10 })
    conn.start()
    await until(store, (st) => st.link.status === 'online')
    const closed = once(sockets[0]!, 'close')
    conn.stop()
    await closed
    expect(conn.ping()).toBe(false)
    expect(wss.clients.size).toBe(0)
  })
})
