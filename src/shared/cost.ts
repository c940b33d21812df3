/** Per-call cost estimate: what a call used (minutes, tokens, characters) priced with the settings' rates. Pure. */
import { z } from 'zod'
import type { CostRates } from './settings.js'

/**
 * What a call used. Engines report theirs as `event('usage', {...})` with these keys (amounts to add); the
 * bridge adds the telephony minutes of Twilio calls. Input tokens exclude the cached ones, counted apart.
 */
export const USAGE_KEYS = [
  'telephonyMs',
  'mediaStreamMs',
  'openaiAudioInTokens',
  'openaiTextInTokens',
  'openaiCachedInTokens',
  'openaiAudioOutTokens',
  'openaiTextOutTokens',
  'elevenlabsAgentMs',
  'ttsChars',
  'sttMs',
  'llmInTokens',
  'llmOutTokens'
] as const
export type UsageKey = (typeof USAGE_KEYS)[number]
export type CallUsage = Partial<Record<UsageKey, number>>

export const CallUsageSchema = z.partialRecord(z.enum(USAGE_KEYS), z.number())

/** Usage that grows with the call's clock from when an engine says so (`{ clocked: key }`) until the call ends. */
export const CLOCKED_USAGE_KEYS = ['elevenlabsAgentMs'] as const satisfies readonly UsageKey[]

export const CostItemSchema = z.object({
  key: z.string(),
  label: z.string(),
  /** Billed quantity in `unit`. */
  quantity: z.number(),
  unit: z.enum(['min', 'tokens', 'chars']),
  /** Price per `per` units, in the breakdown's currency. */
  rate: z.number(),
  per: z.number(),
  amount: z.number()
})
export type CostItem = z.infer<typeof CostItemSchema>

/** A call's estimated cost: the total, one item per service used, and the usage it was computed from. */
export const CallCostSchema = z.object({
  currency: z.string(),
  total: z.number(),
  items: z.array(CostItemSchema),
  usage: CallUsageSchema
})
export type CallCost = z.infer<typeof CallCostSchema>

interface Line {
  key: string
  label: string
  unit: CostItem['unit']
  per: number
  rate: (r: CostRates) => number
  quantity: (u: CallUsage) => number
}

const MS_PER_MIN = 60_000
const minutes = (ms: number | undefined) => (ms ?? 0) / MS_PER_MIN
// Twilio bills voice and Media Streams per started minute.
const startedMinutes = (ms: number | undefined) => Math.ceil(Math.max(0, ms ?? 0) / MS_PER_MIN)

const LINES: readonly Line[] = [
  {
    key: 'telephony',
    label: 'Telephony',
    unit: 'min',
    per: 1,
    rate: (r) => r.telephonyPerMin,
    quantity: (u) => startedMinutes(u.telephonyMs)
  },
  {
    key: 'mediaStream',
    label: 'Media stream',
    unit: 'min',
    per: 1,
    rate: (r) => r.mediaStreamPerMin,
    quantity: (u) => startedMinutes(u.mediaStreamMs)
  },
  {
    key: 'openaiAudioIn',
    label: 'OpenAI audio in',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.openaiAudioInPer1M,
    quantity: (u) => u.openaiAudioInTokens ?? 0
  },
  {
    key: 'openaiTextIn',
    label: 'OpenAI text in',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.openaiTextInPer1M,
    quantity: (u) => u.openaiTextInTokens ?? 0
  },
  {
    key: 'openaiCachedIn',
    label: 'OpenAI cached in',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.openaiCachedInPer1M,
    quantity: (u) => u.openaiCachedInTokens ?? 0
  },
  {
    key: 'openaiAudioOut',
    label: 'OpenAI audio out',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.openaiAudioOutPer1M,
    quantity: (u) => u.openaiAudioOutTokens ?? 0
  },
  {
    key: 'openaiTextOut',
    label: 'OpenAI text out',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.openaiTextOutPer1M,
    quantity: (u) => u.openaiTextOutTokens ?? 0
  },
  {
    key: 'elevenlabsAgent',
    label: 'ElevenLabs agent',
    unit: 'min',
    per: 1,
    rate: (r) => r.elevenlabsPerMin,
    quantity: (u) => minutes(u.elevenlabsAgentMs)
  },
  {
    key: 'tts',
    label: 'Text to speech',
    unit: 'chars',
    per: 1000,
    rate: (r) => r.ttsPer1kChars,
    quantity: (u) => u.ttsChars ?? 0
  },
  {
    key: 'stt',
    label: 'Speech to text',
    unit: 'min',
    per: 1,
    rate: (r) => r.sttPerMin,
    quantity: (u) => minutes(u.sttMs)
  },
  {
    key: 'llmIn',
    label: 'LLM in',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.llmInPer1M,
    quantity: (u) => u.llmInTokens ?? 0
  },
  {
    key: 'llmOut',
    label: 'LLM out',
    unit: 'tokens',
    per: 1e6,
    rate: (r) => r.llmOutPer1M,
    quantity: (u) => u.llmOutTokens ?? 0
  }
]

/** Prices `usage` with `rates`: one item per service with a non-zero quantity, and their total. */
export function computeCost(usage: CallUsage, rates: CostRates): CallCost {
  const items: CostItem[] = []
  let total = 0
  for (const line of LINES) {
    const quantity = line.quantity(usage)
    if (!(quantity > 0)) continue
    const rate = line.rate(rates)
    const amount = (quantity * rate) / line.per
    total += amount
    items.push({ key: line.key, label: line.label, quantity, unit: line.unit, rate, per: line.per, amount })
  }
  return { currency: rates.currency, total, items, usage: { ...usage } }
}

/** The usage keys of an engine's `usage` event data (finite, non-negative amounts); anything else is ignored. */
export function usageFromData(data: Readonly<Record<string, unknown>> | undefined): CallUsage {
  const out: CallUsage = {}
  if (!data) return out
  for (const key of USAGE_KEYS) {
    const v = data[key]
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v
  }
  return out
}

/** Adds `delta` into `total` (in place) and returns it. */
export function addUsage(total: CallUsage, delta: CallUsage): CallUsage {
  for (const key of USAGE_KEYS) {
    const v = delta[key]
    if (v !== undefined) total[key] = (total[key] ?? 0) + v
  }
  return total
}

/** An amount for display: cents and below get four decimals (`$0.0123`), larger ones two. */
export function formatCost(amount: number, currency: string): string {
  const digits = Math.abs(amount) < 1 ? 4 : 2
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits
    }).format(amount)
  } catch {
    // Not an ISO 4217 code: show the number and the code as typed.
    return `${amount.toFixed(digits)} ${currency}`
  }
}

/** A cost item's quantity in a few characters (`3 min`, `1.2k tokens`, `450 chars`). */
export function formatQuantity(item: Pick<CostItem, 'quantity' | 'unit'>): string {
  const q = item.quantity
  if (item.unit === 'min') return `${q >= 10 || Number.isInteger(q) ? Math.round(q) : q.toFixed(2)} min`
  const n = q >= 1e6 ? `${(q / 1e6).toFixed(2)}M` : q >= 1e4 ? `${(q / 1e3).toFixed(1)}k` : String(Math.round(q))
  return `${n} ${item.unit}`
}
