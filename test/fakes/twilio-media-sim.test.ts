// The Twilio media simulator against a tiny echo stand-in server (energy end-of-turn, clear on barge-in).
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { ulawToLinear } from '../../src/main/audio/g711.js'
import {
  buildClear,
  buildMark,
  buildMedia,
  isProtocolError,
  parseTwilioMessage,
  type ParsedMessage
} from '../../src/main/telephony/media-protocol.js'
import { TwilioMediaSim, loadSpeechClips, speechOf, type SpeechClip } from './twilio-media-sim.js'

interface StandIn {
  url: string
  /** Resolves once the stand-in has received `count` media frames on the call with this streamSid. */
  mediaReceived(streamSid: string, count: number): Promise<void>
  received: ParsedMessage[][]
  headers: Array<Record<string, string | string[] | undefined>>
  close(): Promise<void>
  closeAllCalls(): void
}

// -40 dBFS RMS, the threshold the fixtures' onsets were measured with.
const LOUD_RMS = 32768 * 0.01
const END_OF_TURN_FRAMES = 15

function rmsOf(frame: Uint8Array): number {
  let sum = 0
  for (const b of frame) {
    const s = ulawToLinear(b)
    sum += s * s
  }
  return Math.sqrt(sum / Math.max(1, frame.length))
}

