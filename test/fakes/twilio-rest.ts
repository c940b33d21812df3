/** A fake Twilio: the REST endpoints we use (PROTOCOLS §2.2/2.3 shapes), and Twilio's side of a call (signed webhooks, Media Stream). */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import twilio from 'twilio'
import { TwilioMediaSim, type CallerSegment } from './twilio-media-sim.js'

// This file speaks the wire itself (form bodies in, snake_case JSON out) and imports nothing from src/main.

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** Form fields; a repeated key (StatusCallbackEvent) gives an array. */
  params: Record<string, string | string[]>
  atMs: number
}

export interface SentWebhook {
  url: string
  params: Record<string, string>
  status: number
  body: string
}

export interface FakeCall {
  sid: string
  status: string
  to: string
  from: string
  direction: 'outbound-api' | 'inbound'
  createParams: Record<string, string | string[]>
  dateCreated: Date
  startTime?: Date
  endTime?: Date
  answeredBy?: string
  /** The Media Stream Twilio opened for this call, if any. */
  media?: TwilioMediaSim
  /** Stream URL and parameters from the TwiML we got. */
  stream?: { url: string; parameters: Record<string, string> }
  twiml?: string
  /** New TwiML replaced the stream (REST update); the stream closing no longer ends the call. */
  redirected?: boolean
  sequence: number
}

export interface FakeNumber {
  sid: string
  phone_number: string
  friendly_name: string
  voice_url: string
  voice_method: string
  voice_fallback_url: string
  status_callback: string
  status_callback_method: string
  voice_application_sid: string
}

export interface FakeApplication {
  sid: string
  friendly_name: string
  voice_url: string
  voice_method: string
  status_callback: string
  status_callback_method: string
}

export interface FakeTwilioOptions {
  accountSid?: string
  authToken?: string
  /** Where a request for one of our public URLs really goes (the tunnel's job): public URL in, local URL out. */
  resolve?: (publicUrl: string) => string
}

/** How the callee behaves once Twilio has dialled. */
export interface CallScript {
  /** AnsweredBy for the async AMD callback, when the call asked for AMD. Default 'human'. */
  answeredBy?: string
  /** Delay before the AMD callback, ms. Default 50. */
  amdAfterMs?: number
  /** MachineDetectionDuration in the AMD callback, ms. Default 1830. */
  machineDetectionMs?: number
  /** Send no AMD callback on its own: the test sends it with `sendAmd` when it wants. */
  manualAmd?: boolean
  /** What the callee says on the stream; then it hangs up unless `stayOnLine`. */
  caller?: CallerSegment[]
  stayOnLine?: boolean
  /** The call is not answered: 'busy' | 'no-answer' | 'failed'. */
  unanswered?: 'busy' | 'no-answer' | 'failed'
}

const TERMINAL = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled'])

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex')
}

function rfc2822(d: Date | undefined): string | null {
  return d ? d.toUTCString().replace('GMT', '+0000') : null
}

function decodeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

/** The `<Connect><Stream>` of a TwiML document, if any. */
export function parseStreamTwiml(twiml: string): { url: string; parameters: Record<string, string> } | undefined {
  const stream = /<Stream\b([^>]*)>([\s\S]*?)<\/Stream>|<Stream\b([^>]*)\/>/.exec(twiml)
  if (!stream) return undefined
  const attrs = stream[1] ?? stream[3] ?? ''
  const url = /\burl="([^"]*)"/.exec(attrs)
  if (!url) return undefined
  const parameters: Record<string, string> = {}
  for (const m of (stream[2] ?? '').matchAll(/<Parameter\b([^>]*)\/>/g)) {
    const name = /\bname="([^"]*)"/.exec(m[1]!)
    const value = /\bvalue="([^"]*)"/.exec(m[1]!)
    if (name) parameters[decodeXml(name[1]!)] = decodeXml(value?.[1] ?? '')
  }
  return { url: decodeXml(url[1]!), parameters }
}

