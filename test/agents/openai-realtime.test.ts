// The OpenAI Realtime agent driven through the Agent interface against the local GA fake.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { AGENT_EVENT_NAMES, type AgentEvents, type CallContext } from '../../src/main/agents/agent.js'
import {
  OpenAiRealtimeAgent,
  openAiRealtimeEngine,
  type OpenAiRealtimeOptions
} from '../../src/main/agents/openai-realtime.js'
import { createLogger } from '../../src/main/log.js'
import type { SecretStore } from '../../src/main/settings/secrets.js'
import { SettingsSchema } from '../../src/shared/settings.js'
import { linearToUlaw } from '../../src/main/audio/g711.js'
import type { CallbenchError } from '../../src/shared/errors.js'
import { FakeRealtimeServer, type FakeRealtimeSession } from '../fakes/openai-realtime.js'

const FRAME_BYTES = 160

type Recorded = { [K in keyof AgentEvents]: { kind: K; args: AgentEvents[K] } }[keyof AgentEvents]

interface Harness {
  agent: OpenAiRealtimeAgent
  call: CallContext
  events: Recorded[]
  /** Resolves with the args of the first event of `kind` (from `fromIndex` on) that matches. */
  next<K extends keyof AgentEvents>(
    kind: K,
    match?: (...args: AgentEvents[K]) => boolean,
    fromIndex?: number
  ): Promise<AgentEvents[K]>
  of<K extends keyof AgentEvents>(kind: K): AgentEvents[K][]
  timeline(): string[]
}

let fake: FakeRealtimeServer
let callSeq = 0
const open: OpenAiRealtimeAgent[] = []

beforeAll(async () => {
  fake = await FakeRealtimeServer.start({ replyText: 'Sure, I can help with that.', callerText: 'What time is it?' })
})

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()))
})

afterAll(async () => {
  await fake.close()
})

function harness(opts: Partial<OpenAiRealtimeOptions> = {}, call: Partial<CallContext> = {}, server = fake): Harness {
  const t0 = performance.now()
  const agent = new OpenAiRealtimeAgent({ apiKey: 'test', baseUrl: server.baseUrl, ...opts })
  open.push(agent)
  const ctx: CallContext = {
    callId: `call-${++callSeq}`,
    direction: 'inbound',
    mode: 'openai-realtime',
    customParameters: {},
    clock: () => performance.now() - t0,
    ...call
  }
  const events: Recorded[] = []
  const waiters = new Set<(e: Recorded, index: number) => void>()
  for (const kind of AGENT_EVENT_NAMES) {
    agent.on(kind, (...args: unknown[]) => {
      const e = { kind, args } as Recorded
      events.push(e)
      for (const w of [...waiters]) w(e, events.length - 1)
    })
  }
  return {
    agent,
    call: ctx,
    events,
    next(kind, match, fromIndex = 0) {
      type A = AgentEvents[typeof kind]
      for (let i = fromIndex; i < events.length; i++) {
        const e = events[i]!
        if (e.kind === kind && (!match || match(...(e.args as A)))) return Promise.resolve(e.args as A)
      }
      return new Promise((resolve) => {
        const w = (e: Recorded, index: number): void => {
          if (index < fromIndex || e.kind !== kind || (match && !match(...(e.args as A)))) return
          waiters.delete(w)
          resolve(e.args as A)
        }
        waiters.add(w)
      })
    },
    of(kind) {
      return events.filter((e) => e.kind === kind).map((e) => e.args) as never
    },
    timeline() {
      return events.filter((e) => e.kind === 'event').map((e) => e.args[0] as string)
    }
  }
}

async function started(h: Harness, server = fake): Promise<FakeRealtimeSession> {
  await h.agent.start(h.call)
  const s = server.sessionFor(h.call.callId)
  if (!s) throw new Error('no fake session for the call')
  return s
}

/** μ-law frames of a 440 Hz tone at -20 dBFS: speech to the fake's energy VAD. */
function loud(ms: number): Uint8Array[] {
  const frames: Uint8Array[] = []
  const amp = 32768 * 0.1 * Math.SQRT2
  for (let f = 0; f < ms / 20; f++) {
    const frame = new Uint8Array(FRAME_BYTES)
    for (let i = 0; i < FRAME_BYTES; i++)
      frame[i] = linearToUlaw(amp * Math.sin((2 * Math.PI * 440 * (f * FRAME_BYTES + i)) / 8000))
    frames.push(frame)
  }
  return frames
}

