/** Twilio's side of a `<Gather input="speech">` call: signed voice and action webhooks, `<Play>` fetches, `<Say>` text. */
import type { FakeTwilio } from './twilio-rest.js'

// Protocol facts: PROTOCOLS.md §2.4 and §2.7 (the action fields `SpeechResult` and `Confidence` are UNVERIFIED there).
// Webhooks go through FakeTwilio.sendWebhook, which signs them as Twilio does; this file imports nothing from src/.

export interface GatherVerb {
  action: string
  method: string
  input: string
  speechTimeout: string | undefined
  language: string | undefined
  actionOnEmptyResult: string | undefined
}

export interface PlayedMedia {
  url: string
  status: number
  contentType: string | null
  body: Buffer
}

/** One TwiML answer and what Twilio did with it. */
export interface GatherStep {
  status: number
  twiml: string
  gather: GatherVerb | undefined
  /** `<Play>` URLs in document order (inside the Gather or not), fetched. */
  plays: PlayedMedia[]
  says: string[]
  hangup: boolean
}

function decodeXml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)
  return m ? decodeXml(m[1]!) : undefined
}

/** The verbs of a TwiML document that matter to a Gather call. */
export function parseGatherTwiml(twiml: string): {
  gather: GatherVerb | undefined
  plays: string[]
  says: string[]
  hangup: boolean
} {
  const g = /<Gather\b([^>]*?)\/?>/.exec(twiml)
  const gather = g
    ? {
        action: attr(g[1]!, 'action') ?? '',
        method: attr(g[1]!, 'method') ?? 'POST',
        input: attr(g[1]!, 'input') ?? 'dtmf',
        speechTimeout: attr(g[1]!, 'speechTimeout'),
        language: attr(g[1]!, 'language'),
        actionOnEmptyResult: attr(g[1]!, 'actionOnEmptyResult')
      }
    : undefined
  return {
    gather,
    plays: [...twiml.matchAll(/<Play\b[^>]*>([^<]*)<\/Play>/g)].map((m) => decodeXml(m[1]!)),
    says: [...twiml.matchAll(/<Say\b[^>]*>([^<]*)<\/Say>/g)].map((m) => decodeXml(m[1]!)),
    hangup: /<Hangup\s*\/?>/.test(twiml)
  }
}

/** Drives one Gather call the way Twilio would, turn by turn. */
export class TwilioGatherCaller {
  readonly steps: GatherStep[] = []
  readonly callSid: string
  readonly #fake: FakeTwilio
  readonly #resolve: (url: string) => string
  readonly #base: Record<string, string>

  constructor(fake: FakeTwilio, opts: { callSid: string; from: string; to: string; resolve: (url: string) => string }) {
    this.#fake = fake
    this.#resolve = opts.resolve
    this.callSid = opts.callSid
    this.#base = {
      AccountSid: fake.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: opts.callSid,
      CallStatus: 'in-progress',
      Direction: 'inbound',
      From: opts.from,
      To: opts.to,
      Caller: opts.from,
      Called: opts.to
    }
  }

  /** The call arrives: Twilio asks the voice URL. */
  async answer(voiceUrl: string): Promise<GatherStep> {
    return this.#step(voiceUrl, { ...this.#base, CallStatus: 'ringing' })
  }

  /** The caller says `text`; Twilio's recognizer reports it with `confidence` to the current Gather's action. */
  async say(text: string, confidence = 0.92): Promise<GatherStep> {
    return this.#step(this.#action(), { ...this.#base, SpeechResult: text, Confidence: String(confidence) })
  }

  /** The Gather timed out with nothing said (`actionOnEmptyResult`). */
  async silence(): Promise<GatherStep> {
    return this.#step(this.#action(), { ...this.#base })
  }

  #action(): string {
    const g = this.steps.at(-1)?.gather
    if (!g) throw new Error('fake twilio: the last TwiML has no <Gather> to answer')
    return g.action
  }

  async #step(url: string, params: Record<string, string>): Promise<GatherStep> {
    const sent = await this.#fake.sendWebhook(url, params)
    const parsed = parseGatherTwiml(sent.body)
    const plays: PlayedMedia[] = []
    // Twilio fetches <Play> media with a plain GET (no signature); the URL has to carry its own proof.
    for (const playUrl of parsed.plays) {
      const res = await fetch(this.#resolve(playUrl))
      plays.push({
        url: playUrl,
        status: res.status,
        contentType: res.headers.get('content-type'),
        body: Buffer.from(await res.arrayBuffer())
      })
    }
    const step: GatherStep = {
      status: sent.status,
      twiml: sent.body,
      gather: parsed.gather,
      plays,
      says: parsed.says,
      hangup: parsed.hangup
    }
    this.steps.push(step)
    return step
  }
}
