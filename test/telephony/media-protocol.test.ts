// Unit tests of the Twilio Media Streams parser and builders.
import { describe, expect, it } from 'vitest'
import {
  MAX_MESSAGE_BYTES,
  MAX_PAYLOAD_BYTES,
  buildClear,
  buildMark,
  buildMedia,
  isProtocolError,
  parseTwilioMessage,
  type ParsedMessage,
  type ProtocolError
} from '../../src/main/telephony/media-protocol.js'

const SID = 'MZ0123456789abcdef0123456789abcdef'
const CALL = 'CA0123456789abcdef0123456789abcdef'

function ok(input: string | Uint8Array): ParsedMessage {
  const r = parseTwilioMessage(input)
  if (isProtocolError(r)) throw new Error(`unexpected error ${r.code}: ${r.message}`)
  return r
}

function err(input: string | Uint8Array): ProtocolError {
  const r = parseTwilioMessage(input)
  if (!isProtocolError(r)) throw new Error(`expected an error, got ${r.kind}`)
  return r
}

// Built, not written out, so it cannot be mistaken for a committed credential.
const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2)

const startMsg = {
  event: 'start',
  sequenceNumber: '1',
  streamSid: SID,
  start: {
    accountSid: ACCOUNT,
    streamSid: SID,
    callSid: CALL,
    tracks: ['inbound'],
    customParameters: { sessionId: 's_123', mode: 'echo' },
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }
  }
}

function mediaMsg(payload: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event: 'media',
    sequenceNumber: '3',
    media: { track: 'inbound', chunk: '1', timestamp: '5', payload, ...extra },
    streamSid: SID
  })
}

describe('parseTwilioMessage: valid events', () => {
  it('parses connected', () => {
    expect(ok('{"event":"connected","protocol":"Call","version":"1.0.0"}')).toEqual({
      kind: 'connected',
      protocol: 'Call',
      version: '1.0.0'
    })
  })

  it('parses start with custom parameters and media format', () => {
    const m = ok(JSON.stringify(startMsg))
    expect(m).toEqual({
      kind: 'start',
      sequenceNumber: 1,
      streamSid: SID,
      callSid: CALL,
      accountSid: ACCOUNT,
      tracks: ['inbound'],
      customParameters: { sessionId: 's_123', mode: 'echo' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRateHz: 8000, channels: 1 }
    })
  })

  it('takes streamSid from start when the top level lacks it, and defaults optional parts', () => {
    const { streamSid: _drop, ...rest } = startMsg
    const start = { ...startMsg.start, customParameters: undefined, tracks: undefined, accountSid: undefined }
    const m = ok(JSON.stringify({ ...rest, start }))
    expect(m.kind === 'start' && m.streamSid).toBe(SID)
    expect(m.kind === 'start' && m.customParameters).toEqual({})
    expect(m.kind === 'start' && m.tracks).toEqual(['inbound'])
  })

  it('keeps a __proto__ custom parameter as data, not as a prototype', () => {
    const text = JSON.stringify(startMsg).replace('"sessionId"', '"__proto__"')
    const m = ok(text)
    if (m.kind !== 'start') throw new Error('expected start')
    expect(Object.getPrototypeOf(m.customParameters)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(m.customParameters, '__proto__')?.value).toBe('s_123')
  })

  it('parses media and decodes the payload', () => {
    const bytes = new Uint8Array(160).map((_, i) => i)
    const m = ok(mediaMsg(Buffer.from(bytes).toString('base64')))
    if (m.kind !== 'media') throw new Error('expected media')
    expect(m.streamSid).toBe(SID)
    expect(m.sequenceNumber).toBe(3)
    expect(m.chunk).toBe(1)
    expect(m.timestampMs).toBe(5)
    expect(m.track).toBe('inbound')
    expect(Array.from(m.payload)).toEqual(Array.from(bytes))
  })

  it('parses media given as a Buffer (how ws delivers text frames)', () => {
    const m = ok(Buffer.from(mediaMsg(Buffer.alloc(160, 0xff).toString('base64'))))
    expect(m.kind === 'media' && m.payload.byteLength).toBe(160)
  })

  it('accepts an empty payload and a payload of exactly the cap', () => {
    expect(ok(mediaMsg('')).kind).toBe('media')
    const max = ok(mediaMsg(Buffer.alloc(MAX_PAYLOAD_BYTES, 1).toString('base64')))
    expect(max.kind === 'media' && max.payload.byteLength).toBe(MAX_PAYLOAD_BYTES)
  })

  it('parses dtmf', () => {
    const m = ok(
      `{"event":"dtmf","streamSid":"${SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"#"}}`
    )
    expect(m).toEqual({ kind: 'dtmf', sequenceNumber: 5, streamSid: SID, track: 'inbound_track', digit: '#' })
  })

  it('parses mark', () => {
    const m = ok(`{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{"name":"r12:1840"}}`)
    expect(m).toEqual({ kind: 'mark', sequenceNumber: 4, streamSid: SID, name: 'r12:1840' })
  })

  it('parses stop', () => {
    const m = ok(
      `{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"${CALL}"},"streamSid":"${SID}"}`
    )
    expect(m).toEqual({ kind: 'stop', sequenceNumber: 5, streamSid: SID, callSid: CALL, accountSid: 'AC1' })
  })

  it('ignores extra fields on every event', () => {
    const m = ok(mediaMsg('AAAA', { future: { nested: [1, 2] } }).replace('{"event"', '{"extra":true,"event"'))
    expect(m.kind).toBe('media')
    const s = ok(JSON.stringify({ ...startMsg, newTopLevel: 1, start: { ...startMsg.start, newField: 'x' } }))
    expect(s.kind).toBe('start')
  })
})

