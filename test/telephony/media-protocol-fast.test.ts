// The byte-level reader of `media` and `mark` frames against the JSON path: for every input, the same answer.
import { describe, expect, it } from 'vitest'
import {
  parseTwilioJson,
  parseTwilioMessage,
  readMediaOrMark,
  type SidCache
} from '../../src/main/telephony/media-protocol.js'

const SID = 'MZ0123456789abcdef0123456789abcdef'

/** Deterministic PRNG (mulberry32), so a failure names a case that can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')

function twilioMedia(payload: Uint8Array, seq = 3, chunk = 1, ts = 5): string {
  const b64 = Buffer.from(payload).toString('base64')
  return `{"event":"media","sequenceNumber":"${seq}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${ts}","payload":"${b64}"},"streamSid":"${SID}"}`
}

/** Both paths on the same bytes; where the fast one answers, it must answer what JSON.parse's path does. */
function same(input: string | Buffer, sids?: SidCache): boolean {
  const buf = typeof input === 'string' ? bytes(input) : input
  const slow = parseTwilioJson(buf)
  expect(parseTwilioMessage(buf, sids)).toEqual(slow)
  const fast = readMediaOrMark(buf, sids)
  if (fast !== undefined) expect(fast).toEqual(slow)
  return fast !== undefined
}

// Ways to spoil or vary a canonical frame's text.
const MUTATIONS: readonly ((s: string, r: () => number) => string)[] = [
  (s) => s.replace('{', '{ \n\t'),
  (s) => s.replace(/,/g, ' , '),
  (s) => s.replace(/:/g, ' :\r\n '),
  (s) => s + '  \n',
  (s) => s + 'x',
  (s) => s + '}',
  (s) => '\ufeff' + s,
  (s) => s.slice(0, -1),
  (s, r) => s.slice(0, Math.floor(r() * s.length)),
  (s) => s.replace('"event"', '"ev\\u0065nt"'),
  (s) => s.replace('"media":{', '"media":{"extra":"x",'),
  (s) => s.replace('"media":{', '"media":{"extra":7,'),
  (s) => s.replace('"media":{', '"media":{"extra":{},'),
  (s) => s.replace('"event"', '"other":"é","event"'),
  (s) => s.replace('"event"', '"other":[1,2],"event"'),
  (s) => s.replace('"event"', '"other":null,"event"'),
  (s) => s.replace('"event"', '"other":{"a":"b"},"event"'),
  (s) => s.replace('"event"', '"event":"media","event"'),
  (s) => s.replace('"event"', '"event":"mark","event"'),
  (s) => s.replace('"streamSid"', '"streamSid":"MZx","streamSid"'),
  (s) => s.replace('"track":"inbound"', '"track":"outbound"'),
  (s) => s.replace('"track":"inbound"', `"track":"${'t'.repeat(33)}"`),
  (s) => s.replace('"track":"inbound",', ''),
  (s) => s.replace('"track":"inbound"', '"track":5'),
  (s) => s.replace(/"chunk":"\d+"/, '"chunk":"0012"'),
  (s) => s.replace(/"chunk":"\d+"/, '"chunk":12'),
  (s) => s.replace(/"chunk":"\d+"/, '"chunk":"-1"'),
  (s) => s.replace(/"chunk":"\d+"/, '"chunk":""'),
  (s) => s.replace(/"chunk":"\d+"/, '"chunk":"1234567890123456"'),
  (s) => s.replace(/"chunk":"\d+",/, ''),
  (s) => s.replace(/"timestamp":"\d+"/, '"timestamp":"1.5"'),
  (s) => s.replace(/"sequenceNumber":"\d+",/, ''),
  (s) => s.replace(/"sequenceNumber":"\d+"/, '"sequenceNumber":"x"'),
  (s) => s.replace(/"sequenceNumber":"\d+"/, '"sequenceNumber":"٣"'),
  (s) => s.replace(`"streamSid":"${SID}"`, '"streamSid":"MZ bad"'),
  (s) => s.replace(`"streamSid":"${SID}"`, `"streamSid":"${'M'.repeat(65)}"`),
  (s) => s.replace(`"streamSid":"${SID}"`, '"streamSid":""'),
  (s) => s.replace(`"streamSid":"${SID}"`, '"streamSid":"MZ_a-b"'),
  (s) => s.replace(`,"streamSid":"${SID}"`, ''),
  (s) => s.replace('"payload":"', '"payload":"-'),
  (s) => s.replace('"payload":"', '"payload":" '),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":""'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"A==="'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"AB=="'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"ABC="'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"AB==AAAA"'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"AA_-"'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"AAA"'),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":"=AAA"'),
  (s) => s.replace(/"payload":"[^"]*"/, `"payload":"${'A'.repeat(21848)}"`),
  (s) => s.replace(/"payload":"[^"]*"/, '"payload":7'),
  (s) => s.replace(/"payload":"([^"]*)"/, '"payload":"$1\\n"'),
  (s, r) => {
    const at = s.indexOf('"payload":"') + 11 + Math.floor(r() * 40)
    return s.slice(0, at) + String.fromCharCode(32 + Math.floor(r() * 95)) + s.slice(at + 1)
  },
  (s) => s.replace('"event":"media"', '"event":"Media"'),
  (s) => s.replace('"event":"media"', '"event":"stop"'),
  (s) => s.replace('"event":"media"', '"event":"mark"'),
  (s) => s.replace('"media":{', '"mark":{"name":"x"},"media":{'),
  (s) => s.replace('"media":{', '"media":"x","m":{'),
  (s) => s.replace('"media":{', '"media":{"media":{},')
]

