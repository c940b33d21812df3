// The receive shortcut must be invisible: ws with and without it answers every byte stream the same way.
import { createHash, randomBytes } from 'node:crypto'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Listener } from '../../src/main/server/listener.js'
import {
  deliverTextFrames,
  fastReceiveStats,
  fastTextFrames,
  type FastReceiveStats
} from '../../src/main/server/ws-fast-receive.js'
import { createLogger } from '../../src/main/log.js'

/** A `ws` WebSocket over an in-memory socket: chunks go in exactly as split, everything it writes is kept. */
function harness(opts: { fast: boolean; isServer: boolean; maxPayload: number }) {
  const written: Buffer[] = []
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(Buffer.from(chunk))
      cb()
    }
  })
  // The server side's constructor form (what WebSocketServer does before setSocket).
  const ws = new (WebSocket as unknown as new (a: null, p: undefined, o: object) => WebSocket)(null, undefined, {
    autoPong: true
  })
  ;(ws as unknown as { _isServer: boolean })._isServer = opts.isServer
  ;(ws as unknown as { setSocket(s: Duplex, head: Buffer, o: object): void }).setSocket(socket, Buffer.alloc(0), {
    maxPayload: opts.maxPayload,
    allowSynchronousEvents: true,
    skipUTF8Validation: false,
    // A client masks what it sends: with a fixed mask both sides' bytes can be compared.
    generateMask: (mask: Buffer) => mask.fill(7)
  })
  const events: string[] = []
  ws.on('message', (data: Buffer, isBinary) => events.push(`message ${isBinary} ${data.toString('hex')}`))
  ws.on('ping', (data) => events.push(`ping ${data.toString('hex')}`))
  ws.on('pong', (data) => events.push(`pong ${data.toString('hex')}`))
  ws.on('error', (err: Error & { code?: string }) => events.push(`error ${err.code}`))
  const stats = opts.fast ? fastTextFrames(ws) : undefined
  if (opts.fast && !stats) throw new Error('the shortcut did not install on this ws')
  return {
    ws,
    feed: (chunk: Buffer) => socket.emit('data', chunk),
    events,
    written,
    stats
  }
}

/** A small seeded generator (mulberry32), so a failure names the case that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function frame(b0: number, payload: Buffer, masked: boolean, mask: Buffer, lengthForm?: 16 | 64): Buffer {
  const len = payload.length
  const form = lengthForm ?? (len < 126 ? 7 : len < 65536 ? 16 : 64)
  const head =
    form === 7
      ? Buffer.from([b0, len])
      : form === 16
        ? Buffer.from([b0, 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([b0, 127]), Buffer.from([0, 0, 0, 0, 0, 0, len >> 8, len & 0xff])])
  head[1]! |= masked ? 0x80 : 0
  if (!masked) return Buffer.concat([head, payload])
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!
  return Buffer.concat([head, mask, body])
}

/** One frame of the kinds a media socket sees, or of the kinds it must refuse. */
function randomFrame(next: () => number, clientFrames: boolean, maxPayload: number, clean: boolean): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
  const mask = next() < 0.1 ? Buffer.alloc(4) : Buffer.from([0, 1, 2, 3].map(() => Math.floor(next() * 256)))
  const masked = !clean && next() < 0.03 ? !clientFrames : clientFrames
  const size = pick([0, 1, 5, 23, 24, 31, 32, 33, 125, 126, 300, ...(clean ? [] : [maxPayload, maxPayload + 1])])
  const ascii = Buffer.from(
    Array.from({ length: size }, () => 32 + Math.floor(next() * 95))
      .map((c) => String.fromCharCode(c))
      .join('')
  )
  // A clean stream is what a media socket mostly sees: text, pings, pongs, fragments; no protocol errors.
  const kind = clean ? (next() < 0.85 ? pick([0, 0.61, 0.7, 0.73, 0.77, 0.8]) : 0.95) : next()
  if (kind < 0.6) return frame(0x81, ascii, masked, mask)
  if (kind < 0.65) return frame(0x81, Buffer.concat([ascii, Buffer.from('é€😀')]), masked, mask)
  if (kind < 0.68) {
    const bad = Buffer.from(ascii)
    if (bad.length) bad[Math.floor(next() * bad.length)] = pick([0x80, 0xc0, 0xff, 0xed])
    return frame(0x81, bad, masked, mask)
  }
  if (kind < 0.72) return frame(0x82, ascii, masked, mask)
  if (kind < 0.76) return frame(0x89, ascii.subarray(0, 20), masked, mask)
  if (kind < 0.79) return frame(0x8a, ascii.subarray(0, 20), masked, mask)
  if (kind < 0.84) {
    const half = ascii.length >> 1
    return Buffer.concat([
      frame(0x01, ascii.subarray(0, half), masked, mask),
      ...(next() < 0.5 ? [frame(0x89, Buffer.from('p'), masked, mask)] : []),
      frame(0x80, ascii.subarray(half), masked, mask)
    ])
  }
  if (kind < 0.86) return frame(0x81, ascii, masked, mask, 16)
  if (kind < 0.87) return frame(0x81, ascii.subarray(0, 10), masked, mask, 64)
  if (kind < 0.89) return frame(pick([0xc1, 0xa1, 0x91]), ascii, masked, mask)
  if (kind < 0.9) return frame(0x80, ascii, masked, mask)
  if (kind < 0.91) return frame(pick([0x83, 0x8b, 0x0f]), ascii, masked, mask)
  if (kind < 0.93) return frame(0x88, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]), masked, mask)
  return frame(
    0x81,
    Buffer.from(JSON.stringify({ event: 'media', media: { payload: ascii.toString('base64') } })),
    masked,
    mask
  )
}

