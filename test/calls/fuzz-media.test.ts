// Fuzzing one Media Stream must not crash the server nor cost a parallel call any frame of its echo.
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { App } from '../../src/main/app.js'
import type { CallSession } from '../../src/main/calls/call-session.js'
import { loadSpeechClips, speechOf, TwilioMediaSim, type SpeechClip } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

const TOKEN = 'fuzz-token'

/** A deterministic generator, so a failure replays the same garbage. */
function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 0x1_0000_0000
  }
}

function mediaText(streamSid: string, payloadB64: string, chunk = 1): string {
  return `{"event":"media","sequenceNumber":"${chunk + 1}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${payloadB64}"},"streamSid":"${streamSid}"}`
}

/** Garbage to send on an established call: every kind of malformed Media Streams message. */
function garbage(streamSid: string, victimStreamSid: string, rand: () => number): Array<string | Buffer> {
  const silence = Buffer.alloc(160, 0xff).toString('base64')
  const valid = mediaText(streamSid, silence)
  const out: Array<string | Buffer> = [
    // Truncated JSON.
    ...[1, 10, 40, valid.length - 1].map((n) => valid.slice(0, n)),
    '',
    '{',
    // Not objects, or no usable event.
    'null',
    '[]',
    '"media"',
    '1e999',
    '{"event":5}',
    '{"event":null}',
    '{"event":"__proto__"}',
    '{"event":"constructor"}',
    '{"event":"toString","streamSid":"MZ1"}',
    '{"__proto__":{"event":"media"}}',
    // Unknown events.
    `{"event":"transcription","streamSid":"${streamSid}"}`,
    `{"event":"clear","streamSid":"${streamSid}"}`,
    // Wrong types.
    `{"event":"media","streamSid":"${streamSid}","media":"AAAA"}`,
    `{"event":"media","streamSid":"${streamSid}","media":{"chunk":"1","timestamp":"0","payload":123}}`,
    `{"event":"media","streamSid":"${streamSid}","media":{"chunk":{},"timestamp":"0","payload":"${silence}"}}`,
    `{"event":"media","streamSid":["${streamSid}"],"media":{"chunk":"1","timestamp":"0","payload":"${silence}"}}`,
    `{"event":"mark","streamSid":"${streamSid}","mark":{"name":42}}`,
    `{"event":"dtmf","streamSid":"${streamSid}","dtmf":{"digit":"99"}}`,
    `{"event":"start","streamSid":"${streamSid}","start":{"callSid":"CA1","customParameters":"x","mediaFormat":{}}}`,
    // Bad base64 and oversized payloads that still fit in one frame.
    mediaText(streamSid, '!!!!'),
    mediaText(streamSid, 'AAA'),
    mediaText(streamSid, '===='),
    mediaText(streamSid, 'QQ==QQ=='),
    mediaText(streamSid, Buffer.alloc(16 * 1024 + 1).toString('base64')),
    // Deep nesting.
    '['.repeat(30_000) + ']'.repeat(30_000),
    `{"event":"media","x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
    // Marks the session never sent, including one named like the victim's.
    `{"event":"mark","streamSid":"${streamSid}","mark":{"name":"0:1"}}`,
    `{"event":"mark","streamSid":"${streamSid}","mark":{"name":"${'m'.repeat(200)}"}}`,
    // Another call's streamSid on this socket: it must stay on this socket.
    mediaText(victimStreamSid, Buffer.alloc(160, 0x00).toString('base64')),
    `{"event":"mark","streamSid":"${victimStreamSid}","mark":{"name":"0:1"}}`,
    // A second start on a running stream.
    `{"event":"start","streamSid":"MZ${'f'.repeat(32)}","start":{"callSid":"CA${'f'.repeat(32)}","streamSid":"MZ${'f'.repeat(32)}","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`,
    // Chunk numbers going backwards and far ahead.
    mediaText(streamSid, silence, 0),
    mediaText(streamSid, silence, 1_000_000_000),
    mediaText(streamSid, silence, 5),
    // Binary frames: random bytes, and a valid message sent as binary.
    Buffer.from(Array.from({ length: 300 }, () => Math.floor(rand() * 256))),
    Buffer.from(valid)
  ]
  // Random corruptions of a valid frame.
  for (let i = 0; i < 300; i++) {
    const chars = valid.split('')
    const edits = 1 + Math.floor(rand() * 6)
    for (let e = 0; e < edits; e++)
      chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 0x7f))
    out.push(chars.join(''))
  }
  // A burst: 400 valid frames (8 s of audio) at once.
  for (let i = 0; i < 400; i++) out.push(mediaText(streamSid, silence, 100 + i))
  return out
}