describe('parseTwilioMessage: malformed input', () => {
  const cases: Array<[string, string | Uint8Array, ProtocolError['code']]> = [
    ['truncated JSON', mediaMsg('AAAA').slice(0, 40), 'invalid_json'],
    ['empty text', '', 'invalid_json'],
    ['a JSON array', '[1,2]', 'invalid_message'],
    ['a JSON string', '"media"', 'invalid_message'],
    ['JSON null', 'null', 'invalid_message'],
    ['no event', `{"streamSid":"${SID}"}`, 'invalid_message'],
    ['a numeric event', '{"event":7}', 'invalid_message'],
    ['an unknown event', `{"event":"transcription","streamSid":"${SID}"}`, 'unknown_event'],
    ['media without media object', `{"event":"media","streamSid":"${SID}"}`, 'invalid_field'],
    ['media with a numeric payload', mediaMsg(12 as unknown as string), 'invalid_field'],
    ['media with a non-numeric chunk', mediaMsg('AAAA', { chunk: 'one' }), 'invalid_field'],
    ['media with a negative timestamp', mediaMsg('AAAA', { timestamp: -20 }), 'invalid_field'],
    ['media with a missing chunk', mediaMsg('AAAA', { chunk: undefined }), 'invalid_field'],
    ['media with bad base64 characters', mediaMsg('AA*A'), 'bad_base64'],
    ['media with bad base64 length', mediaMsg('AAAAA'), 'bad_base64'],
    ['media with padding in the middle', mediaMsg('QQ==QQ=='), 'bad_base64'],
    ['media with whitespace in base64', mediaMsg('AAAA AAA'), 'bad_base64'],
    ['media with the URL-safe alphabet', mediaMsg('AA-_'), 'bad_base64'],
    ['media with a non-ASCII character in base64', mediaMsg('AAÿA'), 'bad_base64'],
    ['media with too much padding', mediaMsg('AAAA===='), 'bad_base64'],
    [
      'media whose payload exceeds the cap',
      mediaMsg(Buffer.alloc(MAX_PAYLOAD_BYTES + 3).toString('base64')),
      'too_large'
    ],
    ['media with a SID that would break JSON', mediaMsg('AAAA').replace(SID, 'MZ\\"x'), 'invalid_field'],
    ['media with a numeric streamSid', mediaMsg('AAAA').replace(`"${SID}"`, '5'), 'invalid_field'],
    [
      'start without mediaFormat',
      JSON.stringify({ ...startMsg, start: { ...startMsg.start, mediaFormat: undefined } }),
      'invalid_field'
    ],
    [
      'start with a string sample rate',
      JSON.stringify({
        ...startMsg,
        start: { ...startMsg.start, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: '8000', channels: 1 } }
      }),
      'invalid_field'
    ],
    [
      'start with a numeric parameter value',
      JSON.stringify({ ...startMsg, start: { ...startMsg.start, customParameters: { a: 1 } } }),
      'invalid_field'
    ],
    [
      'start with parameters as an array',
      JSON.stringify({ ...startMsg, start: { ...startMsg.start, customParameters: ['a'] } }),
      'invalid_field'
    ],
    [
      'start without callSid',
      JSON.stringify({ ...startMsg, start: { ...startMsg.start, callSid: undefined } }),
      'invalid_field'
    ],
    [
      'start with tracks as a string',
      JSON.stringify({ ...startMsg, start: { ...startMsg.start, tracks: 'inbound' } }),
      'invalid_field'
    ],
    ['dtmf with two digits', `{"event":"dtmf","streamSid":"${SID}","dtmf":{"digit":"12"}}`, 'invalid_field'],
    ['dtmf without digit', `{"event":"dtmf","streamSid":"${SID}","dtmf":{}}`, 'invalid_field'],
    ['mark without name', `{"event":"mark","streamSid":"${SID}","mark":{}}`, 'invalid_field'],
    [
      'mark with a huge name',
      `{"event":"mark","streamSid":"${SID}","mark":{"name":"${'x'.repeat(300)}"}}`,
      'invalid_field'
    ],
    ['stop without streamSid', '{"event":"stop","stop":{}}', 'invalid_field'],
    ['a 1 MB message', mediaMsg(Buffer.alloc(768 * 1024).toString('base64')), 'too_large'],
    ['a 1 MB Buffer', Buffer.alloc(1024 * 1024, 0x20), 'too_large'],
    ['invalid UTF-8 bytes', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_json']
  ]

  it.each(cases)('rejects %s', (_name, input, code) => {
    const e = err(input)
    expect(e.kind).toBe('error')
    expect(e.code).toBe(code)
    expect(e.message.length).toBeGreaterThan(0)
  })

  it('names the event it was parsing', () => {
    expect(err(mediaMsg('AA*A')).event).toBe('media')
    expect(err('{"event":"weird"}').event).toBe('weird')
  })

  it('accepts a message just under the size cap and refuses one just over', () => {
    const base = `{"event":"connected","pad":""}`
    const under = base.replace('""', `"${'x'.repeat(MAX_MESSAGE_BYTES - base.length)}"`)
    expect(under.length).toBe(MAX_MESSAGE_BYTES)
    expect(ok(under).kind).toBe('connected')
    expect(err(under + ' ').code).toBe('too_large')
  })

  it('never throws, whatever the bytes', () => {
    let seed = 42
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const valid = mediaMsg(Buffer.alloc(160, 0xff).toString('base64'))
    let errors = 0
    for (let i = 0; i < 2000; i++) {
      const chars = valid.split('')
      const edits = 1 + Math.floor(rand() * 4)
      for (let e = 0; e < edits; e++)
        chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128))
      const r = parseTwilioMessage(chars.join(''))
      if (isProtocolError(r)) errors++
      else expect(r.kind).toMatch(/^(media|connected|start|dtmf|mark|stop)$/)
    }
    expect(errors).toBeGreaterThan(0)
  })
})

