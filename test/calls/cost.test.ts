import { describe, expect, it, vi } from 'vitest'
import { addUsage, computeCost, formatCost, formatQuantity, usageFromData } from '../../src/shared/cost.js'
import { CostRatesSchema, SettingsSchema } from '../../src/shared/settings.js'
import { UsageMeter } from '../../src/main/calls/usage.js'
import type { CallCost } from '../../src/shared/cost.js'

const rates = CostRatesSchema.parse({})

describe('cost estimate (shared/cost.ts)', () => {
  it('settings carry default rates, in USD', () => {
    const s = SettingsSchema.parse({})
    expect(s.costs.currency).toBe('USD')
    expect(s.costs.openaiAudioOutPer1M).toBeGreaterThan(s.costs.openaiAudioInPer1M)
    expect(Object.values(s.costs).filter((v) => typeof v === 'number' && v > 0).length).toBe(12)
  })

  it('no usage costs nothing and lists no item', () => {
    const c = computeCost({}, rates)
    expect(c).toEqual({ currency: 'USD', total: 0, items: [], usage: {} })
  })

  it('telephony and media stream are billed per started minute', () => {
    const r = { ...rates, telephonyPerMin: 0.01, mediaStreamPerMin: 0.004 }
    const c = computeCost({ telephonyMs: 61_000, mediaStreamMs: 61_000 }, r)
    expect(c.items.map((i) => [i.key, i.quantity])).toEqual([
      ['telephony', 2],
      ['mediaStream', 2]
    ])
    expect(c.total).toBeCloseTo(2 * 0.01 + 2 * 0.004, 10)
    expect(computeCost({ telephonyMs: 1 }, r).total).toBeCloseTo(0.01, 10)
    expect(computeCost({ telephonyMs: 60_000 }, r).items[0]!.quantity).toBe(1)
  })

  it('prices tokens per million, characters per thousand and minutes of speech', () => {
    const usage = {
      openaiAudioInTokens: 1_000_000,
      openaiTextInTokens: 500_000,
      openaiCachedInTokens: 2_000_000,
      openaiAudioOutTokens: 250_000,
      openaiTextOutTokens: 100_000,
      elevenlabsAgentMs: 90_000,
      ttsChars: 2_500,
      sttMs: 30_000,
      llmInTokens: 2_000_000,
      llmOutTokens: 1_000_000
    }
    const c = computeCost(usage, rates)
    const by = Object.fromEntries(c.items.map((i) => [i.key, i.amount]))
    expect(by.openaiAudioIn).toBeCloseTo(rates.openaiAudioInPer1M, 10)
    expect(by.openaiTextIn).toBeCloseTo(rates.openaiTextInPer1M / 2, 10)
    expect(by.openaiCachedIn).toBeCloseTo(rates.openaiCachedInPer1M * 2, 10)
    expect(by.openaiAudioOut).toBeCloseTo(rates.openaiAudioOutPer1M / 4, 10)
    expect(by.openaiTextOut).toBeCloseTo(rates.openaiTextOutPer1M / 10, 10)
    expect(by.elevenlabsAgent).toBeCloseTo(rates.elevenlabsPerMin * 1.5, 10)
    expect(by.tts).toBeCloseTo(rates.ttsPer1kChars * 2.5, 10)
    expect(by.stt).toBeCloseTo(rates.sttPerMin * 0.5, 10)
    expect(by.llmIn).toBeCloseTo(rates.llmInPer1M * 2, 10)
    expect(by.llmOut).toBeCloseTo(rates.llmOutPer1M, 10)
    const sum = c.items.reduce((n, i) => n + i.amount, 0)
    expect(c.total).toBeCloseTo(sum, 10)
    expect(c.usage).toEqual(usage)
    expect(c.usage).not.toBe(usage)
  })

  it('uses the rates given: a zero rate costs nothing, the currency is carried', () => {
    const c = computeCost({ ttsChars: 1000 }, { ...rates, ttsPer1kChars: 0, currency: 'EUR' })
    expect(c.total).toBe(0)
    expect(c.currency).toBe('EUR')
    expect(c.items[0]!.amount).toBe(0)
  })

  it('reads only known, finite, positive usage from an event and adds it up', () => {
    expect(usageFromData({ ttsChars: 12, sttMs: -5, llmInTokens: Number.NaN, replyId: 'r1', bogus: 3 })).toEqual({
      ttsChars: 12
    })
    expect(usageFromData(undefined)).toEqual({})
    const total = addUsage({ ttsChars: 1 }, { ttsChars: 2, sttMs: 3 })
    expect(total).toEqual({ ttsChars: 3, sttMs: 3 })
  })

  it('formats small amounts with four decimals and large ones with two', () => {
    expect(formatCost(0.01234, 'USD')).toBe('$0.0123')
    expect(formatCost(12.5, 'USD')).toBe('$12.50')
    expect(formatCost(0.5, 'EUR')).toBe('€0.5000')
    expect(formatCost(0.5, 'not a code')).toBe('0.5000 not a code')
    expect(formatQuantity({ quantity: 3, unit: 'min' })).toBe('3 min')
    expect(formatQuantity({ quantity: 0.25, unit: 'min' })).toBe('0.25 min')
    expect(formatQuantity({ quantity: 12_345, unit: 'tokens' })).toBe('12.3k tokens')
    expect(formatQuantity({ quantity: 450, unit: 'chars' })).toBe('450 chars')
  })
})