/** μ-law frames over our sound threshold (about -50 dBFS) but under the fake VAD's -45 dBFS: never a turn. */
function murmur(ms: number): Uint8Array[] {
  return Array.from({ length: ms / 20 }, () =>
    Uint8Array.from({ length: FRAME_BYTES }, (_, i) => linearToUlaw(200 * Math.sin(i / 3)))
  )
}

function quiet(ms: number): Uint8Array[] {
  return Array.from({ length: ms / 20 }, () => new Uint8Array(FRAME_BYTES).fill(0xff))
}

function push(h: Harness, frames: Uint8Array[]): void {
  for (const f of frames) h.agent.pushAudio(f)
}

/** One caller turn the fake's VAD ends (500 ms silence window). */
function callerTurn(h: Harness): void {
  push(h, [...loud(400), ...quiet(600)])
}

async function untilAudioBytes(s: FakeRealtimeSession, bytes: number): Promise<void> {
  while (s.audioBytesReceived < bytes) await new Promise((resolve) => s.once('received', resolve))
}

function sentTypes(s: FakeRealtimeSession): string[] {
  return s.received.map((e) => e.event.type)
}

describe('OpenAI Realtime agent: session', () => {
  it('opens a GA session: bearer auth, no beta header, call id for tracing, μ-law both ways, end_call tool', async () => {
    const h = harness({ voice: 'cedar', instructions: 'Be brief.' })
    const s = await started(h)
    expect(h.agent.input).toEqual({ encoding: 'pcmu', sampleRateHz: 8000 })
    expect(h.agent.output).toEqual({ encoding: 'pcmu', sampleRateHz: 8000 })
    expect(s.headers.authorization).toBe('Bearer test')
    expect(s.headers['openai-beta']).toBeUndefined()
    expect(s.clientRequestId).toBe(h.call.callId)
    expect(s.model).toBe('gpt-realtime')
    const first = s.received[0]!.event
    expect(first.type).toBe('session.update')
    if (first.type !== 'session.update' || first.session.type !== 'realtime')
      throw new Error('not a realtime session.update')
    expect(first.session.output_modalities).toEqual(['audio'])
    expect(first.session.instructions).toBe('Be brief.')
    expect(first.session.audio?.input?.format).toEqual({ type: 'audio/pcmu' })
    expect(first.session.audio?.output?.format).toEqual({ type: 'audio/pcmu' })
    expect(first.session.audio?.output?.voice).toBe('cedar')
    expect(first.session.audio?.input?.transcription?.model).toBe('gpt-4o-mini-transcribe')
    expect(first.session.audio?.input?.turn_detection).toEqual({
      type: 'server_vad',
      threshold: 0.5,
      prefix_padding_ms: 300,
      silence_duration_ms: 500,
      create_response: true,
      interrupt_response: true
    })
    expect(first.session.tools?.map((t) => ('name' in t ? t.name : undefined))).toEqual(['end_call'])
    expect(s.config.audio?.input?.format).toEqual({ type: 'audio/pcmu' })
    expect(h.timeline()).toContain('session.ready')
    expect(s.invalidEvents).toEqual([])
  })

  it('uses the selected model and semantic VAD eagerness', async () => {
    const h = harness({ model: 'gpt-realtime-2.1', turnDetection: { type: 'semantic_vad', eagerness: 'low' } })
    const s = await started(h)
    expect(s.model).toBe('gpt-realtime-2.1')
    expect(s.config.model).toBe('gpt-realtime-2.1')
    expect(s.config.audio?.input?.turn_detection).toEqual({
      type: 'semantic_vad',
      eagerness: 'low',
      create_response: true,
      interrupt_response: true
    })
  })

  it('the engine builds the agent from settings, the key from secrets and the base URL from config', async () => {
    const settings = SettingsSchema.parse({
      openai: {
        realtimeModel: 'gpt-realtime-mini',
        voice: 'ash',
        instructions: 'You book tables.',
        turnDetection: { type: 'server_vad', silenceMs: 800 }
      }
    })
    let key: string | undefined
    const secrets: SecretStore = {
      get: async (n) => (n === 'OPENAI_API_KEY' ? key : undefined),
      set: async () => {},
      delete: async () => {},
      list: async () => []
    }
    const config = (n: string): string | undefined => (n === 'OPENAI_BASE_URL' ? fake.baseUrl : undefined)
    expect(await openAiRealtimeEngine.unavailable({ secrets, config, settings })).toMatch(/OPENAI_API_KEY/)
    key = 'sk-from-secrets'
    expect(await openAiRealtimeEngine.unavailable({ secrets, config, settings })).toBeUndefined()
    const call: CallContext = {
      callId: `call-${++callSeq}`,
      direction: 'inbound',
      mode: 'openai-realtime',
      customParameters: {},
      clock: () => 0
    }
    const agent = openAiRealtimeEngine.create(
      { settings, secrets, config, log: createLogger({ level: 'silent' }), resourcesDir: '' },
      call
    )
    open.push(agent as OpenAiRealtimeAgent)
    await agent.start(call)
    const s = fake.sessionFor(call.callId)!
    expect(s.headers.authorization).toBe('Bearer sk-from-secrets')
    expect(s.model).toBe('gpt-realtime-mini')
    expect(s.config).toMatchObject({
      instructions: 'You book tables.',
      audio: {
        output: { voice: 'ash' },
        input: { turn_detection: { type: 'server_vad', silence_duration_ms: 800, threshold: 0.5 } }
      }
    })
  })

  it('start() is idempotent: one socket, the same promise', async () => {
    const h = harness()
    const a = h.agent.start(h.call)
    const b = h.agent.start(h.call)
    expect(b).toBe(a)
    await a
    await h.agent.start(h.call)
    expect(fake.sessions.filter((s) => s.clientRequestId === h.call.callId)).toHaveLength(1)
  })

  it('loses no caller audio at call start: frames before and during connect are sent, in order, after session.update', async () => {
    const frames = Array.from({ length: 150 }, (_, i) => {
      // Quiet (about -55 dBFS) so the VAD stays silent, and different per frame so order shows.
      const f = new Uint8Array(FRAME_BYTES)
      for (let k = 0; k < FRAME_BYTES; k++) f[k] = 0xf8 | ((i + k) & 7)
      return f
    })
    const h = harness()
    push(h, frames.slice(0, 50))
    const ready = h.agent.start(h.call)
    push(h, frames.slice(50, 100))
    await ready
    push(h, frames.slice(100))
    // By now the caller has been quiet long enough for 2000 ms pieces: a whole piece more sends what is held.
    push(h, quiet(2000))
    const s = fake.sessionFor(h.call.callId)!
    await untilAudioBytes(s, 150 * FRAME_BYTES)
    expect(Buffer.compare(s.receivedAudio().subarray(0, 150 * FRAME_BYTES), Buffer.concat(frames))).toBe(0)
    expect(s.appendsBeforeSessionUpdate).toBe(0)
    expect(s.received[0]!.event.type).toBe('session.update')
    expect(s.invalidEvents).toEqual([])
  })

  it('passes μ-law straight through: two frames make one append of the same bytes', async () => {
    const h = harness()
    const s = await started(h)
    const [a, b] = loud(40)
    h.agent.pushAudio(a!)
    h.agent.pushAudio(b!)
    await untilAudioBytes(s, 2 * FRAME_BYTES)
    expect(s.appends).toBe(1)
    expect(Buffer.compare(s.receivedAudio(), Buffer.concat([a!, b!]))).toBe(0)
  })

  it('sends a long quiet spell in 2000 ms pieces and the first sound after it at once', async () => {
    const h = harness()
    const s = await started(h)
    // 500 ms silence window + 200 ms margin: 40 ms pieces for the first 700 ms of quiet.
    push(h, quiet(680))
    await untilAudioBytes(s, 680 * 8)
    expect(s.appends).toBe(17)
    push(h, quiet(4000))
    await untilAudioBytes(s, 4680 * 8)
    expect(s.appends).toBe(17 + 2)
    // 60 ms of quiet held, then a sound: both go at once, in one append, without waiting for a whole piece.
    push(h, quiet(60))
    h.agent.pushAudio(loud(20)[0]!)
    await untilAudioBytes(s, 4760 * 8)
    expect(s.appends).toBe(17 + 2 + 1)
    expect(s.audioBytesReceived).toBe(4760 * 8)
  })

  it('holds caller speech in 500 ms pieces while nothing of the agent is due; a quiet frame sends it at once', async () => {
    const h = harness()
    const s = await started(h)
    push(h, quiet(40))
    push(h, loud(1000))
    await untilAudioBytes(s, 1040 * 8)
    expect(s.appends).toBe(1 + 2)
    // 60 ms held: the first frame without sound sends it, with that frame, without waiting for a whole piece.
    push(h, [...loud(60), ...quiet(20)])
    await untilAudioBytes(s, 1120 * 8)
    expect(s.appends).toBe(1 + 2 + 1)
    expect(s.audioBytesReceived).toBe(1120 * 8)
  })

  it('sends held speech the moment a reply is due, and speech in 40 ms pieces while the reply is in play', async () => {
    const h = harness()
    const s = await started(h)
    // The fake VAD ends the turn 500 ms into the quiet; by then 60 ms of murmur (sound to us, not speech) is held.
    push(h, [...loud(400), ...quiet(560), ...murmur(60)])
    await h.next('event', (name) => name === 'speech_stopped')
    await untilAudioBytes(s, 1020 * 8)
    // The reply is playing (no mark has come back): speech goes in normal pieces, so a barge-in is heard at once.
    await h.next('audio')
    const before = s.appends
    push(h, murmur(200))
    await untilAudioBytes(s, 1220 * 8)
    expect(s.appends - before).toBe(5)
  })

  it('sends each append as one Buffer in a text frame, before and after the socket opens', async () => {
    const sends = vi.spyOn(WebSocket.prototype, 'send')
    try {
      const h = harness()
      push(h, loud(40))
      const s = await started(h)
      push(h, loud(40))
      await untilAudioBytes(s, 80 * 8)
      const appends = sends.mock.calls.filter(([data]) =>
        String(data).startsWith('{"type":"input_audio_buffer.append"')
      )
      expect(appends).toHaveLength(2)
      for (const [data, opts] of appends) {
        expect(Buffer.isBuffer(data)).toBe(true)
        expect(opts).toEqual({ binary: false })
      }
      expect(s.appendsBeforeSessionUpdate).toBe(0)
      expect(s.invalidEvents).toEqual([])
    } finally {
      sends.mockRestore()
    }
  })

  it('with inputChunkMs 20 each frame is its own append', async () => {
    const h = harness({ inputChunkMs: 20 })
    const s = await started(h)
    const frame = loud(20)[0]!
    h.agent.pushAudio(frame)
    await untilAudioBytes(s, FRAME_BYTES)
    expect(s.appends).toBe(1)
    expect(Buffer.compare(s.receivedAudio(), Buffer.from(frame))).toBe(0)
  })

  it('a client event sent while half a chunk is held sends that audio first', async () => {
    const h = harness()
    const s = await started(h)
    const frame = loud(20)[0]!
    h.agent.pushAudio(frame)
    await h.agent.say('Hello.')
    const create = await s.untilReceived((e) => e.event.type === 'response.create')
    const appendIndex = s.received.findIndex((e) => e.event.type === 'input_audio_buffer.append')
    expect(appendIndex).toBeGreaterThan(-1)
    expect(appendIndex).toBeLessThan(s.received.indexOf(create))
    expect(Buffer.compare(s.receivedAudio(), Buffer.from(frame))).toBe(0)
  })
})