export class FakeTwilio extends EventEmitter<{
  request: [RecordedRequest]
  webhook: [SentWebhook]
  callEnded: [FakeCall]
}> {
  readonly accountSid: string
  readonly authToken: string
  readonly requests: RecordedRequest[] = []
  readonly webhooks: SentWebhook[] = []
  readonly calls = new Map<string, FakeCall>()
  readonly numbers = new Map<string, FakeNumber>()
  readonly applications = new Map<string, FakeApplication>()
  readonly recordings = new Map<string, Record<string, unknown>>()
  /** The account as `GET /Accounts/{sid}.json` shows it. */
  readonly account = { friendlyName: 'Callbench test account', status: 'active' as 'active' | 'suspended' | 'closed', type: 'Full' as 'Full' | 'Trial' }
  /** The next create answers with this error instead (status, Twilio code, message). */
  failNextCreate: { status: number; code: number; message: string } | undefined
  readonly #opts: FakeTwilioOptions
  readonly #server: Server
  readonly #pending = new Set<Promise<unknown>>()
  /** Errors of work done in the background (webhooks to a server that went away). */
  readonly backgroundErrors: unknown[] = []

  constructor(opts: FakeTwilioOptions = {}) {
    super()
    this.#opts = opts
    this.accountSid = opts.accountSid ?? sid('AC')
    this.authToken = opts.authToken ?? randomBytes(16).toString('hex')
    this.#server = createServer((req, res) => void this.#handle(req, res))
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return this.baseUrl
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) await call.media?.hangup().catch(() => undefined)
    await Promise.allSettled([...this.#pending])
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** Adds a phone number to the account. */
  addNumber(phoneNumber: string, init: Partial<FakeNumber> = {}): FakeNumber {
    const n: FakeNumber = {
      sid: sid('PN'),
      phone_number: phoneNumber,
      friendly_name: phoneNumber,
      voice_url: 'https://demo.twilio.com/welcome/voice/',
      voice_method: 'POST',
      voice_fallback_url: '',
      status_callback: '',
      status_callback_method: 'POST',
      voice_application_sid: '',
      ...init
    }
    this.numbers.set(n.sid, n)
    return n
  }

  /** Runs Twilio-side work after a response went out; failures (our server gone) are kept, not thrown. */
  #background(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => void this.backgroundErrors.push(err))
    this.#pending.add(tracked)
    void tracked.finally(() => this.#pending.delete(tracked))
  }

  /** Adds a TwiML app to the account. */
  addApplication(init: Partial<FakeApplication> = {}): FakeApplication {
    const a: FakeApplication = {
      sid: sid('AP'),
      friendly_name: 'app',
      voice_url: '',
      voice_method: 'POST',
      status_callback: '',
      status_callback_method: 'POST',
      ...init
    }
    this.applications.set(a.sid, a)
    return a
  }

  /** Requests whose path ends with `suffix` (e.g. `/Calls.json`). */
  requestsTo(method: string, suffix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.endsWith(suffix))
  }

  /** Resolves with the next request matching, or one already recorded. */
  waitForRequest(match: (r: RecordedRequest) => boolean): Promise<RecordedRequest> {
    const seen = this.requests.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => {
      const on = (r: RecordedRequest) => {
        if (!match(r)) return
        this.off('request', on)
        resolve(r)
      }
      this.on('request', on)
    })
  }

  /** Resolves when the call reaches a terminal status. */
  whenEnded(callSid: string): Promise<FakeCall> {
    const call = this.calls.get(callSid)
    if (call && TERMINAL.has(call.status)) return Promise.resolve(call)
    return new Promise((resolve) => {
      const on = (c: FakeCall) => {
        if (c.sid !== callSid) return
        this.off('callEnded', on)
        resolve(c)
      }
      this.on('callEnded', on)
    })
  }

  // ---- Twilio's side of a call ----

  /** Signs and POSTs a webhook the way Twilio does; answers the response body. */
  async sendWebhook(url: string, params: Record<string, string>, opts: { signWith?: string; signUrl?: string } = {}): Promise<SentWebhook> {
    const signature = twilio.getExpectedTwilioSignature(opts.signWith ?? this.authToken, opts.signUrl ?? url, params)
    const target = this.#opts.resolve ? this.#opts.resolve(url) : url
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, 'i-twilio-idempotency-token': randomBytes(8).toString('hex') },
      body: new URLSearchParams(params).toString()
    })
    const sent = { url, params, status: res.status, body: await res.text() }
    this.webhooks.push(sent)
    this.emit('webhook', sent)
    return sent
  }

  #baseParams(call: FakeCall): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: call.sid,
      CallStatus: call.status,
      Direction: call.direction,
      From: call.from,
      To: call.to,
      Caller: call.from,
      Called: call.to,
      FromCountry: 'US',
      ToCountry: 'US'
    }
  }

  #param(call: FakeCall, name: string): string | undefined {
    const v = call.createParams[name]
    return Array.isArray(v) ? v[0] : v
  }

  async #statusCallback(call: FakeCall, event: string): Promise<void> {
    const url = this.#param(call, 'StatusCallback')
    if (!url) return
    const events = ([] as string[]).concat(call.createParams.StatusCallbackEvent ?? ['completed'])
    if (!events.includes(event)) return
    const params: Record<string, string> = {
      ...this.#baseParams(call),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(call.sequence++),
      Timestamp: rfc2822(new Date())!
    }
    if (TERMINAL.has(call.status)) {
      const durationS = call.startTime && call.endTime ? Math.round((call.endTime.getTime() - call.startTime.getTime()) / 1000) : 0
      params.CallDuration = String(durationS)
      params.Duration = String(Math.ceil(durationS / 60))
    }
    await this.sendWebhook(url, params)
  }

  #setStatus(call: FakeCall, status: string): void {
    call.status = status
    if (status === 'in-progress') call.startTime = new Date()
    if (TERMINAL.has(status)) {
      call.endTime = new Date()
      this.emit('callEnded', call)
    }
  }

  async #end(call: FakeCall, status = 'completed'): Promise<void> {
    if (TERMINAL.has(call.status)) return
    this.#setStatus(call, status)
    await call.media?.hangup().catch(() => undefined)
    await this.#statusCallback(call, 'completed')
    if (this.#param(call, 'Record') === 'true' && status === 'completed') {
      const re = sid('RE')
      const recording = {
        sid: re,
        account_sid: this.accountSid,
        call_sid: call.sid,
        status: 'completed',
        duration: '3',
        channels: Number(this.#param(call, 'RecordingChannels') === 'dual' ? 2 : 1),
        source: 'OutboundAPI',
        start_time: rfc2822(call.startTime),
        media_url: `${this.baseUrl}/2010-04-01/Accounts/${this.accountSid}/Recordings/${re}`,
        uri: `/2010-04-01/Accounts/${this.accountSid}/Recordings/${re}.json`
      }
      this.recordings.set(re, recording)
      const cb = this.#param(call, 'RecordingStatusCallback')
      if (cb) {
        await this.sendWebhook(cb, {
          AccountSid: this.accountSid,
          CallSid: call.sid,
          RecordingSid: re,
          RecordingUrl: `${this.baseUrl}/2010-04-01/Accounts/${this.accountSid}/Recordings/${re}`,
          RecordingStatus: 'completed',
          RecordingDuration: '3',
          RecordingChannels: String(recording.channels),
          RecordingSource: 'OutboundAPI',
          RecordingStartTime: rfc2822(call.startTime)!
        })
      }
    }
  }

  /** Fetches the TwiML at `url` for this call and opens its Media Stream, signed like Twilio. */
  async #answer(call: FakeCall, url: string, extra: Record<string, string> = {}): Promise<void> {
    const res = await this.sendWebhook(url, { ...this.#baseParams(call), ...extra })
    call.twiml = res.body
    const stream = res.status === 200 ? parseStreamTwiml(res.body) : undefined
    if (!stream) {
      await this.#end(call)
      return
    }
    call.stream = stream
    // The upgrade is signed over the wss:// URL as written in the TwiML, with no parameters (PROTOCOLS §1.2).
    const signature = twilio.getExpectedTwilioSignature(this.authToken, stream.url, {})
    const target = (this.#opts.resolve ? this.#opts.resolve(stream.url) : stream.url).replace(/^http/, 'ws')
    const media = new TwilioMediaSim({
      url: target,
      headers: { 'x-twilio-signature': signature },
      customParameters: stream.parameters,
      callSid: call.sid,
      accountSid: this.accountSid
    })
    call.media = media
    await media.connect()
    // Our server closing the stream ends <Connect>; with no verb after it, Twilio ends the call.
    this.#background(media.whenClosed().then(() => (call.redirected ? undefined : this.#end(call))))
  }

  /** Plays Twilio's part for a call created through the REST API: progress callbacks, TwiML, stream, AMD, hang-up. */
  runCall(callSid: string, script: CallScript = {}): Promise<void> {
    const p = this.#runCall(callSid, script)
    this.#background(p)
    return p
  }

  async #runCall(callSid: string, script: CallScript): Promise<void> {
    const call = this.calls.get(callSid)
    if (!call) throw new Error(`fake twilio: no call ${callSid}`)
    this.#setStatus(call, 'initiated')
    await this.#statusCallback(call, 'initiated')
    this.#setStatus(call, 'ringing')
    await this.#statusCallback(call, 'ringing')
    if (script.unanswered) {
      await this.#end(call, script.unanswered)
      return
    }
    this.#setStatus(call, 'in-progress')
    await this.#statusCallback(call, 'answered')
    const url = this.#param(call, 'Url')
    if (!url) throw new Error('fake twilio: call has no Url')
    await this.#answer(call, url)
    if (TERMINAL.has(call.status)) return
    const amd = this.#param(call, 'MachineDetection')
    const amdCallback = this.#param(call, 'AsyncAmdStatusCallback')
    if (amd && this.#param(call, 'AsyncAmd') === 'true' && amdCallback && !script.manualAmd) {
      await new Promise((r) => setTimeout(r, script.amdAfterMs ?? 50))
      await this.sendAmd(call.sid, script.answeredBy ?? 'human', script.machineDetectionMs)
    }
    if (script.caller && call.media && !TERMINAL.has(call.status)) await call.media.play(script.caller)
    if (!script.stayOnLine) await this.#end(call)
  }

  /** Posts the async AMD callback for a call that asked for AMD (signed, to its AsyncAmdStatusCallback). */
  async sendAmd(callSid: string, answeredBy: string, machineDetectionMs = 1830): Promise<SentWebhook> {
    const call = this.calls.get(callSid)
    const url = call && this.#param(call, 'AsyncAmdStatusCallback')
    if (!call || !url) throw new Error(`fake twilio: call ${callSid} did not ask for async AMD`)
    call.answeredBy = answeredBy
    return this.sendWebhook(url, {
      AccountSid: this.accountSid,
      CallSid: call.sid,
      AnsweredBy: answeredBy,
      MachineDetectionDuration: String(machineDetectionMs)
    })
  }

  /** The callee hangs up now. */
  hangup(callSid: string): Promise<void> {
    const call = this.calls.get(callSid)
    return call ? this.#end(call) : Promise.resolve()
  }

  /** An inbound call to one of the account's numbers: Twilio asks the number's voice URL (or its TwiML app's). */
  async inboundCall(opts: { from: string; to: string; params?: Record<string, string> }): Promise<FakeCall> {
    const number = [...this.numbers.values()].find((n) => n.phone_number === opts.to)
    if (!number) throw new Error(`fake twilio: ${opts.to} is not one of the account's numbers`)
    const app = number.voice_application_sid ? this.applications.get(number.voice_application_sid) : undefined
    const voiceUrl = app ? app.voice_url : number.voice_url
    const statusCallback = app ? app.status_callback : number.status_callback
    const call: FakeCall = {
      sid: sid('CA'),
      status: 'ringing',
      to: opts.to,
      from: opts.from,
      direction: 'inbound',
      createParams: { StatusCallback: statusCallback, StatusCallbackEvent: ['completed'] },
      dateCreated: new Date(),
      sequence: 0
    }
    this.calls.set(call.sid, call)
    this.#setStatus(call, 'in-progress')
    await this.#answer(call, voiceUrl, { CallToken: randomBytes(8).toString('hex'), ...(opts.params ?? {}) })
    return call
  }

  /** A Voice SDK client call through a TwiML app: custom params arrive as form fields (PROTOCOLS §2.7). */
  async clientCall(opts: { applicationSid: string; identity: string; params: Record<string, string> }): Promise<FakeCall> {
    const app = this.applications.get(opts.applicationSid)
    if (!app) throw new Error(`fake twilio: no application ${opts.applicationSid}`)
    const call: FakeCall = {
      sid: sid('CA'),
      status: 'in-progress',
      to: opts.params.To ?? '',
      from: `client:${opts.identity}`,
      direction: 'inbound',
      createParams: { StatusCallback: app.status_callback, StatusCallbackEvent: ['completed'] },
      dateCreated: new Date(),
      startTime: new Date(),
      sequence: 0
    }
    this.calls.set(call.sid, call)
    await this.#answer(call, app.voice_url, { ApplicationSid: app.sid, ...opts.params })
    return call
  }

  // ---- REST ----

  #callJson(c: FakeCall): Record<string, unknown> {
    const durationS = c.startTime && c.endTime ? String(Math.round((c.endTime.getTime() - c.startTime.getTime()) / 1000)) : null
    return {
      sid: c.sid,
      account_sid: this.accountSid,
      parent_call_sid: null,
      status: c.status,
      to: c.to,
      to_formatted: c.to,
      from: c.from,
      from_formatted: c.from,
      direction: c.direction,
      answered_by: c.answeredBy ?? null,
      date_created: rfc2822(c.dateCreated),
      date_updated: rfc2822(new Date()),
      start_time: rfc2822(c.startTime),
      end_time: rfc2822(c.endTime),
      duration: durationS,
      price: null,
      price_unit: 'USD',
      api_version: '2010-04-01',
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${c.sid}.json`,
      subresource_uris: { recordings: `/2010-04-01/Accounts/${this.accountSid}/Calls/${c.sid}/Recordings.json` }
    }
  }

  #page(key: string, items: unknown[], path: string): Record<string, unknown> {
    return {
      [key]: items,
      end: Math.max(0, items.length - 1),
      first_page_uri: `${path}?PageSize=50&Page=0`,
      next_page_uri: null,
      page: 0,
      page_size: 50,
      previous_page_uri: null,
      start: 0,
      uri: `${path}?PageSize=50&Page=0`
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c)
    const url = new URL(req.url ?? '/', 'http://fake')
    const params: Record<string, string | string[]> = {}
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
      const prev = params[k]
      params[k] = prev === undefined ? v : ([] as string[]).concat(prev, v)
    }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), params, atMs: Date.now() }
    this.requests.push(rec)
    this.emit('request', rec)

    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }
    const error = (status: number, code: number, message: string) =>
      send(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status })
    const notFound = () => error(404, 20404, `The requested resource ${url.pathname} was not found`)

    const auth = req.headers.authorization ?? ''
    const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')
    if (auth !== expected) return error(401, 20003, 'Authenticate')

    if (url.pathname === `/2010-04-01/Accounts/${this.accountSid}.json` && req.method === 'GET') {
      return send(200, {
        sid: this.accountSid,
        owner_account_sid: this.accountSid,
        friendly_name: this.account.friendlyName,
        status: this.account.status,
        type: this.account.type,
        auth_token: this.authToken,
        date_created: rfc2822(new Date(0)),
        date_updated: rfc2822(new Date(0)),
        uri: `/2010-04-01/Accounts/${this.accountSid}.json`,
        subresource_uris: { calls: `/2010-04-01/Accounts/${this.accountSid}/Calls.json` }
      })
    }
    const prefix = `/2010-04-01/Accounts/${this.accountSid}/`
    if (!url.pathname.startsWith(prefix)) return notFound()
    const rest = url.pathname.slice(prefix.length)
    const one = (p: unknown) => (Array.isArray(p) ? p[0] : (p as string | undefined))
    let m: RegExpExecArray | null

    if (rest === 'Calls.json' && req.method === 'POST') {
      if (this.failNextCreate) {
        const f = this.failNextCreate
        this.failNextCreate = undefined
        return error(f.status, f.code, f.message)
      }
      if (!one(params.To) || !one(params.From)) return error(400, 21201, 'No \'To\' number is specified')
      if (!one(params.Url) && !one(params.Twiml) && !one(params.ApplicationSid)) return error(400, 21205, 'Url parameter is required.')
      const call: FakeCall = {
        sid: sid('CA'),
        status: 'queued',
        to: one(params.To)!,
        from: one(params.From)!,
        direction: 'outbound-api',
        createParams: params,
        dateCreated: new Date(),
        sequence: 0
      }
      this.calls.set(call.sid, call)
      return send(201, this.#callJson(call))
    }
    if (rest === 'Calls.json' && req.method === 'GET') {
      let list = [...this.calls.values()]
      if (url.searchParams.get('Status')) list = list.filter((c) => c.status === url.searchParams.get('Status'))
      if (url.searchParams.get('To')) list = list.filter((c) => c.to === url.searchParams.get('To'))
      return send(200, this.#page('calls', list.map((c) => this.#callJson(c)), url.pathname))
    }
    if ((m = /^Calls\/(CA[0-9a-f]{32})\.json$/.exec(rest))) {
      const call = this.calls.get(m[1]!)
      if (!call) return notFound()
      if (req.method === 'GET') return send(200, this.#callJson(call))
      if (req.method === 'POST') {
        const status = one(params.Status)
        if (status === 'completed' || status === 'canceled') {
          if (!TERMINAL.has(call.status)) {
            const final = status === 'canceled' && call.status !== 'in-progress' ? 'canceled' : 'completed'
            // Answer first, like Twilio; the stream stop and the completed callback follow.
            send(200, { ...this.#callJson(call), status: final })
            this.#background(this.#end(call, final))
            return
          }
          return send(200, this.#callJson(call))
        }
        if (one(params.Twiml) || one(params.Url)) {
          if (TERMINAL.has(call.status)) return error(400, 21220, 'Call is not in-progress. Cannot redirect.')
          call.twiml = one(params.Twiml) ?? call.twiml
          call.redirected = true
          send(200, this.#callJson(call))
          // New TwiML replaces <Connect>: the stream stops; a document that ends in <Hangup/> ends the call.
          this.#background(
            (async () => {
              await call.media?.hangup().catch(() => undefined)
              if (/<Hangup\s*\/>/.test(call.twiml ?? '')) await this.#end(call)
            })()
          )
          return
        }
        return send(200, this.#callJson(call))
      }
    }
    if (rest === 'IncomingPhoneNumbers.json' && req.method === 'GET') {
      let list = [...this.numbers.values()]
      const pn = url.searchParams.get('PhoneNumber')
      if (pn) list = list.filter((n) => n.phone_number === pn)
      return send(200, this.#page('incoming_phone_numbers', list.map((n) => this.#numberJson(n)), url.pathname))
    }
    if ((m = /^IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest))) {
      const n = this.numbers.get(m[1]!)
      if (!n) return notFound()
      if (req.method === 'POST') {
        const map: Record<string, keyof FakeNumber> = {
          VoiceUrl: 'voice_url',
          VoiceMethod: 'voice_method',
          VoiceFallbackUrl: 'voice_fallback_url',
          StatusCallback: 'status_callback',
          StatusCallbackMethod: 'status_callback_method',
          VoiceApplicationSid: 'voice_application_sid',
          FriendlyName: 'friendly_name'
        }
        for (const [k, field] of Object.entries(map)) if (params[k] !== undefined) (n as unknown as Record<string, string>)[field] = one(params[k])!
      }
      return send(200, this.#numberJson(n))
    }
    if (rest === 'Applications.json' && req.method === 'POST') {
      const a: FakeApplication = {
        sid: sid('AP'),
        friendly_name: one(params.FriendlyName) ?? '',
        voice_url: one(params.VoiceUrl) ?? '',
        voice_method: one(params.VoiceMethod) ?? 'POST',
        status_callback: one(params.StatusCallback) ?? '',
        status_callback_method: one(params.StatusCallbackMethod) ?? 'POST'
      }
      this.applications.set(a.sid, a)
      return send(201, this.#appJson(a))
    }
    if ((m = /^Applications\/(AP[0-9a-f]{32})\.json$/.exec(rest))) {
      const a = this.applications.get(m[1]!)
      if (!a) return notFound()
      if (req.method === 'POST') {
        if (params.VoiceUrl !== undefined) a.voice_url = one(params.VoiceUrl)!
        if (params.VoiceMethod !== undefined) a.voice_method = one(params.VoiceMethod)!
        if (params.StatusCallback !== undefined) a.status_callback = one(params.StatusCallback)!
        if (params.StatusCallbackMethod !== undefined) a.status_callback_method = one(params.StatusCallbackMethod)!
        if (params.FriendlyName !== undefined) a.friendly_name = one(params.FriendlyName)!
      }
      return send(200, this.#appJson(a))
    }
    if ((m = /^Recordings\/(RE[0-9a-f]{32})\.json$/.exec(rest))) {
      const r = this.recordings.get(m[1]!)
      if (!r) return notFound()
      if (req.method === 'DELETE') {
        this.recordings.delete(m[1]!)
        res.writeHead(204).end()
        return
      }
      return send(200, r)
    }
    return notFound()
  }

  #numberJson(n: FakeNumber): Record<string, unknown> {
    return {
      ...n,
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      capabilities: { voice: true, sms: true, mms: false, fax: false },
      uri: `/2010-04-01/Accounts/${this.accountSid}/IncomingPhoneNumbers/${n.sid}.json`
    }
  }

  #appJson(a: FakeApplication): Record<string, unknown> {
    return {
      ...a,
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      date_created: rfc2822(new Date()),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Applications/${a.sid}.json`
    }
  }
}