describe('fuzzed Media Streams input', () => {
  let testApp: TestApp
  let app: App
  let url: string
  let clips: SpeechClip[]
  const sessions = new Map<string, CallSession>()

  beforeAll(async () => {
    testApp = await startTestApp({ token: TOKEN })
    app = testApp.app
    app.calls.on('started', (s) => {
      const callSid = s.summary().callSid
      if (callSid) sessions.set(callSid, s)
    })
    url = testApp.mediaUrl
    clips = loadSpeechClips()
  })

  afterAll(async () => {
    await testApp.stop()
  })

  function sessionOf(sim: TwilioMediaSim): Promise<CallSession> {
    const found = sessions.get(sim.callSid)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => {
      const onStarted = (s: CallSession): void => {
        if (s.summary().callSid !== sim.callSid) return
        app.calls.off('started', onStarted)
        resolve(s)
      }
      app.calls.on('started', onStarted)
    })
  }

  async function newCall(role: string): Promise<{ sim: TwilioMediaSim; session: CallSession }> {
    const sim = new TwilioMediaSim({ url, customParameters: { mode: 'echo', vad: 'energy', silenceMs: '500', role } })
    const session = sessionOf(sim)
    await sim.connect()
    return { sim, session: await session }
  }

  /** Resolves once the caller has received every agent frame the server says it sent. */
  function allAgentFramesArrived(sim: TwilioMediaSim, session: CallSession): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (sim.stats().mediaFramesReceived < session.stats.framesOut) return
        sim.off('media', check)
        resolve()
      }
      sim.on('media', check)
      check()
    })
  }

  it('keeps a parallel call whole while another socket is fed garbage, and stays up', async () => {
    const rand = seeded(20261121)
    const victim = await newCall('victim')
    const fuzzed: Array<{ sim: TwilioMediaSim; session: CallSession }> = []
    const closeCodes: number[] = []
    let sent = 0

    // Sends garbage on a fuzzed call, opening a fresh one whenever the server has closed the last.
    async function fuzz(items: Array<string | Buffer>): Promise<void> {
      for (const item of items) {
        let f = fuzzed[fuzzed.length - 1]
        if (!f || f.sim.stats().closedAtMs !== undefined) {
          f = await newCall('fuzz')
          fuzzed.push(f)
        }
        f.sim.sendRaw(item, Buffer.isBuffer(item))
        sent++
      }
    }
    async function fuzzRound(): Promise<void> {
      const f = fuzzed[fuzzed.length - 1]
      const sid = f && f.sim.stats().closedAtMs === undefined ? f.sim.streamSid : undefined
      if (!sid) {
        const fresh = await newCall('fuzz')
        fuzzed.push(fresh)
        return fuzz(garbage(fresh.sim.streamSid, victim.sim.streamSid, rand))
      }
      return fuzz(garbage(sid, victim.sim.streamSid, rand))
    }
    async function fuzzThenClose(): Promise<void> {
      // Over the socket's message cap (ws answers 1009), then a stop for this stream: each ends only its own call.
      const big = await newCall('fuzz-big')
      fuzzed.push(big)
      big.sim.sendRaw(mediaText(big.sim.streamSid, Buffer.alloc(768 * 1024, 0xff).toString('base64')))
      closeCodes.push(await big.sim.whenClosed())
      const stopped = await newCall('fuzz-stop')
      fuzzed.push(stopped)
      stopped.sim.sendRaw(
        `{"event":"stop","streamSid":"${victim.sim.streamSid}","stop":{"callSid":"${victim.sim.callSid}"}}`
      )
      closeCodes.push(await stopped.sim.whenClosed())
      // Media before any start, and a start that claims the victim's call id.
      const raw = new WebSocket(url)
      await once(raw, 'open')
      raw.send(mediaText(`MZ${'a'.repeat(32)}`, Buffer.alloc(160, 0xff).toString('base64')))
      raw.send(Buffer.from([0, 1, 2, 3]), { binary: true })
      const hijacker = new Promise<CallSession>((resolve) => app.calls.once('started', resolve))
      raw.send(
        `{"event":"start","streamSid":"MZ${'a'.repeat(32)}","start":{"callSid":"CA${'a'.repeat(32)}","customParameters":{"callId":"${victim.session.id}","mode":"echo","vad":"energy"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`
      )
      expect((await hijacker).id).not.toBe(victim.session.id)
      raw.close(1000)
      await once(raw, 'close')
    }

    const [first, second] = clips
    await victim.sim.play([{ kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 100 }])
    await fuzzRound()
    const turn1 = victim.sim.play([{ ...speechOf(first!), label: 'turn1' }])
    await fuzzRound()
    await turn1
    const reply1 = victim.sim.play([{ kind: 'waitForAgent', until: 'speaking', timeoutMs: 5000 }])
    await fuzzThenClose()
    await reply1
    await fuzzRound()
    await victim.sim.play([
      { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 100 },
      { ...speechOf(second!), label: 'turn2' },
      { kind: 'waitForAgent', until: 'done', timeoutMs: 8000, afterMs: 100 }
    ])
    await allAgentFramesArrived(victim.sim, victim.session)
    expect(victim.sim.stats().closedAtMs).toBeUndefined()
    const victimEnded = new Promise<void>((resolve) => {
      const onEnded = (s: CallSession): void => {
        if (s !== victim.session) return
        app.calls.off('ended', onEnded)
        resolve()
      }
      app.calls.on('ended', onEnded)
    })
    await victim.sim.hangup()
    await victimEnded

    // The garbage reached the parser and was refused there, on the fuzzed calls only.
    expect(sent).toBeGreaterThan(1500)
    const fuzzErrors = fuzzed.reduce((n, f) => n + f.session.stats.protocolErrors, 0)
    expect(fuzzErrors).toBeGreaterThan(100)
    expect(closeCodes).toEqual([1009, 1000])

    // The victim got both echoes, and not a frame was lost either way.
    const v = victim.sim.stats()
    const t1 = v.speech.find((s) => s.label === 'turn1')!
    const t2 = v.speech.find((s) => s.label === 'turn2')!
    expect(t1.firstAgentMediaAtMs).toBeDefined()
    expect(t2.firstAgentMediaAtMs).toBeDefined()
    expect(victim.session.stats.protocolErrors).toBe(0)
    expect(victim.session.stats.framesLost).toBe(0)
    expect(victim.session.stats.framesIn).toBe(v.framesSent)
    expect(v.mediaFramesReceived).toBe(victim.session.stats.framesOut)
    expect(v.badMessages).toBe(0)
    expect(v.clears).toHaveLength(0)
    expect(victim.session.state).toBe('ended')
    expect(victim.session.summary().endReason).toBe('caller_hangup')

    // The server is still up and a new call still gets its greeting.
    const health = await fetch(`${testApp.url}/api/health`, {
      headers: { authorization: `Bearer ${TOKEN}` }
    })
    expect(health.status).toBe(200)
    const after = await newCall('after')
    await after.sim.play([{ kind: 'waitForAgent', until: 'speaking', timeoutMs: 8000 }])
    expect(after.sim.stats().mediaFramesReceived).toBeGreaterThan(0)
    await after.sim.hangup()
    for (const f of fuzzed) await f.sim.hangup()
  })
})