/** Chunks as a socket might deliver them: from single bytes up to many frames (coarser for clean streams). */
function split(bytes: Buffer, next: () => number, coarse: boolean): Buffer[] {
  const chunks: Buffer[] = []
  let at = 0
  while (at < bytes.length) {
    const r = coarse ? 0.5 + next() / 2 : next()
    const len = r < 0.2 ? 1 : r < 0.5 ? 1 + Math.floor(next() * 40) : 1 + Math.floor(next() * 2000)
    chunks.push(Buffer.from(bytes.subarray(at, at + len)))
    at += len
  }
  return chunks
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('fastTextFrames', () => {
  it('installs on the ws this project ships (if this fails, ws changed the fields the shortcut reads)', () => {
    expect(harness({ fast: true, isServer: true, maxPayload: 64 }).stats).toEqual({
      fast: 0,
      handedOn: 0,
      sharedReads: false
    })
    expect(harness({ fast: true, isServer: false, maxPayload: 64 }).stats).toEqual({
      fast: 0,
      handedOn: 0,
      sharedReads: false
    })
  })

  it('answers every byte stream exactly as ws alone does, however it is split (server and client side)', async () => {
    let fast = 0
    let handedOn = 0
    for (let seed = 1; seed <= 1500; seed++) {
      const next = rng(seed)
      const isServer = seed % 3 !== 0
      const maxPayload = 600
      const clean = seed % 2 === 0
      const bytes = Buffer.concat(
        Array.from({ length: 1 + Math.floor(next() * 12) }, () => randomFrame(next, isServer, maxPayload, clean))
      )
      const chunks = split(bytes, next, clean)
      const plain = harness({ fast: false, isServer, maxPayload })
      const quick = harness({ fast: true, isServer, maxPayload })
      // Each side gets its own copies: both ws and the shortcut unmask in place.
      for (const c of chunks) plain.feed(Buffer.from(c))
      for (const c of chunks) quick.feed(Buffer.from(c))
      await turn()
      expect(quick.events, `seed ${seed}`).toEqual(plain.events)
      expect(Buffer.concat(quick.written).toString('hex'), `seed ${seed}`).toBe(
        Buffer.concat(plain.written).toString('hex')
      )
      fast += quick.stats!.fast
      handedOn += quick.stats!.handedOn
    }
    // Both ways were taken, many times. (A frame split across chunks leaves ws the stream until a chunk ends on a
    // frame boundary, so random splits keep the shortcut's share low here; a socket's reads end on one.)
    expect(fast).toBeGreaterThan(800)
    expect(handedOn).toBeGreaterThan(2000)
  })

  it('delivers a run of whole text frames in one chunk without ws, and a split one through it', () => {
    const h = harness({ fast: true, isServer: true, maxPayload: 1024 })
    const mask = Buffer.from([1, 2, 3, 4])
    const texts = ['{"event":"media"}', 'x'.repeat(200), '{"event":"mark"}']
    h.feed(Buffer.concat(texts.map((t) => frame(0x81, Buffer.from(t), true, mask))))
    expect(h.stats).toEqual({ fast: 3, handedOn: 0, sharedReads: false })
    const whole = frame(0x81, Buffer.from('{"event":"stop"}'), true, mask)
    h.feed(whole.subarray(0, 5))
    h.feed(whole.subarray(5))
    expect(h.stats).toEqual({ fast: 3, handedOn: 2, sharedReads: false })
    expect(h.events).toEqual(
      [...texts, '{"event":"stop"}'].map((t) => `message false ${Buffer.from(t).toString('hex')}`)
    )
  })
})

describe('deliverTextFrames', () => {
  it('hands the shortcut’s frames to the callback and leaves the rest to the message event', () => {
    const h = harness({ fast: true, isServer: true, maxPayload: 1024 })
    const direct: string[] = []
    expect(deliverTextFrames(h.ws, (data) => direct.push(data.toString()))).toBe(true)
    const mask = Buffer.from([9, 8, 7, 6])
    h.feed(
      Buffer.concat([
        frame(0x81, Buffer.from('one'), true, mask),
        frame(0x01, Buffer.from('fragm'), true, mask),
        frame(0x80, Buffer.from('ented'), true, mask)
      ])
    )
    h.feed(frame(0x81, Buffer.from('two'), true, mask))
    expect(direct).toEqual(['one', 'two'])
    expect(h.events).toEqual([`message false ${Buffer.from('fragmented').toString('hex')}`])
    // Installing again changes nothing: one shortcut, one set of counters.
    expect(fastTextFrames(h.ws)).toBe(h.stats)
  })

  it('says so when the shortcut is not there', () => {
    const h = harness({ fast: false, isServer: true, maxPayload: 1024 })
    expect(deliverTextFrames(h.ws, () => undefined)).toBe(false)
  })
})

describe('Listener', () => {
  let listener: Listener | undefined
  afterEach(async () => {
    await listener?.close()
    listener = undefined
  })

  it('takes the shortcut on the WebSockets it accepts', async () => {
    listener = new Listener({ name: 'test', host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }) })
    const received: string[] = []
    let done!: () => void
    const all = new Promise<void>((resolve) => (done = resolve))
    let accepted: WebSocket | undefined
    listener.ws('/media', (ws) => {
      accepted = ws
      ws.on('message', (data: Buffer) => {
        received.push(data.toString())
        if (received.length === 50) done()
      })
    })
    const port = await listener.listen()
    const client = new WebSocket(`ws://127.0.0.1:${port}/media`)
    await new Promise((resolve) => client.once('open', resolve))
    for (let i = 0; i < 50; i++) client.send(JSON.stringify({ event: 'media', sequenceNumber: String(i) }))
    await all
    client.close()
    expect(received.map((t) => (JSON.parse(t) as { sequenceNumber: string }).sequenceNumber)).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i))
    )
    // Each message left the client in one write, so every read ends on a frame boundary: all 50 take the shortcut.
    expect(fastReceiveStats(accepted!)).toEqual({ fast: 50, handedOn: 0, sharedReads: false })
  })
})