async function startStandIn(): Promise<StandIn> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const received: ParsedMessage[][] = []
  const headers: StandIn['headers'] = []
  const sockets = new Set<WebSocket>()
  const events = new EventEmitter()
  wss.on('connection', (ws, req) => {
    sockets.add(ws)
    headers.push(req.headers)
    const log: ParsedMessage[] = []
    received.push(log)
    let streamSid = ''
    let speaking = false
    let quietFrames = 0
    let playing = false
    let reply = 0
    let heard: Uint8Array[] = []
    ws.on('message', (data, isBinary) => {
      if (isBinary) return
      const msg = parseTwilioMessage(data as Buffer)
      if (isProtocolError(msg)) throw new Error(`stand-in got ${msg.code}`)
      log.push(msg)
      events.emit('message')
      switch (msg.kind) {
        case 'start':
          streamSid = msg.streamSid
          return
        case 'mark':
          if (msg.name === `r${reply}`) playing = false
          return
        case 'stop':
          ws.close(1000)
          return
        case 'media': {
          const loud = rmsOf(msg.payload) > LOUD_RMS
          if (loud && !speaking) {
            speaking = true
            if (playing) {
              ws.send(buildClear(streamSid))
              playing = false
            }
          }
          if (!speaking) return
          heard.push(msg.payload)
          quietFrames = loud ? 0 : quietFrames + 1
          if (quietFrames < END_OF_TURN_FRAMES) return
          speaking = false
          quietFrames = 0
          reply++
          for (const frame of heard.slice(0, heard.length - END_OF_TURN_FRAMES)) ws.send(buildMedia(streamSid, frame))
          ws.send(buildMark(streamSid, `r${reply}`))
          playing = true
          heard = []
          return
        }
        default:
          return
      }
    })
    ws.on('close', () => sockets.delete(ws))
  })
  const port = (wss.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${port}/api/media`,
    received,
    headers,
    mediaReceived: (streamSid, count) =>
      new Promise((resolve) => {
        const check = (): void => {
          const log = received.find((l) => l.some((m) => m.kind === 'start' && m.streamSid === streamSid))
          if (log && log.filter((m) => m.kind === 'media').length >= count) {
            events.off('message', check)
            resolve()
          }
        }
        events.on('message', check)
        check()
      }),
    closeAllCalls: () => {
      for (const ws of sockets) ws.close(1000)
    },
    close: () =>
      new Promise((resolve) => {
        for (const ws of sockets) ws.terminate()
        wss.close(() => resolve())
      })
  }
}

describe('TwilioMediaSim', () => {
  let clips: SpeechClip[]
  let standIn: StandIn | undefined
  const sims: TwilioMediaSim[] = []

  beforeAll(() => {
    clips = loadSpeechClips()
  })

  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.hangup()))
    await standIn?.close()
    standIn = undefined
  })

  async function newCall(
    customParameters: Record<string, string> = {},
    headers?: Record<string, string>
  ): Promise<TwilioMediaSim> {
    standIn ??= await startStandIn()
    const sim = new TwilioMediaSim({ url: standIn.url, customParameters, ...(headers ? { headers } : {}) })
    sims.push(sim)
    await sim.connect()
    return sim
  }

  it('loads the speech fixtures with their onsets and offsets', () => {
    expect(clips.length).toBeGreaterThanOrEqual(3)
    for (const c of clips) {
      expect(c.audio.byteLength).toBe(Math.round(c.durationMs * 8))
      expect(c.offsetMs).toBeGreaterThan(c.onsetMs)
    }
  })

  it('sends connected, start with parameters, then numbered 160-byte media frames', async () => {
    const sim = await newCall({ mode: 'echo', vad: 'energy' }, { 'x-test': 'yes' })
    await sim.play([{ kind: 'silence', durationMs: 200 }])
    await standIn!.mediaReceived(sim.streamSid, 10)
    const log = standIn!.received[0]!
    expect(standIn!.headers[0]!['x-test']).toBe('yes')
    expect(log[0]).toMatchObject({ kind: 'connected', protocol: 'Call' })
    expect(log[1]).toMatchObject({
      kind: 'start',
      sequenceNumber: 1,
      streamSid: sim.streamSid,
      callSid: sim.callSid,
      customParameters: { mode: 'echo', vad: 'energy' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRateHz: 8000, channels: 1 }
    })
    expect(sim.streamSid).toMatch(/^MZ[0-9a-f]{32}$/)
    expect(sim.callSid).toMatch(/^CA[0-9a-f]{32}$/)
    const media = log.filter((m) => m.kind === 'media')
    expect(media.length).toBeGreaterThanOrEqual(10)
    media.forEach((m, i) => {
      expect(m.chunk).toBe(i + 1)
      expect(m.timestampMs).toBe(i * 20)
      expect(m.sequenceNumber).toBe(i + 2)
      expect(m.payload.byteLength).toBe(160)
      expect(m.payload.every((b) => b === 0xff)).toBe(true)
    })
    expect(sim.stats().framesSent).toBe(media.length)
    expect(sim.stats().lateness).toHaveLength(media.length)
  })

  it('records a turn: speech offset as sent, then the first agent frame, then the mark echoed after playback', async () => {
    const sim = await newCall()
    const clip = clips[0]!
    await sim.play([speechOf(clip), { kind: 'waitForAgent', until: 'done', timeoutMs: 10_000 }])
    const doneAtMs = performance.now()
    const s = sim.stats()
    expect(s.speech).toHaveLength(1)
    const turn = s.speech[0]!
    expect(turn.label).toBe(clip.file)
    expect(turn.onsetSentAtMs! - turn.startSentAtMs).toBeGreaterThanOrEqual(clip.onsetMs - 20)
    expect(turn.offsetSentAtMs!).toBeGreaterThan(turn.onsetSentAtMs!)
    expect(turn.firstAgentMediaAtMs!).toBeGreaterThan(turn.offsetSentAtMs!)
    expect(turn.agentPlayingAtOnset).toBe(false)
    expect(s.mediaBytesReceived).toBeGreaterThan(0)
    expect(s.mediaBytesReceived % 160).toBe(0)
    expect(s.mediaFramesReceived).toBe(s.mediaBytesReceived / 160)
    const mark = s.marks[0]!
    expect(mark).toMatchObject({ name: 'r1', cleared: false })
    // The mark comes back only when the queued reply has played at 8 bytes/ms.
    expect(mark.echoedAtMs! - turn.firstAgentMediaAtMs!).toBeGreaterThanOrEqual(s.mediaBytesReceived / 8 - 1)
    // waitForAgent 'done' ends only once that playback is over.
    expect(doneAtMs).toBeGreaterThanOrEqual(mark.echoedAtMs!)
    expect(s.clears).toHaveLength(0)
    expect(s.underruns).toBe(0)
  })

  it('records a barge-in: speech over agent audio, clear received, pending mark echoed at once', async () => {
    const sim = await newCall()
    let clearSeenAtMs = 0
    const cleared = new Promise<void>((resolve) =>
      sim.once('clear', () => {
        clearSeenAtMs = performance.now()
        resolve()
      })
    )
    await sim.play([
      speechOf(clips[1]!),
      { kind: 'waitForAgent', timeoutMs: 5000, afterMs: 100 },
      {
        kind: 'speech',
        audio: clips[0]!.audio.subarray(clips[0]!.onsetMs * 8),
        offsetMs: clips[0]!.offsetMs - clips[0]!.onsetMs,
        label: 'barge'
      },
      { kind: 'silence', durationMs: 400 }
    ])
    await cleared
    const s = sim.stats()
    const barge = s.speech[1]!
    expect(barge.label).toBe('barge')
    expect(barge.agentPlayingAtOnset).toBe(true)
    expect(barge.clearAtMs!).toBeGreaterThanOrEqual(barge.onsetSentAtMs!)
    expect(s.clears).toHaveLength(1)
    expect(s.marks[0]).toMatchObject({ name: 'r1', cleared: true })
    // Echoed on the clear itself, before playback could have reached it.
    expect(s.marks[0]!.echoedAtMs!).toBeLessThanOrEqual(clearSeenAtMs)
    expect(s.marks[0]!.echoedAtMs!).toBeGreaterThanOrEqual(s.clears[0]!)
    expect(s.generations).toHaveLength(2)
    expect(s.generations[0]!.framesReceived).toBeGreaterThan(0)
    expect(s.generations[1]!.staleFrames).toBe(0)
  })

  it('sends dtmf, then stop on hangup, and closes', async () => {
    const sim = await newCall()
    sim.dtmf('7')
    const code = await sim.hangup()
    expect(code).toBe(1000)
    const log = standIn!.received[0]!
    expect(log.find((m) => m.kind === 'dtmf')).toMatchObject({ digit: '7', streamSid: sim.streamSid })
    expect(log[log.length - 1]).toMatchObject({ kind: 'stop', callSid: sim.callSid, streamSid: sim.streamSid })
    expect(sim.stats().closedBy).toBe('us')
  })

  it('gives up waiting for an agent that does not start within startTimeoutMs', async () => {
    const sim = await newCall()
    await sim.play([{ kind: 'waitForAgent', until: 'done', timeoutMs: 60_000, startTimeoutMs: 200 }])
    const s = sim.stats()
    // The stand-in never speaks unprompted: the wait ended on the start timeout, not the overall one.
    expect(s.mediaFramesReceived).toBe(0)
    expect(s.framesSent).toBeGreaterThanOrEqual(10)
    expect(s.framesSent).toBeLessThan(60_000 / 20)
  })

  it('stops sending and resolves play() when the server hangs up', async () => {
    const sim = await newCall()
    const done = sim.play([{ kind: 'silence', durationMs: 60_000 }])
    standIn!.closeAllCalls()
    await done
    expect(await sim.whenClosed()).toBe(1000)
    expect(sim.stats().closedBy).toBe('server')
  })

  it('keeps many calls on schedule with contiguous chunks', async () => {
    standIn = await startStandIn()
    const calls = await Promise.all(Array.from({ length: 20 }, () => newCall()))
    await Promise.all(calls.map((c) => c.play([{ kind: 'silence', durationMs: 300 }])))
    await Promise.all(calls.map((c) => standIn!.mediaReceived(c.streamSid, c.stats().framesSent)))
    for (const c of calls) {
      const log = standIn!.received.find((l) => l.some((m) => m.kind === 'start' && m.streamSid === c.streamSid))!
      const chunks = log.flatMap((m) => (m.kind === 'media' ? [m.chunk] : []))
      expect(chunks).toEqual(chunks.map((_, k) => k + 1))
      expect(c.stats().framesSent).toBeGreaterThanOrEqual(15)
    }
  })
})
