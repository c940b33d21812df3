// A loopback stream against a WebSocket server playing the bridge: Twilio's order, marks echoed after playout, clear.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { CaptureEncoder } from '../../src/renderer/src/features/loopback/capture-encoder.js'
import { LoopbackSession } from '../../src/renderer/src/features/loopback/loopback-session.js'
import { makeStreamIds } from '../../src/renderer/src/features/loopback/media-protocol.js'
import { PlaybackRenderer } from '../../src/renderer/src/features/loopback/playback-renderer.js'
import { ULAW_DECODE_TABLE } from '../../src/shared/dsp/g711.js'

interface Msg {
  event: string
  [k: string]: unknown
}

describe('LoopbackSession', () => {
  let wss: WebSocketServer
  let url: string
  let bridge: ServerSocket
  let received: Msg[]
  let client: WebSocket
  let session: LoopbackSession
  let player: PlaybackRenderer
  const ids = makeStreamIds()

  /** Resolves when the bridge has received a message the predicate accepts. */
  const bridgeGets = (predicate: (m: Msg) => boolean) =>
    new Promise<Msg>((resolve) => {
      const found = received.find(predicate)
      if (found) return resolve(found)
      const onMessage = () => {
        const hit = received.find(predicate)
        if (hit) {
          bridge.off('message', onMessage)
          resolve(hit)
        }
      }
      bridge.on('message', onMessage)
    })

  /** Resolves once the client has handled enough of the bridge's messages for `condition` to hold. */
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve) => {
      if (condition()) return resolve()
      const check = () => {
        if (!condition()) return
        client.removeEventListener('message', check)
        resolve()
      }
      // Registered after the session's listener, so it runs once the session has handled the message.
      client.addEventListener('message', check)
    })

  /** Plays `blocks` render quanta at 48 kHz; played marks go back through the session, as the worklet does. */
  const play = (blocks: number) => {
    const block = new Float32Array(128)
    for (let i = 0; i < blocks; i++) {
      const marks: string[] = []
      player.render(block, marks)
      if (marks.length) session.marksPlayed(marks)
    }
  }

  beforeEach(async () => {
    received = []
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(wss, 'listening')
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/media?token=t`
    const connected = once(wss, 'connection')
    client = new WebSocket(url)
    ;[bridge] = (await connected) as [ServerSocket]
    bridge.on('message', (data) => received.push(JSON.parse(String(data)) as Msg))
    if (client.readyState !== WebSocket.OPEN)
      await new Promise((r) => client.addEventListener('open', r, { once: true }))
    player = new PlaybackRenderer(48_000)
    session = new LoopbackSession({
      ids,
      customParameters: { mode: 'echo', direction: 'loopback', callId: 'call-1' },
      transport: { send: (t) => client.send(t), close: (c, r) => client.close(c, r) },
      sink: {
        enqueue: (ulaw) => player.queue.enqueue(Float32Array.from(ulaw, (b) => ULAW_DECODE_TABLE[b]! / 32768)),
        mark: (name) => player.queue.mark(name),
        clear: () => session.marksPlayed(player.clear())
      }
    })
    client.addEventListener('message', (e) => session.receive(e.data))
  })

  afterEach(async () => {
    client.close()
    for (const ws of wss.clients) ws.terminate()
    await new Promise((resolve) => wss.close(resolve))
  })

  it('opens with connected then start (custom parameters), then streams caller frames', async () => {
    session.open()
    const encoder = new CaptureEncoder(48_000)
    const mic = Float32Array.from({ length: 48_000 * 0.1 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 48_000))
    for (let i = 0; i < mic.length; i += 128) encoder.push(mic.subarray(i, i + 128), (f) => session.sendCallerFrame(f))
    await bridgeGets((m) => m.event === 'media' && (m.media as { chunk: string }).chunk === '5')
    expect(received[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' })
    expect(received[1]).toMatchObject({
      event: 'start',
      streamSid: ids.streamSid,
      start: { callSid: ids.callSid, customParameters: { mode: 'echo', direction: 'loopback', callId: 'call-1' } }
    })
    const media = received.filter((m) => m.event === 'media')
    expect(media).toHaveLength(5)
    expect(media.map((m) => (m.media as { timestamp: string }).timestamp)).toEqual(['0', '20', '40', '60', '80'])
    for (const m of media) expect(Buffer.from((m.media as { payload: string }).payload, 'base64')).toHaveLength(160)
    expect(session.stats.callerFrames).toBe(5)
  })

  it('echoes a mark only once the agent audio before it has played', async () => {
    session.open()
    const frame = Buffer.alloc(160, 0x10).toString('base64')
    for (let i = 0; i < 3; i++)
      bridge.send(JSON.stringify({ event: 'media', streamSid: ids.streamSid, media: { payload: frame } }))
    bridge.send(JSON.stringify({ event: 'mark', streamSid: ids.streamSid, mark: { name: '0:1' } }))
    await until(() => session.stats.marksReceived === 1)
    expect(session.stats.agentFramesReceived).toBe(3)
    // 3 frames = 60 ms = 2880 samples at 48 kHz = 22.5 quanta: not yet after 22, echoed by the 23rd.
    play(22)
    expect(session.stats.marksEchoed).toBe(0)
    play(1)
    const echo = await bridgeGets((m) => m.event === 'mark')
    expect(echo).toMatchObject({ streamSid: ids.streamSid, mark: { name: '0:1' } })
    expect(typeof echo.sequenceNumber).toBe('string')
  })

  it('on clear drops the queued agent audio and echoes every pending mark at once', async () => {
    session.open()
    const second = Buffer.alloc(8000, 0x20).toString('base64')
    bridge.send(JSON.stringify({ event: 'media', streamSid: ids.streamSid, media: { payload: second } }))
    bridge.send(JSON.stringify({ event: 'mark', streamSid: ids.streamSid, mark: { name: '0:1' } }))
    bridge.send(JSON.stringify({ event: 'media', streamSid: ids.streamSid, media: { payload: second } }))
    bridge.send(JSON.stringify({ event: 'mark', streamSid: ids.streamSid, mark: { name: '0:2' } }))
    await until(() => session.stats.marksReceived === 2)
    play(10)
    bridge.send(JSON.stringify({ event: 'clear', streamSid: ids.streamSid }))
    await bridgeGets((m) => m.event === 'mark' && (m.mark as { name: string }).name === '0:2')
    const names = received.filter((m) => m.event === 'mark').map((m) => (m.mark as { name: string }).name)
    expect(names).toEqual(['0:1', '0:2'])
    expect(player.queue.queuedSamples).toBe(0)
    expect(session.stats.clears).toBe(1)
  })

  it('sends dtmf, and stop before closing on hang-up', async () => {
    session.open()
    session.sendDtmf('5')
    const closed = once(bridge, 'close')
    session.hangup()
    const [code] = (await closed) as [number]
    expect(code).toBe(1000)
    const tail = received.slice(-2)
    expect(tail[0]).toMatchObject({ event: 'dtmf', dtmf: { digit: '5', track: 'inbound_track' } })
    expect(tail[1]).toEqual({
      event: 'stop',
      sequenceNumber: expect.any(String),
      stop: { accountSid: ids.accountSid, callSid: ids.callSid },
      streamSid: ids.streamSid
    })
    // Nothing goes out after the stop.
    session.sendCallerFrame(new Uint8Array(160))
    expect(session.stats.callerFrames).toBe(0)
  })
})
