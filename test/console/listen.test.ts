// Listen-in in the console: the wire format both sides share, and what is played for each choice of side.
import { describe, expect, it } from 'vitest'
import { linearToUlaw, ULAW_DECODE_TABLE, ULAW_SILENCE } from '../../src/shared/dsp/g711.js'
import { decodeListenFrame, encodeListenFrame, LISTEN_HEADER_BYTES, listenPath } from '../../src/shared/listen.js'
import { ListenCounter, listenAudio } from '../../src/renderer/src/features/live-call/listen-mix.js'
import { listenUrl } from '../../src/renderer/src/features/live-call/listen-player.js'
import { createAppStore } from '../../src/renderer/src/store/index.js'
import { computeCost } from '../../src/shared/cost.js'
import { CostRatesSchema } from '../../src/shared/settings.js'

const caller = Uint8Array.from({ length: 160 }, (_, i) => linearToUlaw(Math.round(8000 * Math.sin(i / 5))))
const agent = Uint8Array.from({ length: 160 }, (_, i) => linearToUlaw(Math.round(-3000 * Math.cos(i / 7))))

describe('listen-in wire format', () => {
  it('round-trips a frame with and without agent audio, indexes past 2^24 included', () => {
    const both = encodeListenFrame(0x12345678, caller, agent)
    expect(both.length).toBe(LISTEN_HEADER_BYTES + 320)
    const d = decodeListenFrame(both)!
    expect(d.index).toBe(0x12345678)
    expect([...d.caller]).toEqual([...caller])
    expect([...d.agent]).toEqual([...agent])
    const alone = decodeListenFrame(encodeListenFrame(7, caller, undefined))!
    expect(alone.index).toBe(7)
    expect(alone.agent.length).toBe(0)
    expect(decodeListenFrame(encodeListenFrame(0xffffffff, caller, undefined))!.index).toBe(0xffffffff)
  })

  it('rejects what is not a listen frame', () => {
    expect(decodeListenFrame(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined()
    expect(decodeListenFrame(new Uint8Array([1, 0, 0]))).toBeUndefined()
    // A caller length longer than the message.
    expect(decodeListenFrame(new Uint8Array([1, 0, 0, 0, 0, 0, 200, 0, 1, 2]))).toBeUndefined()
  })

  it('builds the socket URL from the control URL, token in the query', () => {
    expect(listenPath('a b/c')).toBe('/api/calls/a%20b%2Fc/listen')
    expect(listenUrl('http://127.0.0.1:5051', 'tok', 'c1')).toBe('ws://127.0.0.1:5051/api/calls/c1/listen?token=tok')
  })
})

describe('listen-in mix', () => {
  const frame = { index: 1, caller, agent }
  const callerOnly = { index: 2, caller, agent: new Uint8Array(0) }

  it('plays the chosen side as is, and silence for an agent that is not speaking', () => {
    expect([...listenAudio(frame, 'caller')]).toEqual([...caller])
    expect([...listenAudio(frame, 'agent')]).toEqual([...agent])
    const quiet = listenAudio(callerOnly, 'agent')
    expect(quiet.length).toBe(160)
    expect(quiet.every((b) => b === ULAW_SILENCE)).toBe(true)
    expect([...listenAudio(callerOnly, 'both')]).toEqual([...caller])
  })

  it('mixes both sides as the sum of their samples, re-encoded', () => {
    const mixed = listenAudio(frame, 'both')
    for (let i = 0; i < 160; i++) {
      expect(mixed[i]).toBe(linearToUlaw(ULAW_DECODE_TABLE[caller[i]!]! + ULAW_DECODE_TABLE[agent[i]!]!))
    }
    // Full scale on both sides clamps instead of wrapping.
    const loud = new Uint8Array(160).fill(linearToUlaw(30000))
    expect(listenAudio({ index: 3, caller: loud, agent: loud }, 'both')[0]).toBe(linearToUlaw(32767))
  })

  it('returns a fresh buffer (transferred to the worklet) and counts frames lost in gaps', () => {
    const out = listenAudio(frame, 'caller')
    expect(out.buffer).not.toBe(caller.buffer)
    const c = new ListenCounter()
    for (const i of [5, 6, 7, 10, 11, 15]) c.add(i)
    expect(c.frames).toBe(6)
    expect(c.lost).toBe(5)
  })
})

describe('cost in the console store', () => {
  it('keeps the latest estimate per call', () => {
    const store = createAppStore()
    const rates = CostRatesSchema.parse({})
    store.getState().setCost('c1', computeCost({ ttsChars: 1000 }, rates))
    store.getState().setCost('c1', computeCost({ ttsChars: 2000 }, rates))
    store.getState().setCost('c2', computeCost({}, rates))
    expect(store.getState().costs.c1!.total).toBeCloseTo(2 * rates.ttsPer1kChars, 12)
    expect(store.getState().costs.c2!.items).toEqual([])
  })
})