describe('OpenAI Realtime agent: turns', () => {
  it('plays a reply: audio tagged with the assistant item id, transcripts, turn metrics, timeline', async () => {
    const h = harness()
    const s = await started(h)
    const pushedFrom = h.call.clock()
    callerTurn(h)
    const pushedTo = h.call.clock()
    const [replyId] = await h.next('audioEnd')
    const r = s.responses[0]!
    expect(replyId).toBe(r.itemId)
    const audio = h.of('audio')
    expect(audio.every(([, id]) => id === r.itemId)).toBe(true)
    expect(audio.reduce((n, [chunk]) => n + chunk.byteLength, 0)).toBe(1500 * 8)
    await h.next('event', (name) => name === 'response.done')

    const transcripts = h.of('transcript').map(([t]) => t)
    expect(transcripts.filter((t) => t.role === 'caller' && t.final).map((t) => t.text)).toEqual(['What time is it?'])
    const agentFinal = transcripts.filter((t) => t.role === 'agent' && t.final)
    expect(agentFinal.map((t) => t.text)).toEqual(['Sure, I can help with that.'])
    const partials = transcripts.filter((t) => t.role === 'agent' && !t.final).map((t) => t.text)
    expect(partials.length).toBeGreaterThan(1)
    expect(partials[partials.length - 1]).toBe('Sure, I can help with that.')

    const [turn] = h.of('turn').map(([m]) => m)
    expect(turn!.turn).toBe(1)
    expect(turn!.endOfSpeechWaitMs).toBe(500)
    // Speech ended 400 ms into the audio (the fake reports 900 ms: the 500 ms silence window included).
    expect(turn!.callerStoppedAtMs!).toBeGreaterThanOrEqual(pushedFrom + 400)
    expect(turn!.callerStoppedAtMs!).toBeLessThanOrEqual(pushedTo + 400)
    expect(turn!.endOfTurnAtMs!).toBeGreaterThanOrEqual(pushedTo)
    expect(turn!.llmFirstTokenMs!).toBeGreaterThanOrEqual(0)
    // The turn event comes before the reply's first audio, so the bridge can close the turn on its first frame.
    const kinds = h.events.map((e) => e.kind)
    expect(kinds.indexOf('turn')).toBeLessThan(kinds.indexOf('audio'))
    expect(h.timeline()).toEqual(
      expect.arrayContaining(['speech_started', 'speech_stopped', 'response.created', 'response.done'])
    )
    expect(h.of('interrupt')).toHaveLength(0)
    expect(s.truncations).toHaveLength(0)
    expect(s.invalidEvents).toEqual([])
  })

  it('speaks first on outbound calls, once the session is ready and the stream is there', async () => {
    const h = harness({ greeting: 'Hello, this is Callbench calling.' }, { direction: 'outbound' })
    const s = await started(h)
    expect(sentTypes(s)).not.toContain('response.create')
    h.agent.pushAudio(quiet(20)[0]!)
    const create = await s.untilReceived((e) => e.event.type === 'response.create')
    if (create.event.type !== 'response.create') throw new Error('unreachable')
    expect(create.event.response?.instructions).toContain('Hello, this is Callbench calling.')
    expect(sentTypes(s).indexOf('session.update')).toBeLessThan(sentTypes(s).indexOf('response.create'))
    const [, replyId] = await h.next('audio')
    expect(replyId).toBe(s.responses[0]!.itemId)
  })

  it('does not speak first on inbound calls', async () => {
    const h = harness({ greeting: 'Hello!' })
    const s = await started(h)
    for (const f of quiet(40)) h.agent.pushAudio(f)
    await untilAudioBytes(s, 2 * FRAME_BYTES)
    expect(sentTypes(s)).not.toContain('response.create')
  })

  it('say() asks for the text in the agent voice', async () => {
    const h = harness()
    const s = await started(h)
    await h.agent.say('Your table is booked.')
    const create = await s.untilReceived((e) => e.event.type === 'response.create')
    if (create.event.type !== 'response.create') throw new Error('unreachable')
    expect(create.event.response?.instructions).toContain('Your table is booked.')
    await h.next('audioEnd')
  })

  it('say() while a reply is still generating: cancels it, then asks once the service is done with it', async () => {
    const slow = await FakeRealtimeServer.start({ speedFactor: 0.5, replyDurationMs: 3000 })
    try {
      const h = harness({}, {}, slow)
      const s = await started(h, slow)
      callerTurn(h)
      await h.next('audio')
      await h.agent.say('One moment please.')
      await s.untilReceived((e) => e.event.type === 'response.create')
      const types = sentTypes(s)
      expect(types.indexOf('response.cancel')).toBeLessThan(types.indexOf('response.create'))
      await h.next('audio', (_chunk, id) => id === s.responses[1]?.itemId)
      expect(s.sent.filter((x) => x.errorCode === 'conversation_already_has_active_response')).toHaveLength(0)
      expect(s.responses[0]!.status).toBe('cancelled')
    } finally {
      await slow.close()
    }
  })
})

