// The byte-level reader of `media` and `mark` frames against the JSON path: for every input, the same answer.
import { describe, expect, it } from 'vitest'
import {
  MAX_PAYLOAD_BYTES,
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

/** A Twilio media frame around a base64 text as given, valid or not. */
function rawMedia(b64: string, sid = SID): string {
  return `{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"${b64}"},"streamSid":"${sid}"}`
}

const MARK = `{"event":"mark","sequenceNumber":"9","streamSid":"${SID}","mark":{"name":"3:17"}}`

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

// The reader's own shortcuts, each against its edge: keys told apart by their first two bytes, whitespace checked
// by one comparison, the payload decoded two characters at a time into a pool, the cached SID compared as bytes.
describe('the byte reader at its edges', () => {
  const KEYS = [
    'event',
    'sequenceNumber',
    'streamSid',
    'media',
    'mark',
    'track',
    'chunk',
    'timestamp',
    'payload',
    'name'
  ]
  /** Strings that share a length, the first bytes or the last with a key, and are not it. */
  function lookalikes(k: string): string[] {
    const flip = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())
    return [
      k.slice(0, -1),
      k + 'x',
      k.slice(0, -1) + flip(k.at(-1)!),
      k.slice(0, -1) + 'x',
      flip(k[0]!) + k.slice(1),
      k.slice(0, 2),
      k.slice(0, 2) + 'x'.repeat(k.length - 2),
      k.slice(0, 1),
      k.slice(0, 3) + flip(k[3]!) + k.slice(4),
      'x' + k.slice(1),
      k + '\\u0000',
      k.slice(0, 2) + 'é',
      ''
    ]
  }

  const NEEDED_BY_MEDIA = ['event', 'streamSid', 'media', 'chunk', 'timestamp', 'payload']
  const NEEDED_BY_MARK = ['event', 'streamSid', 'mark', 'name']

  it('ignores keys that resemble known ones, and misses no known key for them', () => {
    const frame = rawMedia(Buffer.from(new Uint8Array(160).map((_, i) => i)).toString('base64'))
    for (const k of KEYS) {
      for (const alike of lookalikes(k)) {
        const plain = !alike.includes('\\') && !alike.includes('é')
        // As an extra member the reader skips it, at either level.
        expect(same(frame.replace('{"event"', `{"${alike}":"x","event"`))).toBe(plain)
        expect(same(frame.replace('"media":{', `"media":{"${alike}":"x",`))).toBe(plain)
        expect(same(MARK.replace('"mark":{', `"mark":{"${alike}":"x",`))).toBe(plain)
        // In place of the key: without a key it needs, or with a key it must skip but cannot, the frame is the JSON
        // path's to answer (or refuse).
        for (const [text, needed] of [
          [frame, NEEDED_BY_MEDIA],
          [MARK, NEEDED_BY_MARK]
        ] as const) {
          if (!text.includes(`"${k}":`)) continue
          expect(same(text.replace(`"${k}":`, `"${alike}":`))).toBe(plain && !needed.includes(k))
        }
        if (k === 'media' || k === 'mark')
          expect(same(frame.replace('"event":"media"', `"event":"${alike}"`))).toBe(false)
      }
    }
  })

  it('ignores known keys at a level where they are not known', () => {
    const frame = rawMedia('AAAA')
    for (const k of KEYS) {
      expect(same(frame.replace('{"event"', `{"${k}x":"1","event"`))).toBe(true)
      const topOnly = ['event', 'sequenceNumber', 'streamSid', 'media', 'mark']
      if (!topOnly.includes(k)) expect(same(frame.replace('{"event"', `{"${k}":"1","event"`))).toBe(true)
      if (!['track', 'chunk', 'timestamp', 'payload'].includes(k))
        expect(same(frame.replace('"media":{', `"media":{"${k}":"1",`))).toBe(true)
      if (k !== 'name') expect(same(MARK.replace('"mark":{', `"mark":{"${k}":"1",`))).toBe(true)
    }
  })

  it('reads any base64 text exactly as Buffer.from does, or leaves it to the JSON path', () => {
    // Padded standard base64 (trailing bits that are not zero included, as Buffer.from reads them): the reader answers.
    const answered = [
      '',
      'AAAA',
      'AA==',
      'AAA=',
      'AB==',
      'ABC=',
      'AQ==',
      'AAB=',
      'AAAAAA==',
      'AAAAAAA=',
      '/+/+',
      '+/==',
      '//8=',
      'Zm9v',
      'Zm8=',
      'Zg==',
      'Zm9vYmFy',
      'Zm9vYg==',
      'Zm9vYmE='
    ]
    // Anything else: the JSON path's to answer or refuse.
    const declined = [
      '=',
      '==',
      '===',
      '====',
      'A',
      'AA',
      'AAA',
      'A===',
      'AA=A',
      'A=AA',
      '=AAA',
      'AA==AAAA',
      'AAA=AAAA',
      'AAAA====',
      'AAAAA',
      'AAAAAA',
      'AAAAAAA',
      'Zm9vYmE==',
      'Zm9vYg=',
      'A\\/A'
    ]
    const texts = [...answered, ...declined]
    for (const t of texts) {
      expect(same(rawMedia(t)), t).toBe(answered.includes(t))
      same(`{"event":"media","streamSid":"${SID}","media":{"chunk":"1","timestamp":"0","payload":"${t}"}}`)
    }
  })

  it('leaves a payload with a bad character in any place to the JSON path', () => {
    // 6, 7 and 8 bytes: no padding, `==` and `=`; every place in a group, first, middle and last group.
    const bad = [' ', '"', '\\\\', '-', '_', '=', '.', '*', '\x7f', '\x01', 'é', '\u20ac', 'A\\u0041'.slice(1)]
    for (const size of [6, 7, 8, 9, 160]) {
      const b64 = Buffer.from(new Uint8Array(size).map((_, i) => i * 37 + 11)).toString('base64')
      for (let at = 0; at < b64.length; at++) {
        if (size === 160 && at > 8 && at < b64.length - 8) continue
        for (const c of bad) same(rawMedia(b64.slice(0, at) + c + b64.slice(at + 1)))
        same(rawMedia(b64.slice(0, at) + b64.slice(at + 1)))
        same(rawMedia(b64.slice(0, at) + 'A' + b64.slice(at)))
        same(rawMedia(b64.slice(0, at)))
      }
    }
  })

  it('reads payloads up to the size limit and leaves larger ones to the JSON path', () => {
    for (let size = MAX_PAYLOAD_BYTES - 3; size <= MAX_PAYLOAD_BYTES + 3; size++) {
      const bytes = new Uint8Array(size).map((_, i) => i * 7)
      expect(same(rawMedia(Buffer.from(bytes).toString('base64'))), `${size} bytes`).toBe(size <= MAX_PAYLOAD_BYTES)
    }
    for (let chars = 21840; chars <= 21856; chars++) same(rawMedia('A'.repeat(chars)))
  })

  it('hands out payloads that stay as they were, whatever is read after them', () => {
    const r = rng(3)
    const kept: { payload: Uint8Array; source: Uint8Array }[] = []
    for (let n = 0; n < 400; n++) {
      // Mostly Twilio's 160 bytes; some larger than the pool, some empty; and frames that fail after the payload.
      const size = n % 50 === 7 ? 9000 + Math.floor(r() * 3000) : n % 31 === 3 ? 0 : 160 + Math.floor(r() * 3)
      const source = Uint8Array.from({ length: size }, () => Math.floor(r() * 256))
      const b64 = Buffer.from(source).toString('base64')
      if (n % 5 === 2) expect(same(rawMedia(b64, 'MZ bad'))).toBe(false)
      if (n % 7 === 4) expect(same(rawMedia(b64) + 'x')).toBe(false)
      const msg = readMediaOrMark(bytes(rawMedia(b64)))
      expect(msg?.kind).toBe('media')
      if (msg?.kind === 'media') kept.push({ payload: msg.payload, source })
    }
    expect(kept.length).toBe(400)
    for (const { payload, source } of kept) expect(Buffer.from(payload).equals(Buffer.from(source))).toBe(true)
    expect(kept.every(({ payload }) => Buffer.isBuffer(payload))).toBe(true)
  })

  it('compares the stream SID with the cached one byte for byte', () => {
    const sids: SidCache = { sid: '' }
    const variants = [
      SID,
      SID + 'x',
      SID.slice(0, -1),
      SID.slice(0, -1) + 'F',
      'X' + SID.slice(1),
      SID + '!',
      SID + ' ',
      SID.slice(0, -1) + 'é',
      '',
      'M'.repeat(64),
      'M'.repeat(65),
      SID.slice(0, 2),
      SID + '\\u0041',
      SID
    ]
    for (const sid of variants) {
      for (let k = 0; k < 2; k++) {
        same(rawMedia('AAAA', sid), sids)
        same(MARK.replace(SID, sid), sids)
        same(`{"event":"stop","streamSid":"${sid}"}`, sids)
      }
    }
    expect(sids.sid).toBe(SID)
  })

  it('takes whitespace anywhere between tokens, and nothing else there', () => {
    const frame = rawMedia('AAAA')
    const between = [...frame.matchAll(/[{}:,]|"(?=[:,}])/g)].map((m) => m.index + 1)
    for (const at of [0, ...between]) {
      for (const c of [' ', '\n', '\r', '\t', ' \n\t\r', '\x01', '\x0b', '\x0c', '\x00', '\xa0']) {
        const text = frame.slice(0, at) + c + frame.slice(at)
        expect(same(text), JSON.stringify(text.slice(Math.max(0, at - 5), at + 5))).toBe(/^[ \n\r\t]+$/.test(c))
      }
    }
  })

  it('leaves every truncated frame to the JSON path', () => {
    for (const frame of [rawMedia('AAAA'), rawMedia('AAA='), MARK]) {
      for (let n = 0; n < frame.length; n++) expect(same(frame.slice(0, n))).toBe(false)
    }
  })
})
