// The dialer's E.164 handling as you type, its remembered numbers, and turn-latency figures.
import { beforeEach, describe, expect, it } from 'vitest'
import {
  checkPhone,
  countryCode,
  formatPhone,
  normalizePhone
} from '../../src/renderer/src/features/dialer/phone-format.js'
import { quantile, rateLatency } from '../../src/renderer/src/features/live-call/latency.js'
import { callClockMs } from '../../src/renderer/src/features/notes/bookmark.js'
import { createAppStore } from '../../src/renderer/src/store/index.js'
import { RECENT_LIMIT } from '../../src/renderer/src/store/dialer-slice.js'

describe('phone numbers as typed', () => {
  it('normalises to +digits, turning 00 into + and adding a missing +', () => {
    expect(normalizePhone('+1 (555) 123-4567')).toBe('+15551234567')
    expect(normalizePhone('0044 20 7946 0958')).toBe('+442079460958')
    expect(normalizePhone('4915112345678')).toBe('+4915112345678')
    expect(normalizePhone('+')).toBe('+')
    expect(normalizePhone('')).toBe('')
    expect(normalizePhone('abc')).toBe('')
  })

  it('finds one-, two- and three-digit country codes', () => {
    expect(countryCode('+15551234567')).toBe('1')
    expect(countryCode('+442079460958')).toBe('44')
    expect(countryCode('+35312345678')).toBe('353')
    expect(countryCode('+3')).toBe('')
  })

  it('groups digits for display while typing', () => {
    expect(formatPhone('+1555')).toBe('+1 555')
    expect(formatPhone('+1555123')).toBe('+1 555 123')
    expect(formatPhone('+15551234567')).toBe('+1 555 123 4567')
    expect(formatPhone('+442079460958')).toBe('+44 207 946 0958')
    expect(formatPhone('+')).toBe('+')
    // Formatting then normalising gives the number back.
    for (const n of ['+15551234567', '+442079460958', '+35312345678', '+4915112345678'])
      expect(normalizePhone(formatPhone(n))).toBe(n)
  })

  it('says what is wrong, and accepts valid E.164', () => {
    expect(checkPhone('')).toMatchObject({ ok: false })
    expect(checkPhone('+0123456789')).toEqual({ ok: false, message: 'A country code never starts with 0' })
    expect(checkPhone('+1555123')).toMatchObject({ ok: false, message: expect.stringContaining('10 digits after +1') })
    expect(checkPhone('+4412')).toMatchObject({ ok: false, message: 'Too short for a phone number' })
    expect(checkPhone('+1234567890123456')).toMatchObject({ ok: false, message: expect.stringContaining('at most 15') })
    expect(checkPhone('+1 555 123 4567')).toEqual({ ok: true, e164: '+15551234567' })
    expect(checkPhone('0044 20 7946 0958')).toEqual({ ok: true, e164: '+442079460958' })
  })
})

describe('dialer store', () => {
  const memory = new Map<string, string>()
  beforeEach(() => {
    memory.clear()
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      value: { getItem: (k: string) => memory.get(k) ?? null, setItem: (k: string, v: string) => void memory.set(k, v) }
    })
  })

  it('keeps recent numbers newest first, without repeats, up to the limit, and across a reload', () => {
    const store = createAppStore()
    for (let i = 0; i < RECENT_LIMIT + 3; i++) store.getState().addRecent(`+1555000${String(i).padStart(4, '0')}`)
    store.getState().addRecent('+15550000005')
    const recent = store.getState().recentNumbers
    expect(recent).toHaveLength(RECENT_LIMIT)
    expect(recent[0]).toBe('+15550000005')
    expect(new Set(recent).size).toBe(recent.length)
    expect(createAppStore().getState().recentNumbers).toEqual(recent)
  })

  it('saves and removes numbers with labels, and remembers how and whom to call', () => {
    const store = createAppStore()
    store.getState().saveNumber('+15551234567', 'Front desk')
    store.getState().saveNumber('+442079460958', '')
    expect(store.getState().savedNumbers).toEqual([
      { number: '+15551234567', label: 'Front desk' },
      { number: '+442079460958', label: '+442079460958' }
    ])
    store.getState().removeSaved('+15551234567')
    store.getState().setCallWay('phone')
    store.getState().setCallMode('openai-realtime')
    const reloaded = createAppStore().getState()
    expect(reloaded.savedNumbers).toEqual([{ number: '+442079460958', label: '+442079460958' }])
    expect(reloaded.callWay).toBe('phone')
    expect(reloaded.callMode).toBe('openai-realtime')
    // A profile and an engine exclude each other.
    store.getState().setCallProfile('p1')
    expect(store.getState().callMode).toBe('')
  })

  it('ignores garbage left in storage', () => {
    memory.set('callbench.recentNumbers', '{"not":"a list"}')
    memory.set('callbench.savedNumbers', 'nope')
    const s = createAppStore().getState()
    expect(s.recentNumbers).toEqual([])
    expect(s.savedNumbers).toEqual([])
  })
})

describe('latency figures', () => {
  it('rates turns and takes nearest-rank quantiles', () => {
    expect([rateLatency(640), rateLatency(900), rateLatency(2100)]).toEqual(['good', 'fair', 'slow'])
    expect(quantile([], 0.5)).toBeUndefined()
    expect(quantile([500, 100, 300], 0.5)).toBe(300)
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9)
  })

  it('puts a bookmark on the call clock', () => {
    expect(callClockMs('2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:00:12.345Z'))).toBe(12_345)
  })
})