describe('builders', () => {
  it('buildMedia round-trips raw μ-law as base64 with no track field', () => {
    const payload = new Uint8Array(160).map((_, i) => 255 - i)
    const text = buildMedia(SID, payload)
    expect(JSON.parse(text)).toEqual({
      event: 'media',
      streamSid: SID,
      media: { payload: Buffer.from(payload).toString('base64') }
    })
  })

  it('buildMedia encodes only the view it is given, not the whole underlying buffer', () => {
    const backing = new Uint8Array(400).fill(7)
    const view = backing.subarray(100, 260)
    view.fill(9)
    const parsed = JSON.parse(buildMedia(SID, view)) as { media: { payload: string } }
    expect(Array.from(Buffer.from(parsed.media.payload, 'base64'))).toEqual(new Array(160).fill(9))
  })

  it('buildMark escapes the name', () => {
    const name = 'r1:"quoted"\\\n'
    expect(JSON.parse(buildMark(SID, name))).toEqual({ event: 'mark', streamSid: SID, mark: { name } })
  })

  it('buildClear', () => {
    expect(JSON.parse(buildClear(SID))).toEqual({ event: 'clear', streamSid: SID })
  })

  it('refuses a streamSid that would break the JSON', () => {
    expect(() => buildClear('MZ"}')).toThrow(TypeError)
    expect(() => buildMedia('MZ\\', new Uint8Array(1))).toThrow(TypeError)
  })

  it('what the builders produce, the parser reads back as the same event', () => {
    const echoed = buildMark(SID, 'r2:40').replace('{"event"', '{"sequenceNumber":"9","event"')
    expect(ok(echoed)).toEqual({ kind: 'mark', sequenceNumber: 9, streamSid: SID, name: 'r2:40' })
  })
})