describe('media frames read from bytes', () => {
  it('reads canonical Twilio media frames without the JSON path, exactly as the JSON path would', () => {
    const r = rng(1)
    for (let n = 0; n < 500; n++) {
      const payload = Uint8Array.from({ length: Math.floor(r() * 400) + 1 }, () => Math.floor(r() * 256))
      const text = twilioMedia(payload, Math.floor(r() * 1e9), Math.floor(r() * 1e6) + 1, Math.floor(r() * 1e7))
      expect(same(text)).toBe(true)
      const msg = readMediaOrMark(bytes(text))
      expect(msg?.kind).toBe('media')
      if (msg?.kind === 'media') expect(Buffer.from(msg.payload).equals(Buffer.from(payload))).toBe(true)
    }
  })

  it("gives the JSON path's answer for every mutated frame", () => {
    const r = rng(2)
    let fast = 0
    let total = 0
    for (let n = 0; n < 6000; n++) {
      const payload = Uint8Array.from({ length: 160 + Math.floor(r() * 3) }, () => Math.floor(r() * 256))
      let text = twilioMedia(payload, n, n + 1, n * 20)
      const steps = 1 + Math.floor(r() * 3)
      for (let k = 0; k < steps; k++) text = MUTATIONS[Math.floor(r() * MUTATIONS.length)]!(text, r)
      if (same(text)) fast++
      total++
    }
    // Both kinds of outcome must occur, or the mutations test nothing.
    expect(fast).toBeGreaterThan(total / 10)
    expect(fast).toBeLessThan(total)
  })

  it('reads marks, and leaves other events and unusual marks to the JSON path', () => {
    expect(same(`{"event":"mark","sequenceNumber":"9","streamSid":"${SID}","mark":{"name":"3:17"}}`)).toBe(true)
    expect(same(`{"event":"mark","streamSid":"${SID}","mark":{"name":"${'n'.repeat(256)}"}}`)).toBe(true)
    expect(same(`{"event":"mark","streamSid":"${SID}","mark":{"name":"${'n'.repeat(257)}"}}`)).toBe(false)
    expect(same(`{"event":"mark","streamSid":"${SID}","mark":{"name":"é"}}`)).toBe(false)
    expect(same(`{"event":"mark","streamSid":"${SID}","mark":{"name":"a\\"b"}}`)).toBe(false)
    expect(same(`{"event":"mark","streamSid":"${SID}","mark":{}}`)).toBe(false)
    expect(same(`{"event":"mark","streamSid":"${SID}","mark":{"name":5}}`)).toBe(false)
    expect(same(`{"event":"stop","streamSid":"${SID}","stop":{"callSid":"CA1"}}`)).toBe(false)
    expect(same(`{"event":"dtmf","streamSid":"${SID}","dtmf":{"digit":"5"}}`)).toBe(false)
    expect(same('[]')).toBe(false)
    expect(same('')).toBe(false)
    expect(same(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe(false)
  })

  it("reuses the connection's stream SID string and notices when it changes", () => {
    const sids: SidCache = { sid: '' }
    const a = readMediaOrMark(bytes(twilioMedia(new Uint8Array(160))), sids)
    const b = readMediaOrMark(bytes(twilioMedia(new Uint8Array(160))), sids)
    expect(a?.streamSid).toBe(SID)
    expect(b?.streamSid).toBe(SID)
    expect(sids.sid).toBe(SID)
    const other = 'MZ' + 'f'.repeat(32)
    const c = readMediaOrMark(bytes(twilioMedia(new Uint8Array(160)).replace(SID, other)), sids)
    expect(c?.streamSid).toBe(other)
    expect(sids.sid).toBe(other)
  })

  it('reads a frame that sits inside a larger buffer (as ws hands over a slice of what it read)', () => {
    const text = twilioMedia(Uint8Array.from({ length: 160 }, (_, i) => i))
    const big = Buffer.concat([bytes('xxxx'), bytes(text), bytes('yyyy')])
    const slice = big.subarray(4, 4 + Buffer.byteLength(text))
    expect(same(slice)).toBe(true)
  })
})
