// Listen-in through the real bridge: simulated Twilio → /api/media → echo agent; a listen socket hears both sides.
import { EventEmitter } from 'node:events'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeListenFrame, listenPath, type ListenFrame } from '../../src/shared/listen.js'
import type { AudioListener } from '../../src/main/calls/call-session.js'
import type { Logger } from '../../src/main/log.js'
import { listenTo, MAX_LISTEN_BUFFERED_BYTES } from '../../src/main/server/routes/listen.js'
import { loadSpeechClips, speechOf, TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

const FRAME = 160
const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog }

describe('listen-in socket', () => {
  let testApp: TestApp

  beforeAll(async () => {
    testApp = await startTestApp()
  })
  afterAll(async () => {
    await testApp.stop()
  })

  const base = () => `ws://127.0.0.1:${testApp.app.controlListener.port}`

  /** Opens a socket; resolves with it once open, or with the HTTP status that refused the upgrade. */
  function open(url: string): Promise<WebSocket | number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.once('open', () => resolve(ws))
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.once('error', reject)
    })
  }

  it('hears the caller frames byte for byte and the echo as it plays, then closes with the call', async () => {
    const [clip] = loadSpeechClips()
    const callId = 'listen-1'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'echo', vad: 'energy', silenceMs: '500', callId }
    })
    await sim.connect()
    await testApp.untilEvent((e) => e.type === 'call.started' && e.call.id === callId)

    const ws = await open(`${base()}${listenPath(callId)}?token=t`)
    if (typeof ws === 'number') throw new Error(`listen refused with ${ws}`)
    const frames: ListenFrame[] = []
    ws.on('message', (data: Buffer, isBinary) => {
      expect(isBinary).toBe(true)
      const f = decodeListenFrame(new Uint8Array(data))
      expect(f).toBeDefined()
      // Copies: the decoded arrays are views into a buffer ws may reuse.
      frames.push({ index: f!.index, caller: f!.caller.slice(), agent: f!.agent.slice() })
    })
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))

    await sim.play([
      // The greeting plays first; then one turn, echoed after the silence window.
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 200 },
      { ...speechOf(clip!), label: 'turn' },
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 200 }
    ])
    await sim.hangup()
    expect(await closed).toBe(1000)

    expect(frames.length).toBeGreaterThan(100)
    // Consecutive frames, none dropped: one message per caller frame.
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.index).toBe(frames[i - 1]!.index + 1)
    expect(frames[frames.length - 1]!.index).toBe(sim.stats().framesSent)

    // The caller channel is what the sim sent: silence, the clip (padded to whole frames), silence.
    const padded = new Uint8Array(Math.ceil(clip!.audio.length / FRAME) * FRAME).fill(0xff)
    padded.set(clip!.audio)
    const clipFrames = padded.length / FRAME
    const first = frames.findIndex((f) => f.caller.some((b) => b !== 0xff))
    expect(first).toBeGreaterThan(0)
    for (let k = 0; k < clipFrames; k++) {
      expect(Buffer.from(frames[first + k]!.caller).equals(padded.subarray(k * FRAME, (k + 1) * FRAME))).toBe(true)
    }
    for (const [i, f] of frames.entries()) {
      expect(f.caller.length).toBe(FRAME)
      if (i < first || i >= first + clipFrames) expect(f.caller.every((b) => b === 0xff)).toBe(true)
    }

    // The agent channel: the greeting from the start, and the echo after the turn, which is the caller's own audio.
    // The shipped greeting is 3.3 s; the caller waits for it to end before speaking.
    const greeting = frames.slice(0, first).filter((f) => f.agent.length > 0)
    expect(greeting.length).toBeGreaterThan(50)
    expect(greeting.every((f) => f.agent.length === FRAME)).toBe(true)
    const afterTurn = frames.slice(first + clipFrames).filter((f) => f.agent.length > 0)
    expect(afterTurn.length).toBeGreaterThan(20)
    const echoed = Buffer.concat(afterTurn.map((f) => f.agent))
    const middle = clip!.audio.subarray(Math.floor(clip!.audio.length / 2), Math.floor(clip!.audio.length / 2) + 800)
    expect(echoed.indexOf(middle)).toBeGreaterThanOrEqual(0)
  })

  it('answers 401 without the token and 404 for a call that is not live', async () => {
    expect(await open(`${base()}${listenPath('no-such-call')}?token=t`)).toBe(404)
    expect(await open(`${base()}${listenPath('listen-1')}?token=t`)).toBe(404)
    expect(await open(`${base()}${listenPath('no-such-call')}`)).toBe(401)
    expect(await open(`${base()}${listenPath('no-such-call')}?token=wrong`)).toBe(401)
  })
})

describe('listen-in flow control', () => {
  /** A socket that never drains: what a listener that stopped reading looks like to the server. */
  class StuckSocket extends EventEmitter {
    readonly OPEN = 1
    readyState = 1
    bufferedAmount = 0
    readonly sent: Uint8Array[] = []
    closedWith: number | undefined
    send(data: Uint8Array): void {
      this.sent.push(data)
      this.bufferedAmount += data.length
    }
    close(code?: number): void {
      this.closedWith = code
      this.readyState = 3
      this.emit('close', code)
    }
    terminate(): void {
      this.close(1006)
    }
  }

  it('drops frames past 64 KiB buffered, and resumes once the socket drains', () => {
    const listeners = new Set<AudioListener>()
    const session = {
      id: 'c1',
      addAudioListener: (l: AudioListener) => void listeners.add(l),
      removeAudioListener: (l: AudioListener) => void listeners.delete(l)
    }
    const ws = new StuckSocket()
    listenTo(session, ws, silentLog)
    const [listener] = [...listeners]
    const caller = new Uint8Array(160).fill(1)
    const agent = new Uint8Array(160).fill(2)
    for (let i = 1; i <= 1000; i++) listener!.frame(caller, agent, i)
    const frameBytes = 8 + 320
    // Sent until the buffer passed the limit, then nothing more.
    expect(ws.sent.length).toBe(Math.floor(MAX_LISTEN_BUFFERED_BYTES / frameBytes) + 1)
    expect(ws.bufferedAmount).toBeLessThan(MAX_LISTEN_BUFFERED_BYTES + frameBytes)
    ws.bufferedAmount = 0
    listener!.frame(caller, agent, 1001)
    expect(decodeListenFrame(ws.sent[ws.sent.length - 1]!)!.index).toBe(1001)
    listener!.end()
    expect(ws.closedWith).toBe(1000)
    expect(listeners.size).toBe(0)
  })
})