describe('usage meter (calls/usage.ts)', () => {
  function meter(telephony: boolean) {
    let nowMs = 0
    const published: Array<{ cost: CallCost; final: boolean }> = []
    const m = new UsageMeter({
      clock: () => nowMs,
      telephony,
      rates: () => rates,
      publish: (cost, final) => published.push({ cost, final })
    })
    return { m, published, at: (ms: number) => (nowMs = ms) }
  }

  it('a Twilio call accrues telephony and media stream time with the clock; a loopback call does not', () => {
    const twilio = meter(true)
    twilio.at(90_000)
    expect(twilio.m.usage()).toEqual({ telephonyMs: 90_000, mediaStreamMs: 90_000 })
    const loop = meter(false)
    loop.at(90_000)
    expect(loop.m.usage()).toEqual({})
  })

  it('adds engine usage, meters clocked usage until the end, and publishes the final cost once', () => {
    const { m, published, at } = meter(false)
    at(1_000)
    m.add({ openaiAudioOutTokens: 100, responseId: 'x' })
    m.add({ openaiAudioOutTokens: 50 })
    m.add({ clocked: 'elevenlabsAgentMs' })
    m.add({ clocked: 'elevenlabsAgentMs' })
    m.add({ clocked: 'ttsChars' })
    at(61_000)
    expect(m.usage()).toEqual({ openaiAudioOutTokens: 150, elevenlabsAgentMs: 60_000 })
    const final = m.finish()
    at(121_000)
    expect(m.finish().usage).toEqual(final.usage)
    m.add({ ttsChars: 10 })
    expect(m.usage().ttsChars).toBeUndefined()
    expect(published).toHaveLength(1)
    expect(published[0]!.final).toBe(true)
    expect(published[0]!.cost.total).toBeCloseTo(150 * 64e-6 + rates.elevenlabsPerMin, 10)
  })
})

describe('usage meter publication', () => {
  it('publishes at most once an interval while the cost changes, and repeats an unchanged one every 10 intervals', async () => {
    vi.useFakeTimers()
    try {
      let nowMs = 0
      const published: number[] = []
      const m = new UsageMeter({
        clock: () => nowMs,
        telephony: false,
        rates: () => rates,
        publish: (cost) => published.push(cost.total)
      })
      m.start()
      m.add({ ttsChars: 1000 })
      m.add({ ttsChars: 1000 })
      await vi.advanceTimersByTimeAsync(1000)
      expect(published).toHaveLength(1)
      expect(published[0]).toBeCloseTo(2 * rates.ttsPer1kChars, 12)
      await vi.advanceTimersByTimeAsync(9000)
      expect(published).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(1000)
      expect(published).toHaveLength(2)
      m.add({ ttsChars: 1000 })
      nowMs = 12_000
      await vi.advanceTimersByTimeAsync(1000)
      expect(published).toHaveLength(3)
      m.finish()
      expect(published).toHaveLength(4)
      await vi.advanceTimersByTimeAsync(20_000)
      expect(published).toHaveLength(4)
    } finally {
      vi.useRealTimers()
    }
  })
})
