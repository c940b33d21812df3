// The loopback call's Twilio side: message shapes as Twilio sends them, base64, the bridge's messages parsed.
import { describe, expect, it } from 'vitest'
import {
  decodeBase64,
  encodeBase64,
  makeSid,
  makeStreamIds,
  MediaStreamWriter,
  parseBridgeMessage
} from '../../src/renderer/src/features/loopback/media-protocol.js'

const ids = {
  streamSid: 'MZ' + 'a'.repeat(32),
  callSid: 'CA' + 'b'.repeat(32),
  accountSid: 'AC' + 'c'.repeat(32)
}

describe('MediaStreamWriter', () => {
  it('writes connected, start, media, mark, dtmf and stop in Twilio shapes with string counters', () => {
    const w = new MediaStreamWriter(ids)
    expect(JSON.parse(w.connected())).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' })
    expect(JSON.parse(w.start({ mode: 'echo', direction: 'loopback' }))).toEqual({
      event: 'start',
      sequenceNumber: '1',
      streamSid: ids.streamSid,
      start: {
        accountSid: ids.accountSid,
        streamSid: ids.streamSid,
        callSid: ids.callSid,
        tracks: ['inbound'],
        customParameters: { mode: 'echo', direction: 'loopback' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }
      }
    })
    const frame = Uint8Array.from({ length: 160 }, (_, i) => i)
    const m1 = JSON.parse(w.media(frame))
    const m2 = JSON.parse(w.media(frame))
    expect(m1).toEqual({
      event: 'media',
      sequenceNumber: '2',
      media: { track: 'inbound', chunk: '1', timestamp: '0', payload: Buffer.from(frame).toString('base64') },
      streamSid: ids.streamSid
    })
    expect(m2.media).toMatchObject({ chunk: '2', timestamp: '20' })
    expect(m2.sequenceNumber).toBe('3')
    expect(JSON.parse(w.mark('0:1'))).toEqual({
      event: 'mark',
      sequenceNumber: '4',
      streamSid: ids.streamSid,
      mark: { name: '0:1' }
    })
    expect(JSON.parse(w.dtmf('#'))).toEqual({
      event: 'dtmf',
      streamSid: ids.streamSid,
      sequenceNumber: '5',
      dtmf: { track: 'inbound_track', digit: '#' }
    })
    expect(() => w.dtmf('x')).toThrow(RangeError)
    expect(JSON.parse(w.stop())).toEqual({
      event: 'stop',
      sequenceNumber: '6',
      stop: { accountSid: ids.accountSid, callSid: ids.callSid },
      streamSid: ids.streamSid
    })
    expect(w.chunks).toBe(2)
  })

  it('makes SIDs of two letters and 32 hex digits', () => {
    expect(makeSid('MZ', (n) => new Uint8Array(n).fill(0xab))).toBe('MZ' + 'ab'.repeat(16))
    const fresh = makeStreamIds()
    expect(fresh.streamSid).toMatch(/^MZ[0-9a-f]{32}$/)
    expect(fresh.callSid).toMatch(/^CA[0-9a-f]{32}$/)
    expect(fresh.accountSid).toMatch(/^AC[0-9a-f]{32}$/)
    expect(makeStreamIds().streamSid).not.toBe(fresh.streamSid)
  })
})

describe('base64', () => {
  it('matches Node for every length up to 200 bytes and round-trips', () => {
    for (let n = 0; n <= 200; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255)
      const text = encodeBase64(bytes)
      expect(text).toBe(Buffer.from(bytes).toString('base64'))
      expect(decodeBase64(text)).toEqual(bytes)
    }
  })

  it('refuses what is not strict padded base64', () => {
    for (const bad of ['abc', 'ab=c', 'a$bc', '====', 'ab\u00e9c']) expect(decodeBase64(bad)).toBeUndefined()
  })
})

describe('parseBridgeMessage', () => {
  it('reads media, mark and clear as the bridge sends them', () => {
    const payload = Buffer.from(Uint8Array.from({ length: 160 }, (_, i) => 255 - i)).toString('base64')
    const media = parseBridgeMessage(
      `{"event":"media","streamSid":"${ids.streamSid}","media":{"payload":"${payload}"}}`
    )
    expect(media.kind).toBe('media')
    if (media.kind === 'media') expect(Buffer.from(media.payload).toString('base64')).toBe(payload)
    expect(parseBridgeMessage(`{"event":"mark","streamSid":"${ids.streamSid}","mark":{"name":"3:7"}}`)).toEqual({
      kind: 'mark',
      name: '3:7'
    })
    expect(parseBridgeMessage(`{"event":"clear","streamSid":"${ids.streamSid}"}`)).toEqual({ kind: 'clear' })
  })

  it('never throws on garbage', () => {
    for (const junk of [
      '',
      'nope',
      'null',
      '[]',
      '{"event":"media"}',
      '{"event":"media","media":{"payload":"@@@@"}}',
      '{"event":"mark","mark":{}}',
      '{"event":"boom"}',
      42
    ]) {
      expect(parseBridgeMessage(junk).kind).toBe('invalid')
    }
  })
})