describe('OpenAI Realtime agent: barge-in', () => {
  it('truncates the playing reply at the heard position and tells the bridge to clear', async () => {
    let nowMs = 0
    const h = harness({ playbackClock: () => nowMs })
    const s = await started(h)
    callerTurn(h)
    const [replyId] = await h.next('audioEnd')
    await h.next('event', (name) => name === 'response.done')
    nowMs = 1000
    h.agent.played(600, replyId)
    nowMs = 1030
    const before = h.events.length
    push(h, loud(100))
    await h.next('interrupt', undefined, before)
    await s.untilReceived((e) => e.event.type === 'conversation.item.truncate')
    // Heard: 600 ms reported by the last mark, plus the 30 ms played since.
    expect(s.truncations).toEqual([expect.objectContaining({ itemId: replyId, audioEndMs: 630, accepted: true })])
    // The response had finished generating: nothing to cancel.
    expect(sentTypes(s)).not.toContain('response.cancel')
    expect(h.of('interrupt')).toHaveLength(1)
    expect(h.timeline()).toContain('truncate')
  })

  it('never truncates past the next mark not yet echoed, nor past the audio emitted', async () => {
    let nowMs = 0
    const h = harness({ playbackClock: () => nowMs })
    const s = await started(h)
    callerTurn(h)
    const [replyId] = await h.next('audioEnd')
    await h.next('event', (name) => name === 'response.done')
    nowMs = 1000
    h.agent.played(600, replyId)
    // Long after the 700 ms mark should have come back, it has not: the caller has not heard past it.
    nowMs = 5000
    push(h, loud(100))
    await s.untilReceived((e) => e.event.type === 'conversation.item.truncate')
    expect(s.truncations).toEqual([expect.objectContaining({ itemId: replyId, audioEndMs: 700, accepted: true })])
  })

  it('truncates nothing when nothing is playing', async () => {
    const h = harness()
    const s = await started(h)
    callerTurn(h)
    const [replyId] = await h.next('audioEnd')
    h.agent.played(1500, replyId)
    await h.next('event', (name) => name === 'response.done')
    const before = h.events.length
    push(h, loud(100))
    await h.next('event', (name) => name === 'speech_started', before)
    push(h, quiet(600))
    await h.next('event', (name) => name === 'speech_stopped', before)
    expect(h.of('interrupt')).toHaveLength(0)
    expect(sentTypes(s)).not.toContain('conversation.item.truncate')
  })

  it('two replies: the first plays out, a barge-in into the second truncates the second at its heard ms', async () => {
    let nowMs = 0
    const h = harness({ playbackClock: () => nowMs })
    const s = await started(h)
    callerTurn(h)
    const [first] = await h.next('audioEnd')
    await h.next('event', (name) => name === 'response.done')
    nowMs = 2000
    h.agent.played(1500, first)

    const mark = h.events.length
    callerTurn(h)
    const [second] = await h.next('audioEnd', (id) => id !== first, mark)
    expect(second).toBe(s.responses[1]!.itemId)
    expect(second).not.toBe(first)
    await h.next(
      'event',
      (name) => name === 'response.done',
      h.events.findIndex((e, i) => i >= mark && e.kind === 'audioEnd')
    )
    nowMs = 4000
    h.agent.played(400, second)
    nowMs = 4010
    const beforeBarge = h.events.length
    push(h, loud(100))
    await h.next('interrupt', undefined, beforeBarge)
    await s.untilReceived((e) => e.event.type === 'conversation.item.truncate')
    expect(s.truncations).toEqual([expect.objectContaining({ itemId: second, audioEndMs: 410, accepted: true })])
    expect(h.of('interrupt')).toHaveLength(1)
  })

  it('cancels a response still generating and drops its deltas still in flight', async () => {
    const slow = await FakeRealtimeServer.start({ speedFactor: 0.5, replyDurationMs: 3000, lateDeltasAfterCancel: 3 })
    try {
      const h = harness({}, {}, slow)
      const s = await started(h, slow)
      callerTurn(h)
      const [, replyId] = await h.next('audio')
      const r = s.responses[0]!
      const before = h.events.length
      push(h, loud(100))
      await h.next('interrupt', undefined, before)
      const interruptAt = h.events.findIndex((e, i) => i >= before && e.kind === 'interrupt')
      await s.untilReceived((e) => e.event.type === 'response.cancel')
      await h.next('event', (name, data) => name === 'response.done' && data?.status === 'cancelled')
      // The fake did send deltas after its cancel; none of them reached the bridge.
      expect(r.status).toBe('cancelled')
      expect(r.deltasAfterCancel).toBe(3)
      const audioAfter = h.events.slice(interruptAt).filter((e) => e.kind === 'audio')
      expect(audioAfter).toHaveLength(0)
      expect(h.of('audio')).toHaveLength(r.deltasSent - r.deltasAfterCancel)
      expect(h.of('audioEnd')).toHaveLength(0)
      const cancel = s.received.find((e) => e.event.type === 'response.cancel')!.event
      expect(cancel).toEqual({ type: 'response.cancel', response_id: r.id })
      // The truncation (sent once the bridge's clear is back, or after a short wait without a bridge) never passes
      // what was emitted.
      await s.untilReceived((e) => e.event.type === 'conversation.item.truncate')
      expect(s.truncations[0]).toMatchObject({ itemId: replyId, accepted: true })
      // The server had already cancelled on speech_started; our late cancel is a lost race, not an error.
      await h.next('event', (name) => name === 'cancel.ignored')
      expect(h.of('error')).toHaveLength(0)
    } finally {
      await slow.close()
    }
  })

  it('truncates once the bridge says the clear is back, a mark-based position moved on by its round trip', async () => {
    const slow = await FakeRealtimeServer.start({ speedFactor: 0.5, replyDurationMs: 3000 })
    try {
      const h = harness({}, {}, slow)
      const s = await started(h, slow)
      callerTurn(h)
      const [, replyId] = await h.next('audio')
      // The bridge reports 40 ms of the reply heard (an echoed mark), then the caller barges in.
      h.agent.played(40, replyId)
      const before = h.events.length
      push(h, loud(100))
      await h.next('interrupt', undefined, before)
      await s.untilReceived((e) => e.event.type === 'response.cancel')
      expect(s.received.some((e) => e.event.type === 'conversation.item.truncate')).toBe(false)
      h.agent.cleared!(40)
      await s.untilReceived((e) => e.event.type === 'conversation.item.truncate')
      const [, data] = (await h.next('event', (name) => name === 'truncate')) as [string, Record<string, number>]
      expect(data.clearRoundTripMs).toBe(40)
      expect(s.truncations[0]).toMatchObject({ itemId: replyId, audioEndMs: data.audioEndMs })
      // At least the echoed 40 ms plus the round trip, never past what was sent.
      expect(data.audioEndMs).toBeGreaterThanOrEqual(80)
      expect(data.audioEndMs).toBeLessThanOrEqual(data.emittedMs!)
    } finally {
      await slow.close()
    }
  })

  it('cancel() (operator stop) truncates and cancels without an interrupt', async () => {
    const slow = await FakeRealtimeServer.start({ speedFactor: 0.5, replyDurationMs: 3000 })
    try {
      const h = harness({}, {}, slow)
      const s = await started(h, slow)
      callerTurn(h)
      const [, replyId] = await h.next('audio')
      h.agent.cancel()
      await s.untilReceived((e) => e.event.type === 'conversation.item.truncate')
      await s.untilReceived((e) => e.event.type === 'response.cancel')
      await h.next('event', (name, data) => name === 'response.done' && data?.status === 'cancelled')
      expect(s.truncations[0]).toMatchObject({ itemId: replyId, accepted: true })
      expect(h.of('interrupt')).toHaveLength(0)
    } finally {
      await slow.close()
    }
  })
})