describe('shared reads (deliverTextFrames on a TCP socket)', () => {
  const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
  let listener: Listener | undefined
  let rawServer: Server | undefined
  afterEach(async () => {
    await listener?.close()
    listener = undefined
    await new Promise<void>((resolve) => (rawServer ? rawServer.close(() => resolve()) : resolve()))
    rawServer = undefined
  })

  /** Records what a WebSocket delivers, the callback's frames and ws's own alike, until it closes. */
  function record(ws: WebSocket) {
    const events: string[] = []
    const onText = (data: Buffer, isBinary = false) => events.push(`message ${isBinary} ${data.toString('hex')}`)
    ws.on('message', onText)
    ws.on('ping', (data) => events.push(`ping ${data.toString('hex')}`))
    ws.on('pong', (data) => events.push(`pong ${data.toString('hex')}`))
    ws.on('error', (err: Error & { code?: string }) => events.push(`error ${err.code}`))
    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    return { events, onText, closed }
  }

  /** What ws alone makes of the bytes (the in-memory harness, fed them at once). */
  async function wsAlone(bytes: Buffer, isServer: boolean): Promise<string[]> {
    const h = harness({ fast: false, isServer, maxPayload: 600 })
    h.feed(Buffer.from(bytes))
    await turn()
    return h.events
  }

  /**
   * Writes the chunks one by one, each once the last has reached the kernel, so the reader's reads end in many
   * places. Short lists also wait a loop turn between writes (long ones of single bytes would take too long so).
   */
  async function writeChunks(socket: Socket, chunks: Buffer[]): Promise<void> {
    for (const c of chunks) {
      if (socket.destroyed) return
      await new Promise<void>((resolve) => socket.write(c, () => resolve()))
      if (chunks.length < 40) await turn()
    }
  }

  /** Opens a WebSocket by hand on a raw TCP socket, so the test decides every byte that follows the upgrade. */
  async function rawClient(port: number, path: string): Promise<Socket> {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    const key = randomBytes(16).toString('base64')
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    )
    await new Promise<void>((resolve, reject) => {
      let head = ''
      const onData = (d: Buffer) => {
        head += d.toString('latin1')
        if (!head.includes('\r\n\r\n')) return
        socket.off('data', onData)
        if (head.startsWith('HTTP/1.1 101')) resolve()
        else reject(new Error(head.split('\r\n')[0]))
      }
      socket.on('data', onData)
    })
    return socket
  }

  it('gives each of many accepted sockets, read at once, the events ws alone gives', async () => {
    const servers = new Map<number, ReturnType<typeof record> & { stats: FastReceiveStats }>()
    listener = new Listener({
      name: 'test',
      host: '127.0.0.1',
      port: 0,
      maxWsPayloadBytes: 600,
      log: createLogger({ level: 'silent' })
    })
    listener.ws('/media', (ws, _req, url) => {
      const r = record(ws)
      deliverTextFrames(ws, r.onText)
      servers.set(Number(url.searchParams.get('seed')), { ...r, stats: fastReceiveStats(ws)! })
    })
    const port = await listener.listen()
    const close = frame(0x88, Buffer.from([0x03, 0xe8]), true, Buffer.from([1, 2, 3, 4]))
    let checked = 0
    let fast = 0
    let handedOn = 0
    for (let batch = 0; batch < 20; batch++) {
      // Eight sockets at a time, their reads interleaved through the one shared buffer.
      const seeds = Array.from({ length: 8 }, (_, i) => 10_000 + batch * 8 + i)
      await Promise.all(
        seeds.map(async (seed) => {
          const next = rng(seed)
          const clean = seed % 2 === 0
          const bytes = Buffer.concat(
            Array.from({ length: 1 + Math.floor(next() * 12) }, () => randomFrame(next, true, 600, clean))
          )
          const socket = await rawClient(port, `/media?seed=${seed}`)
          await writeChunks(socket, [...split(bytes, next, clean), close])
          const server = servers.get(seed)!
          await server.closed
          socket.destroy()
          expect(server.stats.sharedReads, `seed ${seed}`).toBe(true)
          expect(server.events, `seed ${seed}`).toEqual(await wsAlone(bytes, true))
          fast += server.stats.fast
          handedOn += server.stats.handedOn
          checked++
        })
      )
    }
    expect(checked).toBe(160)
    // Both ways were taken, many times.
    expect(fast).toBeGreaterThan(100)
    expect(handedOn).toBeGreaterThan(100)
  })

  it('gives a client socket (an engine’s) the events ws alone gives', async () => {
    // What the server sends with its upgrade response, and the frames it sends next: set per seed.
    let greeting: Buffer = Buffer.alloc(0)
    let chunks: Buffer[] = []
    rawServer = createServer((socket) => {
      socket.on('error', () => undefined)
      let head = ''
      const onUpgrade = (d: Buffer) => {
        head += d.toString('latin1')
        if (!head.includes('\r\n\r\n')) return
        socket.off('data', onUpgrade)
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!
        const accept = createHash('sha1')
          .update(key + GUID)
          .digest('base64')
        // A greeting in the same write, as an engine's first event comes: it reaches ws with the response.
        socket.write(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                `Sec-WebSocket-Accept: ${accept}\r\n\r\n`
            ),
            greeting
          ])
        )
        // The rest follows the client's first message, so the client has switched its reads by then.
        socket.once('data', () => void writeChunks(socket, chunks))
      }
      socket.on('data', onUpgrade)
    })
    const port = await new Promise<number>((resolve) =>
      rawServer!.listen(0, '127.0.0.1', () => resolve((rawServer!.address() as AddressInfo).port))
    )
    const close = frame(0x88, Buffer.from([0x03, 0xe8]), false, Buffer.alloc(4))
    let fast = 0
    for (let seed = 20_000; seed < 20_060; seed++) {
      const next = rng(seed)
      const clean = seed % 2 === 0
      const frames = Buffer.concat(
        Array.from({ length: 1 + Math.floor(next() * 12) }, () => randomFrame(next, false, 600, clean))
      )
      greeting =
        seed % 4 < 2 ? frame(0x81, Buffer.from('{"type":"session.created"}'), false, Buffer.alloc(4)) : Buffer.alloc(0)
      chunks = [...split(frames, next, clean), close]
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, { maxPayload: 600 })
      const r = record(client)
      // Installed in the open event itself, as the engine connection does, while a greeting may still be buffered.
      await new Promise<void>((resolve) =>
        client.once('open', () => {
          fastTextFrames(client)
          deliverTextFrames(client, r.onText)
          resolve()
        })
      )
      client.send('go')
      await r.closed
      expect(fastReceiveStats(client)!.sharedReads, `seed ${seed}`).toBe(true)
      expect(r.events, `seed ${seed}`).toEqual(await wsAlone(Buffer.concat([greeting, frames]), false))
      fast += fastReceiveStats(client)!.fast
    }
    expect(fast).toBeGreaterThan(20)
  })

  it('leaves a frame longer than one read, pings and the close handshake to ws', async () => {
    listener = new Listener({
      name: 'test',
      host: '127.0.0.1',
      port: 0,
      maxWsPayloadBytes: 256 * 1024,
      log: createLogger({ level: 'silent' })
    })
    let server: (ReturnType<typeof record> & { ws: WebSocket }) | undefined
    const accepted = new Promise<void>((resolve) =>
      listener!.ws('/media', (ws) => {
        server = { ...record(ws), ws }
        deliverTextFrames(ws, server.onText)
        resolve()
      })
    )
    const port = await listener.listen()
    const client = new WebSocket(`ws://127.0.0.1:${port}/media`)
    const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve))
    await new Promise((resolve) => client.once('open', resolve))
    await accepted
    const big = 'b'.repeat(150_000)
    const first = ['one', big, 'two']
    const gotFirst = new Promise<void>((resolve) =>
      server!.ws.on('message', () => server!.events.length === 3 && resolve())
    )
    for (const t of first) client.send(t)
    await gotFirst
    const rest = Array.from({ length: 100 }, (_, i) => `n${i}`)
    for (const t of rest) client.send(t)
    const texts = [...first, ...rest]
    client.ping('are you there')
    expect((await pong).toString()).toBe('are you there')
    const clientClosed = new Promise<number>((resolve) => client.once('close', resolve))
    client.close(4001, 'done')
    expect(await server!.closed).toBe(4001)
    expect(await clientClosed).toBe(4001)
    expect(server!.events).toEqual([
      ...texts.map((t) => `message false ${Buffer.from(t).toString('hex')}`),
      `ping ${Buffer.from('are you there').toString('hex')}`
    ])
    const stats = fastReceiveStats(server!.ws)!
    expect(stats.sharedReads).toBe(true)
    // The long frame spans reads of the 64 KB buffer: ws took it, from copies. Each short one came whole in a read.
    expect(stats.handedOn).toBeGreaterThan(0)
    expect(stats.fast).toBeGreaterThanOrEqual(100)
  })
})
