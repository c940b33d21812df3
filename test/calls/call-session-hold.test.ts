// The session holds agent audio back while Twilio has plenty queued, so that an engine's chunks go out in fewer
// writes; these tests drive a CallSession directly with a scripted agent and a transport that keeps what it is sent.
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { Agent, AgentEvents } from '../../src/main/agents/agent.js'
import { CallSession } from '../../src/main/calls/call-session.js'
import { EventHub } from '../../src/main/events/hub.js'
import type { Logger } from '../../src/main/log.js'

const FRAME = 160
const STREAM_SID = 'MZ00000000000000000000000000000001'
const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog }

class ScriptedAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly input = { encoding: 'pcmu', sampleRateHz: 8000 } as const
  readonly output = { encoding: 'pcmu', sampleRateHz: 8000 } as const
  readonly capabilities = { ownsTurnDetection: true, canSay: false, wantsPlayback: true }
  readonly playedReports: Array<{ ms: number; replyId: string | undefined }> = []
  async start(): Promise<void> {}
  pushAudio(): void {}
  played(ms: number, replyId?: string): void {
    this.playedReports.push({ ms, replyId })
  }
  async say(): Promise<void> {}
  cancel(): void {}
  async close(): Promise<void> {}
}

interface Sent {
  event: string
  frames?: number
  mark?: string
}

function setup(): { session: CallSession; agent: ScriptedAgent; sent: Sent[]; ended: Promise<void> } {
  const agent = new ScriptedAgent()
  const sent: Sent[] = []
  let resolveEnded!: () => void
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve))
  const session = new CallSession({
    id: 'hold-test',
    streamSid: STREAM_SID,
    direction: 'loopback',
    mode: 'echo',
    agent,
    transport: {
      send(text) {
        const msg = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } }
        sent.push({
          event: msg.event,
          ...(msg.media ? { frames: Buffer.from(msg.media.payload, 'base64').length / FRAME } : {}),
          ...(msg.mark ? { mark: msg.mark.name } : {})
        })
      },
      close() {}
    },
    hub: new EventHub(),
    log: silentLog,
    onEnded: () => resolveEnded()
  })
  return { session, agent, sent, ended }
}

/** 100 ms of agent audio, like one engine delta. */
const chunk = (): Uint8Array => new Uint8Array(800).fill(0x55)

/** One caller frame: 20 ms pass, Twilio plays one agent frame. */
function callerFrame(session: CallSession, n: number): void {
  session.handle({
    kind: 'media',
    sequenceNumber: n + 1,
    streamSid: STREAM_SID,
    track: 'inbound',
    chunk: n,
    timestampMs: n * 20,
    payload: new Uint8Array(FRAME).fill(0xff)
  })
}

describe('CallSession: agent audio held back while Twilio is well ahead', () => {
  it('sends each chunk at once until 1 s is queued, then 500 ms at a time, marks after their media, in order', () => {
    const { agent, sent } = setup()
    for (let i = 0; i < 10; i++) agent.emit('audio', chunk(), 'r1')
    // 1 s queued and nothing played yet: every chunk went out as it came, its mark after it.
    expect(sent.map((m) => m.event)).toEqual(Array.from({ length: 10 }, () => ['media', 'mark']).flat())
    for (let i = 0; i < 4; i++) agent.emit('audio', chunk(), 'r1')
    expect(sent).toHaveLength(20)
    // The fifth chunk makes 500 ms held: all five go, each media followed by its own mark.
    agent.emit('audio', chunk(), 'r1')
    expect(sent).toHaveLength(30)
    expect(sent.slice(20).map((m) => m.event)).toEqual(Array.from({ length: 5 }, () => ['media', 'mark']).flat())
    const marks = sent.filter((m) => m.mark !== undefined).map((m) => m.mark)
    expect(new Set(marks).size).toBe(15)
    expect(sent.filter((m) => m.event === 'media').reduce((n, m) => n + m.frames!, 0)).toBe(75)
  })

  it('sends what is held once Twilio has less than 1 s sent ahead, and at the end of the reply', () => {
    const { session, agent, sent } = setup()
    for (let i = 0; i < 12; i++) agent.emit('audio', chunk(), 'r1')
    // 1 s sent, 200 ms held; one caller frame later Twilio has played 20 ms of it: the held audio goes.
    expect(sent).toHaveLength(20)
    callerFrame(session, 1)
    expect(sent).toHaveLength(24)
    // 1.18 s sent: the next chunk is held until Twilio is down to 1 s ahead again, ten caller frames on.
    agent.emit('audio', chunk(), 'r1')
    for (let n = 2; n <= 10; n++) callerFrame(session, n)
    expect(sent).toHaveLength(24)
    callerFrame(session, 11)
    expect(sent).toHaveLength(26)
    // Held again; the reply's end sends it without waiting.
    agent.emit('audio', chunk(), 'r1')
    expect(sent).toHaveLength(26)
    agent.emit('audioEnd', 'r1')
    expect(sent.slice(26).map((m) => m.event)).toEqual(['media', 'mark'])
  })

  it('a barge-in drops what is held: it never reaches Twilio, and the hang-up does not wait for its marks', async () => {
    const { session, agent, sent, ended } = setup()
    for (let i = 0; i < 13; i++) agent.emit('audio', chunk(), 'r1')
    expect(sent).toHaveLength(20)
    agent.emit('interrupt')
    expect(sent.slice(20).map((m) => m.event)).toEqual(['clear'])
    expect(session.stats.marksSent).toBe(10)
    // Twilio echoes the ten marks it had (the clear), then the agent hangs up: nothing is pending any more.
    for (const m of sent.filter((x) => x.mark !== undefined))
      session.handle({ kind: 'mark', sequenceNumber: undefined, streamSid: STREAM_SID, name: m.mark! })
    agent.emit('hangup', 'done')
    await ended
    expect(session.timeline.filter((e) => e.kind === 'mark.sent')).toHaveLength(10)
    expect(session.timeline.filter((e) => e.kind === 'mark.cleared')).toHaveLength(10)
  })

  it('marks echoed as played still report each chunk end to the agent', () => {
    const { session, agent, sent } = setup()
    for (let i = 0; i < 15; i++) agent.emit('audio', chunk(), 'r1')
    expect(sent).toHaveLength(30)
    for (const m of sent.filter((x) => x.mark !== undefined))
      session.handle({ kind: 'mark', sequenceNumber: undefined, streamSid: STREAM_SID, name: m.mark! })
    expect(agent.playedReports.map((r) => r.ms)).toEqual(Array.from({ length: 15 }, (_, i) => (i + 1) * 100))
  })
})