describe('OpenAI Realtime agent: tools, limits and failures', () => {
  it('end_call: answers the function call, then hangs up after the goodbye', async () => {
    const h = harness()
    const s = await started(h)
    s.script({ endCall: true, text: 'Goodbye!' })
    callerTurn(h)
    const [reason] = await h.next('hangup')
    expect(reason).toBe('agent_end_call')
    const r = s.responses[0]!
    const output = await s.untilReceived((e) => e.event.type === 'conversation.item.create')
    expect(output.event).toEqual({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: r.functionCallId, output: '{"ok":true}' }
    })
    const t = h.timeline()
    expect(t.indexOf('end_call')).toBeGreaterThanOrEqual(0)
    const kinds = h.events.map((e) => (e.kind === 'event' ? e.args[0] : e.kind))
    expect(kinds.lastIndexOf('response.done')).toBeLessThan(kinds.indexOf('hangup'))
    expect(h.of('audio').length).toBeGreaterThan(0)
  })

  it('end_call without a goodbye: asks for one, then hangs up', async () => {
    const h = harness()
    const s = await started(h)
    s.script({ silent: true, endCall: true })
    s.script({ text: 'Goodbye!' })
    callerTurn(h)
    const [reason] = await h.next('hangup')
    expect(reason).toBe('agent_end_call')
    const create = s.received.find((e) => e.event.type === 'response.create')
    if (create?.event.type !== 'response.create') throw new Error('no goodbye requested')
    expect(create.event.response?.tool_choice).toBe('none')
    expect(s.responses).toHaveLength(2)
    expect(s.responses[1]!.status).toBe('completed')
    expect(h.of('audio').every(([, id]) => id === s.responses[1]!.itemId)).toBe(true)
  })

  it('session time limit: tells the model to wrap up, then hangs up', async () => {
    const h = harness({ maxSessionMs: 400, wrapUpLeadMs: 200 })
    const s = await started(h)
    const [reason] = await h.next('hangup')
    expect(reason).toBe('session_time_limit')
    const types = sentTypes(s)
    const item = s.received.find((e) => e.event.type === 'conversation.item.create')
    if (item?.event.type !== 'conversation.item.create' || item.event.item.type !== 'message')
      throw new Error('no wrap-up message')
    expect(item.event.item.role).toBe('system')
    expect(types.indexOf('conversation.item.create')).toBeLessThan(types.indexOf('response.create'))
    expect(h.timeline()).toEqual(expect.arrayContaining(['session.wrap_up', 'session.time_limit']))
  })

  it('an error event is reported and the call goes on', async () => {
    const h = harness()
    const s = await started(h)
    s.sendError('rate_limit_exceeded', 'Too many requests in flight.', 'server_error')
    const [err] = await h.next('error')
    expect(err.code).toBe('upstream_failed')
    expect(err.message).toContain('Too many requests in flight.')
    expect(h.timeline()).toContain('upstream.error')
    callerTurn(h)
    await h.next('audioEnd')
    expect(h.of('failed')).toHaveLength(0)
  })

  it('the socket dropping mid-reply fails the call with upstream_closed', async () => {
    const h = harness()
    const s = await started(h)
    s.script({ dropAfterDeltas: 2 })
    callerTurn(h)
    const [err] = (await h.next('failed')) as [CallbenchError]
    expect(err.code).toBe('upstream_closed')
    expect(h.of('audio')).toHaveLength(2)
    expect(h.of('hangup')).toHaveLength(0)
    // Audio pushed after the failure goes nowhere and throws nothing.
    push(h, quiet(40))
  })

  it('a stalled service fails the call with upstream_timeout while a reply is due', async () => {
    const h = harness({ stallTimeoutMs: 200 })
    const s = await started(h)
    s.script({ stall: true })
    callerTurn(h)
    const [err] = await h.next('failed')
    expect(err.code).toBe('upstream_timeout')
    expect(s.responses[0]!.deltasSent).toBe(0)
  })

  it('an unreachable service rejects start() with upstream_failed', async () => {
    const gone = await FakeRealtimeServer.start()
    const baseUrl = gone.baseUrl
    await gone.close()
    const h = harness({ baseUrl })
    await expect(h.agent.start(h.call)).rejects.toMatchObject({ code: 'upstream_failed' })
    expect(h.of('failed')).toHaveLength(0)
  })

  it('no API key rejects start() with not_configured', async () => {
    const h = harness({ apiKey: async () => undefined })
    await expect(h.agent.start(h.call)).rejects.toMatchObject({ code: 'not_configured' })
  })

  it('close() before the session is ready rejects start() and leaves no socket open', async () => {
    const h = harness()
    const ready = h.agent.start(h.call)
    await h.agent.close()
    await expect(ready).rejects.toMatchObject({ code: 'call_ended' })
  })

  it('close() ends the session cleanly', async () => {
    const h = harness()
    const s = await started(h)
    await h.agent.close()
    await s.untilClosed()
    expect(s.closed).toBe(true)
    expect(h.of('failed')).toHaveLength(0)
  })
})
