// The OpenAI Realtime fake spoken to over a raw socket: event shapes against the SDK's types, VAD, truncate, cancel, beta refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { RealtimeClientEvent, RealtimeServerEvent } from 'openai/resources/realtime/realtime'
import { FakeRealtimeServer } from '../fakes/openai-realtime.js'
import { loadSpeechClips } from '../fakes/twilio-media-sim.js'

type FieldType = 'string' | 'number' | 'object'

// Required fields of every server event the fake sends, from the SDK's realtime.d.ts; `satisfies` keeps the
// keys to real event type names.
const REQUIRED = {
  'session.created': { event_id: 'string', session: 'object' },
  'session.updated': { event_id: 'string', session: 'object' },
  'input_audio_buffer.speech_started': { event_id: 'string', audio_start_ms: 'number', item_id: 'string' },
  'input_audio_buffer.speech_stopped': { event_id: 'string', audio_end_ms: 'number', item_id: 'string' },
  'input_audio_buffer.committed': { event_id: 'string', item_id: 'string' },
  'conversation.item.added': { event_id: 'string', item: 'object' },
  'conversation.item.done': { event_id: 'string', item: 'object' },
  'conversation.item.input_audio_transcription.delta': { event_id: 'string', item_id: 'string' },
  'conversation.item.input_audio_transcription.completed': {
    event_id: 'string',
    item_id: 'string',
    content_index: 'number',
    transcript: 'string',
    usage: 'object'
  },
  'conversation.item.truncated': {
    event_id: 'string',
    item_id: 'string',
    content_index: 'number',
    audio_end_ms: 'number'
  },
  'response.created': { event_id: 'string', response: 'object' },
  'response.done': { event_id: 'string', response: 'object' },
  'response.output_item.added': { event_id: 'string', response_id: 'string', output_index: 'number', item: 'object' },
  'response.output_item.done': { event_id: 'string', response_id: 'string', output_index: 'number', item: 'object' },
  'response.content_part.added': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    content_index: 'number',
    part: 'object'
  },
  'response.content_part.done': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    content_index: 'number',
    part: 'object'
  },
  'response.output_audio.delta': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    content_index: 'number',
    delta: 'string'
  },
  'response.output_audio.done': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    content_index: 'number'
  },
  'response.output_audio_transcript.delta': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    content_index: 'number',
    delta: 'string'
  },
  'response.output_audio_transcript.done': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    content_index: 'number',
    transcript: 'string'
  },
  'response.function_call_arguments.delta': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    call_id: 'string',
    delta: 'string'
  },
  'response.function_call_arguments.done': {
    event_id: 'string',
    response_id: 'string',
    item_id: 'string',
    output_index: 'number',
    call_id: 'string',
    name: 'string',
    arguments: 'string'
  },
  'rate_limits.updated': { event_id: 'string', rate_limits: 'object' },
  error: { event_id: 'string', error: 'object' }
} satisfies Partial<Record<RealtimeServerEvent['type'], Record<string, FieldType>>>

/** The problems with one server event's fields, against REQUIRED. */
function shapeProblems(ev: Record<string, unknown>): string[] {
  const spec = (REQUIRED as Record<string, Record<string, FieldType>>)[ev.type as string]
  if (!spec) return [`unexpected event type ${String(ev.type)}`]
  const out: string[] = []
  for (const [k, t] of Object.entries(spec)) {
    const v = ev[k]
    if (t === 'object' ? typeof v !== 'object' || v === null : typeof v !== t)
      out.push(`${String(ev.type)}.${k} is not a ${t}`)
  }
  if (ev.type === 'error') {
    const e = ev.error as Record<string, unknown>
    if (typeof e.type !== 'string' || typeof e.message !== 'string') out.push('error.error needs type and message')
  }
  return out
}

interface RawClient {
  ws: WebSocket
  events: Array<Record<string, unknown>>
  next(
    type: RealtimeServerEvent['type'],
    match?: (e: Record<string, unknown>) => boolean
  ): Promise<Record<string, unknown>>
  send(ev: RealtimeClientEvent): void
  closed: Promise<{ code: number; reason: string }>
}

