/** Adds up what one call uses (engines' `usage` events, telephony minutes) and publishes its cost at most once a second. */
import {
  computeCost,
  addUsage,
  usageFromData,
  CLOCKED_USAGE_KEYS,
  type CallCost,
  type CallUsage,
  type UsageKey
} from '../../shared/cost.js'
import type { CostRates } from '../../shared/settings.js'

/** An unchanged cost is published again after this many intervals. */
const REPEAT_EVERY_TICKS = 10

export interface UsageMeterOptions {
  /** The call clock, ms. */
  clock: () => number
  /** A Twilio call: telephony and Media Streams minutes accrue with the clock. Loopback calls have none. */
  telephony: boolean
  /** Read at every computation, so edited rates apply to the call going on. */
  rates: () => CostRates
  /**
   * Receives the cost when it changed (at most once per `intervalMs`, and every 10 intervals even if not) and
   * once more, `final`, at the end.
   */
  publish: (cost: CallCost, final: boolean) => void
  /** Default 1000. */
  intervalMs?: number
}

export class UsageMeter {
  readonly #opts: UsageMeterOptions
  readonly #usage: CallUsage = {}
  /** Usage growing with the clock since the call time in the value (ElevenLabs agent minutes). */
  readonly #clocked = new Map<UsageKey, number>()
  #timer: NodeJS.Timeout | undefined
  #lastPublished = ''
  #ticksSincePublish = 0
  #endedAtMs: number | undefined

  constructor(opts: UsageMeterOptions) {
    this.#opts = opts
  }

  /** Starts the once-a-second publication. */
  start(): void {
    if (this.#timer || this.#endedAtMs !== undefined) return
    this.#timer = setInterval(() => this.#publishIfChanged(), this.#opts.intervalMs ?? 1000)
    this.#timer.unref()
  }

  /**
   * An engine's `usage` event: amounts to add (shared/cost.ts USAGE_KEYS), or `{ clocked: key }` to meter that
   * key by the call clock from now until the end.
   */
  add(data: Readonly<Record<string, unknown>> | undefined): void {
    if (this.#endedAtMs !== undefined) return
    addUsage(this.#usage, usageFromData(data))
    const clocked = data?.clocked
    if ((CLOCKED_USAGE_KEYS as readonly unknown[]).includes(clocked) && !this.#clocked.has(clocked as UsageKey)) {
      this.#clocked.set(clocked as UsageKey, this.#opts.clock())
    }
  }

  /** Usage so far, clocked and telephony minutes included. */
  usage(): CallUsage {
    const nowMs = this.#endedAtMs ?? this.#opts.clock()
    const out: CallUsage = { ...this.#usage }
    for (const [key, sinceMs] of this.#clocked) out[key] = (out[key] ?? 0) + Math.max(0, nowMs - sinceMs)
    if (this.#opts.telephony) {
      out.telephonyMs = nowMs
      out.mediaStreamMs = nowMs
    }
    return out
  }

  cost(): CallCost {
    return computeCost(this.usage(), this.#opts.rates())
  }

  /** Stops the clock and the timer; publishes and returns the final cost. Idempotent. */
  finish(): CallCost {
    clearInterval(this.#timer)
    this.#timer = undefined
    const first = this.#endedAtMs === undefined
    this.#endedAtMs ??= this.#opts.clock()
    const cost = this.cost()
    if (first) this.#opts.publish(cost, true)
    return cost
  }

  #publishIfChanged(): void {
    const cost = this.cost()
    // Cost items change only when a quantity does; telephony moves once a minute (billed per started minute).
    const key = `${cost.total}|${cost.items.length}`
    // Unchanged: sent again now and then all the same, for a console that connected since.
    if (key === this.#lastPublished && ++this.#ticksSincePublish < REPEAT_EVERY_TICKS) return
    this.#lastPublished = key
    this.#ticksSincePublish = 0
    this.#opts.publish(cost, false)
  }
}
