// OpenAI Realtime wire helpers: URL mapping, the events we build (typed and checked by the fake's validator), parsing.
import { describe, expect, it } from 'vitest'
import type { RealtimeClientEvent, SessionUpdateEvent } from 'openai/resources/realtime/realtime'
import {
  appendAudioJson,
  buildCancel,
  buildFunctionOutput,
  buildResponseCreate,
  buildSessionUpdate,
  buildSystemMessage,
  buildTruncate,
  isBenignError,
  parseServerEvent,
  realtimeUrl
} from '../../src/main/agents/openai-realtime-protocol.js'
import { checkClientEvent } from '../fakes/openai-realtime.js'

describe('realtimeUrl', () => {
  it('maps the REST base URL to the Realtime WebSocket URL', () => {
    expect(realtimeUrl('https://api.openai.com/v1', 'gpt-realtime')).toBe(
      'wss://api.openai.com/v1/realtime?model=gpt-realtime'
    )
    expect(realtimeUrl('http://127.0.0.1:9999/v1', 'gpt-realtime')).toBe(
      'ws://127.0.0.1:9999/v1/realtime?model=gpt-realtime'
    )
    expect(realtimeUrl('https://proxy.example/openai/v1/', 'gpt-realtime-2.1')).toBe(
      'wss://proxy.example/openai/v1/realtime?model=gpt-realtime-2.1'
    )
    expect(realtimeUrl('https://api.openai.com/v1?x=1', 'a b')).toBe('wss://api.openai.com/v1/realtime?model=a+b')
  })

  it('refuses a scheme that is not HTTP or WebSocket', () => {
    expect(() => realtimeUrl('ftp://host/v1', 'gpt-realtime')).toThrow(/scheme/)
  })
})

describe('client events we build', () => {
  const server = buildSessionUpdate({
    model: 'gpt-realtime',
    voice: 'marin',
    instructions: 'Be brief.',
    transcriptionModel: 'gpt-4o-mini-transcribe',
    turnDetection: { type: 'server_vad', threshold: 0.6, prefixPaddingMs: 200, silenceMs: 700 }
  }) satisfies SessionUpdateEvent
  const semantic = buildSessionUpdate({
    model: 'gpt-realtime',
    voice: 'cedar',
    instructions: '',
    transcriptionModel: 'gpt-4o-mini-transcribe',
    turnDetection: { type: 'semantic_vad', eagerness: 'high' }
  })

  it('session.update is GA: type realtime, μ-law both ways, turn detection in snake_case, no beta fields', () => {
    expect(server.session).toMatchObject({
      type: 'realtime',
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          turn_detection: { type: 'server_vad', threshold: 0.6, prefix_padding_ms: 200, silence_duration_ms: 700 }
        },
        output: { format: { type: 'audio/pcmu' }, voice: 'marin' }
      }
    })
    expect(semantic.session.audio?.input?.turn_detection).toMatchObject({ type: 'semantic_vad', eagerness: 'high' })
    for (const beta of [
      'modalities',
      'voice',
      'input_audio_format',
      'output_audio_format',
      'turn_detection',
      'temperature'
    ]) {
      expect(server.session).not.toHaveProperty(beta)
    }
  })

  it('every builder passes the fake service validator', () => {
    const events: RealtimeClientEvent[] = [
      server,
      semantic,
      JSON.parse(appendAudioJson(new Uint8Array([1, 2, 3])).toString('utf8')) as RealtimeClientEvent,
      buildTruncate('item_1', 640),
      buildCancel(),
      buildCancel('resp_1'),
      buildResponseCreate(),
      buildResponseCreate({ instructions: 'Say hi.', toolChoice: 'none' }),
      buildSystemMessage('Wrap up.'),
      buildFunctionOutput('call_1', '{"ok":true}')
    ]
    expect(events.map((e) => [e.type, checkClientEvent(e)])).toEqual(events.map((e) => [e.type, undefined]))
  })

  it('append carries the bytes base64-encoded once, from a view at any offset', () => {
    const backing = new Uint8Array(400).map((_, i) => i & 0xff)
    const frame = backing.subarray(100, 260)
    const ev = JSON.parse(appendAudioJson(frame).toString('utf8')) as { type: string; audio: string }
    expect(ev.type).toBe('input_audio_buffer.append')
    expect(Buffer.compare(Buffer.from(ev.audio, 'base64'), Buffer.from(frame))).toBe(0)
  })

  it('append is a Buffer of exactly its JSON, for ws to mask and write in one piece', () => {
    for (const n of [0, 1, 2, 3, 160, 800, 4001]) {
      const audio = new Uint8Array(n).map((_, i) => (i * 37) & 0xff)
      const msg = appendAudioJson(audio)
      expect(Buffer.isBuffer(msg)).toBe(true)
      expect(msg.toString('latin1')).toBe(
        `{"type":"input_audio_buffer.append","audio":"${Buffer.from(audio).toString('base64')}"}`
      )
    }
  })
})

describe('parseServerEvent / isBenignError', () => {
  it('accepts objects with a string type and nothing else', () => {
    expect(parseServerEvent('{"type":"session.created","event_id":"e","session":{"type":"realtime"}}')?.type).toBe(
      'session.created'
    )
    expect(parseServerEvent('not json')).toBeUndefined()
    expect(parseServerEvent('[1]')).toBeUndefined()
    expect(parseServerEvent('{"type":3}')).toBeUndefined()
    expect(parseServerEvent('null')).toBeUndefined()
  })

  it('a cancel that lost the race is benign; other errors are not', () => {
    expect(isBenignError({ type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'x' })).toBe(
      true
    )
    expect(
      isBenignError({ type: 'invalid_request_error', message: 'Cancellation failed: no active response found' })
    ).toBe(true)
    expect(
      isBenignError({
        type: 'invalid_request_error',
        code: 'invalid_value',
        message: 'Audio content of 10ms is already shorter than 20ms'
      })
    ).toBe(false)
  })
})