let fake: FakeRealtimeServer
const clients: WebSocket[] = []

beforeAll(async () => {
  fake = await FakeRealtimeServer.start({
    callerText: 'What time is it?',
    replyText: 'It is noon.',
    replyDurationMs: 800
  })
})
afterAll(async () => {
  for (const ws of clients) ws.terminate()
  await fake.close()
})

async function connect(headers: Record<string, string> = { Authorization: 'Bearer sk-test' }): Promise<RawClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${fake.port}/v1/realtime?model=gpt-realtime`, { headers })
  clients.push(ws)
  const events: Array<Record<string, unknown>> = []
  const waiters = new Set<(e: Record<string, unknown>) => void>()
  ws.on('message', (data) => {
    const e = JSON.parse(data.toString()) as Record<string, unknown>
    events.push(e)
    for (const w of [...waiters]) w(e)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  )
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return {
    ws,
    events,
    closed,
    next(type, match) {
      const found = events.find((e) => e.type === type && (!match || match(e)))
      if (found) return Promise.resolve(found)
      return new Promise((resolve) => {
        const w = (e: Record<string, unknown>): void => {
          if (e.type !== type || (match && !match(e))) return
          waiters.delete(w)
          resolve(e)
        }
        waiters.add(w)
      })
    },
    send(ev) {
      ws.send(JSON.stringify(ev))
    }
  }
}

const GA_SESSION = {
  type: 'session.update',
  session: {
    type: 'realtime',
    output_modalities: ['audio'],
    audio: {
      input: {
        format: { type: 'audio/pcmu' },
        transcription: { model: 'gpt-4o-mini-transcribe' },
        turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 }
      },
      output: { format: { type: 'audio/pcmu' }, voice: 'marin' }
    }
  }
} satisfies RealtimeClientEvent

function appendAll(c: RawClient, audio: Uint8Array): void {
  for (let off = 0; off < audio.byteLength; off += 160) {
    c.send({ type: 'input_audio_buffer.append', audio: Buffer.from(audio.subarray(off, off + 160)).toString('base64') })
  }
}

describe('OpenAI Realtime fake', () => {
  it('speaks GA: session.created, session.updated, VAD on the received audio clock, a full reply, well-formed events', async () => {
    const clip = loadSpeechClips().find((c) => c.file === 'what-time.ulaw')!
    const c = await connect()
    const created = await c.next('session.created')
    expect((created.session as { type?: string }).type).toBe('realtime')
    c.send(GA_SESSION)
    const updated = await c.next('session.updated')
    expect(updated.session).toMatchObject({ type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } } } })
    appendAll(c, clip.audio)
    const started = await c.next('input_audio_buffer.speech_started')
    const stopped = await c.next('input_audio_buffer.speech_stopped')
    // Onset minus the 300 ms prefix; offset plus the 500 ms silence window (SDK docs), within two windows.
    expect(Math.abs((started.audio_start_ms as number) - (clip.onsetMs - 300))).toBeLessThanOrEqual(40)
    expect(Math.abs((stopped.audio_end_ms as number) - (clip.offsetMs + 500))).toBeLessThanOrEqual(40)
    expect(stopped.item_id).toBe(started.item_id)
    const done = await c.next('response.done')
    expect((done.response as { status?: string }).status).toBe('completed')

    const types = c.events.map((e) => e.type as string)
    const order = [
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'response.created',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_audio.delta',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.output_item.done',
      'response.done'
    ]
    const at = order.map((t) => types.indexOf(t))
    expect(at.every((i) => i >= 0)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    const completed = await c.next('conversation.item.input_audio_transcription.completed')
    expect(completed.transcript).toBe('What time is it?')
    const audioBytes = c.events
      .filter((e) => e.type === 'response.output_audio.delta')
      .reduce((n, e) => n + Buffer.from(e.delta as string, 'base64').byteLength, 0)
    expect(audioBytes).toBe(800 * 8)
    const transcript = c.events
      .filter((e) => e.type === 'response.output_audio_transcript.delta')
      .map((e) => e.delta)
      .join('')
    expect(transcript).toBe('It is noon.')
    expect(c.events.flatMap(shapeProblems)).toEqual([])
    expect(fake.sessions.at(-1)!.speechStartedSentAtMs).toHaveLength(1)
    expect(fake.sessions.at(-1)!.responses[0]!.firstDeltaSentAtMs).toBeGreaterThan(0)
  })

  it('truncate: refuses a position past the audio produced, accepts one within it', async () => {
    const c = await connect()
    c.send(GA_SESSION)
    await c.next('session.updated')
    c.send({ type: 'response.create' })
    const done = await c.next('response.done')
    const itemId = (done.response as { output: Array<{ id: string }> }).output[0]!.id
    c.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 900 })
    const err = await c.next('error')
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'audio_end_ms' })
    c.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 640 })
    const truncated = await c.next('conversation.item.truncated')
    expect(truncated).toMatchObject({ item_id: itemId, content_index: 0, audio_end_ms: 640 })
    expect(c.events.flatMap(shapeProblems)).toEqual([])
  })

  it('response.cancel: cancels the active response, and says so when there is none', async () => {
    const slow = fake.options.speedFactor
    fake.options.speedFactor = 0.5
    try {
      const c = await connect()
      c.send(GA_SESSION)
      await c.next('session.updated')
      c.send({ type: 'response.create' })
      await c.next('response.output_audio.delta')
      c.send({ type: 'response.cancel' })
      const done = await c.next('response.done')
      expect(done.response).toMatchObject({
        status: 'cancelled',
        status_details: { type: 'cancelled', reason: 'client_cancelled' }
      })
      c.send({ type: 'response.cancel' })
      const err = await c.next('error')
      expect(err.error).toMatchObject({ code: 'response_cancel_not_active' })
    } finally {
      fake.options.speedFactor = slow
    }
  })

  it('cancels its own reply when the caller starts speaking (interrupt_response)', async () => {
    const clip = loadSpeechClips()[0]!
    const slow = fake.options.speedFactor
    fake.options.speedFactor = 0.25
    try {
      const c = await connect()
      c.send(GA_SESSION)
      await c.next('session.updated')
      c.send({ type: 'response.create' })
      await c.next('response.output_audio.delta')
      appendAll(c, clip.audio.subarray(0, (clip.onsetMs + 200) * 8))
      await c.next('input_audio_buffer.speech_started')
      const done = await c.next('response.done')
      expect(done.response).toMatchObject({ status: 'cancelled', status_details: { reason: 'turn_detected' } })
    } finally {
      fake.options.speedFactor = slow
    }
  })

  it('refuses the retired beta shape in session.update', async () => {
    const c = await connect()
    c.send({
      type: 'session.update',
      session: { modalities: ['audio'], type: 'realtime' }
    } as unknown as RealtimeClientEvent)
    const err = await c.next('error')
    expect(err.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'unknown_parameter',
      param: 'session.modalities'
    })
    expect(fake.sessions.at(-1)!.invalidEvents).toHaveLength(1)
  })

  it('answers a beta-shaped client (OpenAI-Beta: realtime=v1) the way the service does: error, then close 4000', async () => {
    const before = fake.betaRefused
    const c = await connect({ Authorization: 'Bearer sk-test', 'OpenAI-Beta': 'realtime=v1' })
    const err = await c.next('error')
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'beta_api_shape_disabled' })
    expect(await c.closed).toEqual({ code: 4000, reason: 'invalid_request_error.beta_api_shape_disabled' })
    expect(fake.betaRefused).toBe(before + 1)
    expect(c.events.flatMap(shapeProblems)).toEqual([])
  })

  it('refuses an upgrade without a bearer key', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${fake.port}/v1/realtime?model=gpt-realtime`)
    clients.push(ws)
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => {})
    })
    expect(status).toBe(401)
  })
})
