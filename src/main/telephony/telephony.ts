/** Telephony: places and hangs up Twilio calls, answers Twilio's webhooks with TwiML, tracks each call's Twilio status. */
import { randomUUID } from 'node:crypto'
import type { AmdOverride, CallAmd, CallSummary, TwilioCallStatus } from '../../shared/calls.js'
import type { TimelineEntry } from '../../shared/events.js'
import { CallbenchError } from '../../shared/errors.js'
import { isAgentMode, type AgentMode } from '../../shared/modes.js'
import { AmdPolicySchema, type AmdPolicy, type Profile } from '../../shared/profiles.js'
import type { Settings } from '../../shared/settings.js'
import {
  isE164,
  type AmdOverrideResult,
  type HangupResult,
  type MachineDetection,
  type PlaceCallResult,
  type TwilioCallView
} from '../../shared/telephony.js'
import type { z } from 'zod'
import type { PlaceCallSchema } from '../../shared/telephony.js'
import type { Agent } from '../agents/agent.js'
import type { PrewarmContext } from '../calls/registry.js'
import type { EventHub } from '../events/hub.js'
import type { Logger } from '../log.js'
import type { SecretStore } from '../settings/secrets.js'
import type { StartMessage } from './media-protocol.js'
import {
  CallTracker,
  isTerminal,
  newStreamToken,
  parseStatus,
  summaryOf,
  tokenMatches,
  type TrackedCall
} from './call-tracker.js'
import { profileForCustomer, toCustomer, type ContactsLookup, type ProfileSource } from './contacts.js'
import { isNotFound, twilioClient, twilioError, type TwilioClient } from './twilio-client.js'
import { connectStreamTwiml, emptyTwiml, hangupTwiml, sayAndHangupTwiml } from './twiml.js'

export type PlaceCallInput = z.output<typeof PlaceCallSchema>

/** One live session, as telephony needs it (a CallSession). */
export interface LiveCall {
  agent: Agent
  stopPlayback(reason?: string): void
  end(reason: string): Promise<void>
  summary(): CallSummary
  /** The session's timeline (its greeting's `reply.start`, echoed marks), on its clock. */
  readonly timeline: readonly TimelineEntry[]
  /** Milliseconds since the session started: the timeline's clock. */
  clock(): number
  /** Takes back a hang-up after playout; false when none is pending. */
  cancelHangup(): boolean
}

/** The live calls, as telephony needs them (the CallRegistry). */
export interface LiveCalls {
  prewarm(callId: string, mode: AgentMode | undefined, ctx: PrewarmContext): Promise<void>
  get(id: string): LiveCall | undefined
}

/** A voicemail being left on a call; `cancelled` once the operator says a person answered after all. */
interface VoicemailRun {
  via: 'agent' | 'twiml' | undefined
  cancelled: boolean
  /** The voicemail asked the session to hang up after it played. */
  hangupRequested: boolean
}

export interface TelephonyOptions {
  hub: EventHub
  log: Logger
  secrets: SecretStore
  config: (name: string) => string | undefined
  settings: () => Settings
  /** Public base URL (tunnel or --public-url). */
  publicUrl: () => string | undefined
  /** Base URL the public listener answers on locally; used for TwiML only in unsigned loopback development. */
  localPublicBase: () => string
  calls: LiveCalls
  contacts: () => ContactsLookup
  profiles: () => ProfileSource
}

/** Twilio's error when a call is no longer in progress (redirecting or updating an ended call). */
const TWILIO_NOT_IN_PROGRESS = 21220
const MACHINE_DETECTION: Record<Exclude<MachineDetection, 'off'>, 'Enable' | 'DetectMessageEnd'> = {
  enable: 'Enable',
  'detect-message-end': 'DetectMessageEnd'
}
const MAX_SESSION_SUMMARIES = 500
const SORRY = 'Sorry, the agent is not available right now. Goodbye.'
/** Longest wait for the voicemail message's audio to finish arriving from the engine, ms. */
const VOICEMAIL_AUDIO_TIMEOUT_MS = 30_000

function isMachine(answeredBy: string | undefined): boolean {
  return !!answeredBy && (answeredBy.startsWith('machine') || answeredBy === 'fax')
}

/**
 * Where an AMD verdict at `atMs` falls against the agent's greeting (the session's first reply): when the
 * greeting started, how long after that the verdict came, and how much of it the callee had heard by then.
 */
export function greetingTiming(timeline: readonly TimelineEntry[], atMs: number): Pick<CallAmd, 'greetingStartedAtMs' | 'intoGreetingMs' | 'greetingHeardMs'> {
  const start = timeline.find((e) => e.kind === 'reply.start' && e.atMs <= atMs)
  const replyId = start?.data?.replyId
  if (!start || typeof replyId !== 'string') return {}
  let heardMs = 0
  for (const e of timeline) {
    if (e.atMs > atMs) break
    if (e.kind === 'mark.played' && e.data?.replyId === replyId && typeof e.data.atReplyMs === 'number') heardMs = e.data.atReplyMs
  }
  return { greetingStartedAtMs: start.atMs, intoGreetingMs: Math.round(atMs - start.atMs), greetingHeardMs: heardMs }
}

function toView(call: TrackedCall | undefined, remote: Awaited<ReturnType<ReturnType<TwilioClient['calls']>['fetch']>> | undefined): TwilioCallView {
  const status = parseStatus(remote?.status) ?? call?.status ?? 'queued'
  const durationS = remote?.duration ? Number(remote.duration) : call?.durationS
  const from = remote?.from ?? call?.from
  const to = remote?.to ?? call?.to
  const answeredBy = remote?.answeredBy ?? call?.answeredBy
  return {
    ...(call ? { callId: call.id } : {}),
    callSid: remote?.sid ?? call?.callSid ?? '',
    status,
    direction: remote?.direction ?? (call?.direction === 'outbound' ? 'outbound-api' : 'inbound'),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(answeredBy ? { answeredBy } : {}),
    ...(remote?.startTime ? { startTime: new Date(remote.startTime).toISOString() } : {}),
    ...(remote?.endTime ? { endTime: new Date(remote.endTime).toISOString() } : {}),
    ...(durationS !== undefined && Number.isFinite(durationS) ? { durationS } : {})
  }
}

export class Telephony {
  readonly tracker = new CallTracker()
  /** Set by features that answer some calls with TwiML instead of a media stream (Gather): the TwiML, or undefined to stream. */
  answerWithoutStream: ((call: TrackedCall) => Promise<string | undefined>) | undefined
  readonly #opts: TelephonyOptions
  readonly #log: Logger
  /** Latest summary each live session published, so ours never lose its turns and end reason. */
  readonly #sessionSummaries = new Map<string, CallSummary>()
  /** Voicemails being left, by call id. */
  readonly #voicemails = new Map<string, VoicemailRun>()
  readonly #unsubscribe: () => void

  constructor(opts: TelephonyOptions) {
    this.#opts = opts
    this.#log = opts.log.child({ component: 'telephony' })
    this.#unsubscribe = opts.hub.subscribe((event) => {
      if (event.type !== 'call.started' && event.type !== 'call.updated' && event.type !== 'call.ended') return
      const call = this.tracker.get(event.call.id)
      if (!call) return
      // Our own events carry twilioStatus; a session's do not, and get Twilio's facts merged back in after them.
      if (event.call.twilioStatus !== undefined) return
      this.#sessionSummaries.set(call.id, event.call)
      // Oldest first (insertion order): a long-running app keeps only recent calls' summaries.
      if (this.#sessionSummaries.size > MAX_SESSION_SUMMARIES) {
        this.#sessionSummaries.delete(this.#sessionSummaries.keys().next().value!)
      }
      if (call.published) queueMicrotask(() => this.#publish(call, 'call.updated'))
    })
  }

  close(): void {
    this.#unsubscribe()
  }

  async client(): Promise<TwilioClient> {
    return twilioClient({ secrets: this.#opts.secrets, config: this.#opts.config })
  }

  #base(): string {
    return (this.#opts.publicUrl() ?? this.#opts.localPublicBase()).replace(/\/+$/, '')
  }

  #publish(call: TrackedCall, type: 'call.started' | 'call.updated' | 'call.ended'): void {
    call.published = true
    this.#opts.hub.publish({ type, call: summaryOf(call, this.#sessionSummaries.get(call.id)) })
  }

  /** The call's clock (ms): the live session's when there is one, so entries line up with its own. */
  #clock(call: TrackedCall): number {
    const live = this.#opts.calls.get(call.id)
    if (live) return Math.round(live.clock() * 10) / 10
    const startedMs = this.#sessionSummaries.get(call.id)?.startedAt
    return Date.now() - (startedMs ? Date.parse(startedMs) : call.createdAt.getTime())
  }

  #timeline(call: TrackedCall, kind: string, data: Record<string, unknown>, atMs = this.#clock(call)): void {
    this.#opts.hub.publish({ type: 'call.timeline', callId: call.id, entry: { atMs, kind, data } })
  }

  async #profile(id: string | undefined): Promise<Profile | undefined> {
    if (!id) return undefined
    return this.#opts.profiles().get(id)
  }

  // ---- control API ----

  /** Places an outbound call: our TwiML URL, status callbacks for every event, async AMD when asked. */
  async placeCall(input: PlaceCallInput): Promise<PlaceCallResult> {
    const publicUrl = this.#opts.publicUrl()
    if (!publicUrl) {
      throw new CallbenchError('not_configured', 'No public URL for Twilio to reach: start the tunnel (POST /api/tunnel/start) or run with --public-url')
    }
    const settings = this.#opts.settings()
    const from = input.from ?? (settings.twilio.phoneNumber || this.#opts.config('TWILIO_PHONE_NUMBER'))
    if (!from) throw new CallbenchError('not_configured', 'No caller id: set the Twilio phone number in settings or TWILIO_PHONE_NUMBER, or pass from')
    if (!isE164(from)) throw new CallbenchError('bad_request', "Invalid field 'from': must be an E.164 phone number such as +15551234567", { field: 'from' })
    const profile = await this.#profile(input.profileId)
    if (input.profileId && !profile) throw new CallbenchError('bad_request', `Unknown profile '${input.profileId}'`, { field: 'profileId' })
    const client = await this.client()

    const amd: AmdPolicy = profile?.amd ?? AmdPolicySchema.parse({})
    const detection: MachineDetection =
      input.machineDetection ?? (amd.enabled ? (amd.onMachine === 'leave_message' ? 'detect-message-end' : 'enable') : 'off')
    const call = this.tracker.add({
      id: randomUUID(),
      direction: 'outbound',
      from,
      to: input.to,
      mode: input.mode ?? profile?.mode ?? settings.defaultMode,
      ...(input.mode ? { requestedMode: input.mode } : {}),
      ...(profile ? { profileId: profile.id } : {}),
      ...(input.overrides ? { overrides: input.overrides } : {}),
      status: 'queued',
      sequence: -1,
      ...(detection !== 'off' ? { amd, machineDetection: detection } : {}),
      record: input.record,
      metadata: input.metadata ?? {},
      createdAt: new Date(),
      streamToken: newStreamToken(),
      streamClaimed: false,
      published: false
    })
    const base = publicUrl.replace(/\/+$/, '')
    const q = `?callId=${encodeURIComponent(call.id)}`
    try {
      const created = await client.calls.create({
        to: input.to,
        from,
        url: `${base}/twilio/voice${q}`,
        method: 'POST',
        statusCallback: `${base}/twilio/status${q}`,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        ...(input.timeoutS ? { timeout: input.timeoutS } : {}),
        ...(input.record
          ? {
              record: true,
              recordingChannels: 'dual',
              recordingStatusCallback: `${base}/twilio/recording${q}`,
              recordingStatusCallbackMethod: 'POST',
              recordingStatusCallbackEvent: ['completed', 'absent']
            }
          : {}),
        ...(detection !== 'off'
          ? {
              machineDetection: MACHINE_DETECTION[detection],
              machineDetectionTimeout: amd.timeoutS,
              asyncAmd: 'true',
              asyncAmdStatusCallback: `${base}/twilio/amd${q}`,
              asyncAmdStatusCallbackMethod: 'POST'
            }
          : {})
      })
      this.tracker.setSid(call, created.sid)
      this.tracker.applyStatus(call, parseStatus(created.status) ?? 'queued', undefined)
      this.#log.info('call placed', { callId: call.id, callSid: created.sid, mode: call.mode, amd: detection, record: input.record })
      this.#publish(call, 'call.started')
      return { callId: call.id, callSid: created.sid, status: call.status }
    } catch (err) {
      this.tracker.remove(call)
      this.#log.warn('call could not be placed', { callId: call.id, err: err as Error })
      throw twilioError(err, 'place the call')
    }
  }

  /** Hangs a call up; a call Twilio says has already ended is not an error. */
  async hangup(idOrSid: string): Promise<HangupResult> {
    const call = this.tracker.find(idOrSid)
    const callSid = call?.callSid ?? (/^CA[0-9a-f]{32}$/.test(idOrSid) ? idOrSid : undefined)
    if (!callSid) throw new CallbenchError('call_not_found', 'No Twilio call with that id')
    const ids = call ? { callId: call.id } : {}
    if (call && isTerminal(call.status)) return { ...ids, callSid, status: call.status, alreadyEnded: true }
    const client = await this.client()
    // `completed` ends a call in any state (`canceled` only one not yet answered).
    const status = 'completed'
    try {
      const updated = await client.calls(callSid).update({ status })
      this.#log.info('call hung up', { ...ids, callSid })
      return { ...ids, callSid, status: parseStatus(updated.status) ?? status, alreadyEnded: false }
    } catch (err) {
      const code = (err as { code?: number }).code
      if (isNotFound(err) || code === TWILIO_NOT_IN_PROGRESS) {
        this.#log.info('call already ended', { ...ids, callSid, code })
        return { ...ids, callSid, status: call?.status && isTerminal(call.status) ? call.status : 'completed', alreadyEnded: true }
      }
      throw twilioError(err, 'hang up the call')
    }
  }

  /** Twilio's view of a call (fetched), with what we know merged in. */
  async view(idOrSid: string): Promise<TwilioCallView> {
    const call = this.tracker.find(idOrSid)
    const callSid = call?.callSid ?? (/^CA[0-9a-f]{32}$/.test(idOrSid) ? idOrSid : undefined)
    if (!callSid) {
      if (call) return toView(call, undefined)
      throw new CallbenchError('call_not_found', 'No Twilio call with that id')
    }
    try {
      const client = await this.client()
      return toView(call, await client.calls(callSid).fetch())
    } catch (err) {
      if (call && !(err instanceof CallbenchError && err.code === 'not_configured')) return toView(call, undefined)
      if (isNotFound(err)) throw new CallbenchError('call_not_found', 'Twilio has no call with that sid')
      throw twilioError(err, 'fetch the call')
    }
  }

  // ---- Media Stream start check ----

  /** Checks a Twilio stream's `start`: it must name a call we answered and carry that call's token, once. */
  verifyStart(start: StartMessage, source: 'twilio' | 'loopback'): void {
    if (source !== 'twilio') return
    const params = start.customParameters
    const call = params.callId ? this.tracker.get(params.callId) : undefined
    const ok =
      call !== undefined &&
      !call.streamClaimed &&
      tokenMatches(params.streamToken, call.streamToken) &&
      (!call.callSid || !start.callSid || call.callSid === start.callSid)
    if (!ok) {
      this.#log.warn('media stream start rejected', { callId: params.callId, reason: call ? 'token' : 'unknown_call' })
      throw new CallbenchError('forbidden', 'Stream does not belong to a call we answered')
    }
    call.streamClaimed = true
  }

  // ---- webhooks (public listener; signatures already checked) ----

  /** `/twilio/voice`: inbound calls, answered outbound calls and Voice SDK client calls alike. */
  async onVoice(query: URLSearchParams, form: Record<string, string>): Promise<string> {
    const callSid = form.CallSid
    const queryId = query.get('callId')
    let call: TrackedCall | undefined
    if (queryId) {
      call = this.tracker.get(queryId)
      if (!call || (call.callSid && callSid && call.callSid !== callSid)) {
        this.#log.warn('voice webhook for an unknown call', { callId: queryId })
        return hangupTwiml()
      }
      if (!call.callSid && callSid) this.tracker.setSid(call, callSid)
    } else {
      call = callSid ? this.tracker.bySid(callSid) : undefined
      // Twilio retries a webhook it got no answer to: answer the same call again rather than open a second one.
      if (call?.streamClaimed) return hangupTwiml()
      call ??= await this.#newInbound(form)
    }
    const answered = !isTerminal(call.status) && this.tracker.applyStatus(call, 'in-progress', undefined)
    if (answered || !call.published) this.#publish(call, call.published ? 'call.updated' : 'call.started')

    const direct = await this.answerWithoutStream?.(call)
    if (direct !== undefined) return direct

    const customParameters: Record<string, string> = {
      ...call.metadata,
      callId: call.id,
      streamToken: call.streamToken,
      direction: call.direction,
      ...(call.requestedMode ? { mode: call.requestedMode } : {}),
      ...(call.profileId ? { profileId: call.profileId } : {}),
      ...(call.from ? { from: call.from } : {}),
      ...(call.to ? { to: call.to } : {})
    }
    try {
      await this.#opts.calls.prewarm(call.id, call.requestedMode, {
        direction: call.direction,
        ...(call.callSid ? { callSid: call.callSid } : {}),
        ...(call.from ? { from: call.from } : {}),
        ...(call.to ? { to: call.to } : {}),
        ...(call.profileId ? { profileId: call.profileId } : {}),
        ...(call.customer ? { customer: call.customer } : {}),
        ...(call.overrides ? { overrides: call.overrides as Partial<Settings> } : {}),
        customParameters
      })
    } catch (err) {
      const e = err instanceof CallbenchError ? err : new CallbenchError('internal', 'Engine could not start', { cause: err })
      this.#log.warn('engine unavailable for call', { callId: call.id, code: e.code, message: e.message })
      this.#timeline(call, 'engine.unavailable', { code: e.code, message: e.message })
      return sayAndHangupTwiml(SORRY)
    }
    return connectStreamTwiml(this.#base(), customParameters)
  }

  async #newInbound(form: Record<string, string>): Promise<TrackedCall> {
    const from = form.From ?? form.Caller ?? ''
    const to = form.To ?? form.Called ?? ''
    const settings = this.#opts.settings()
    const fromClient = from.startsWith('client:')
    // A call placed through the REST API without our callId (`callbench call --public-url` from another machine).
    const direction = form.Direction?.startsWith('outbound') ? 'outbound' : 'inbound'
    const remote = direction === 'outbound' ? to : from
    let profile: Profile | undefined
    let customer: Record<string, string> | undefined
    let requestedMode: AgentMode | undefined
    if (fromClient) {
      // Voice SDK: the console's own params (PROTOCOLS §2.7) choose the engine or profile.
      if (isAgentMode(form.mode)) requestedMode = form.mode
      profile = await this.#profile(form.profileId)
    } else if (remote) {
      const contact = await this.#opts.contacts().find(remote).catch((err: unknown) => {
        this.#log.warn('contact lookup failed', { err: err as Error })
        return undefined
      })
      const c = contact ? toCustomer(contact) : undefined
      customer = c?.context
      profile = await profileForCustomer(c, this.#opts.profiles())
    }
    const call = this.tracker.add({
      id: randomUUID(),
      ...(form.CallSid ? { callSid: form.CallSid } : {}),
      direction,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      mode: requestedMode ?? profile?.mode ?? settings.defaultMode,
      ...(requestedMode ? { requestedMode } : {}),
      ...(profile ? { profileId: profile.id } : {}),
      status: parseStatus(form.CallStatus) ?? 'ringing',
      sequence: -1,
      record: false,
      metadata: {},
      ...(customer ? { customer } : {}),
      createdAt: new Date(),
      streamToken: newStreamToken(),
      streamClaimed: false,
      published: false
    })
    this.#log.info('call answered', { callId: call.id, callSid: call.callSid, direction, known: Boolean(customer), client: fromClient, profileId: call.profileId })
    return call
  }

  #find(query: URLSearchParams, form: Record<string, string>): TrackedCall | undefined {
    const id = query.get('callId')
    const call = id ? this.tracker.get(id) : form.CallSid ? this.tracker.bySid(form.CallSid) : undefined
    // A callback must name the call's own sid; a valid signature on a mismatched pair is still not ours to act on.
    if (call?.callSid && form.CallSid && call.callSid !== form.CallSid) return undefined
    return call
  }

  /** `/twilio/status`: call progress events. */
  onStatus(query: URLSearchParams, form: Record<string, string>): string {
    const call = this.#find(query, form)
    const status = parseStatus(form.CallStatus)
    if (!call || !status) {
      this.#log.debug('status callback ignored', { known: Boolean(call), status: form.CallStatus })
      return emptyTwiml()
    }
    if (!call.callSid && form.CallSid) this.tracker.setSid(call, form.CallSid)
    const seq = form.SequenceNumber !== undefined ? Number(form.SequenceNumber) : undefined
    if (form.CallDuration !== undefined && Number.isFinite(Number(form.CallDuration))) call.durationS = Number(form.CallDuration)
    if (!this.tracker.applyStatus(call, status, Number.isFinite(seq) ? seq : undefined)) return emptyTwiml()
    this.#log.info('call status', { callId: call.id, status })
    this.#timeline(call, 'twilio.status', { status, ...(form.SipResponseCode ? { sipResponseCode: form.SipResponseCode } : {}) })
    if (isTerminal(status)) {
      this.#voicemails.delete(call.id)
      // Twilio ends the stream too; ending the session here covers a stream that never says goodbye.
      const live = this.#opts.calls.get(call.id)
      if (live) void live.end('twilio_' + status.replace('-', '_'))
      // Without a session nobody else announces the end (no answer, busy, failed before the stream).
      this.#publish(call, live || call.streamClaimed ? 'call.updated' : 'call.ended')
    } else {
      this.#publish(call, call.published ? 'call.updated' : 'call.started')
    }
    return emptyTwiml()
  }

  /** `/twilio/amd`: async answering-machine detection result, and the profile's policy for machines. */
  async onAmd(query: URLSearchParams, form: Record<string, string>): Promise<string> {
    const call = this.#find(query, form)
    const answeredBy = form.AnsweredBy
    if (!call || !answeredBy) return emptyTwiml()
    call.answeredBy = answeredBy
    const machine = isMachine(answeredBy)
    // The operator decided before Twilio did: the verdict is shown, the policy is not run.
    const action = call.amdOverride ? 'skipped' : machine ? (call.amd?.onMachine ?? 'continue') : 'continue'
    const atMs = this.#clock(call)
    const live = this.#opts.calls.get(call.id)
    const detectionMs = Number(form.MachineDetectionDuration)
    call.amdResult = {
      atMs,
      action,
      ...(form.MachineDetectionDuration && Number.isFinite(detectionMs) ? { detectionMs } : {}),
      ...(live ? greetingTiming(live.timeline, atMs) : {})
    }
    this.#log.info('answering machine detection', { callId: call.id, answeredBy, action, detectionMs: call.amdResult.detectionMs })
    this.#timeline(call, 'amd', { answeredBy, ...call.amdResult }, atMs)
    this.#publish(call, 'call.updated')
    if (!machine || call.amdOverride || isTerminal(call.status)) return emptyTwiml()
    if (action === 'hangup') {
      await this.hangup(call.id).catch((err: unknown) => this.#log.warn('amd hang-up failed', { callId: call.id, err: err as Error }))
    } else if (action === 'leave_message') {
      void this.#leaveVoicemail(call)
    }
    return emptyTwiml()
  }

  /** Speaks the profile's message after the beep in the agent's voice, then hangs up once it has played. */
  async #leaveVoicemail(call: TrackedCall): Promise<void> {
    if (this.#voicemails.has(call.id)) return
    const run: VoicemailRun = { via: undefined, cancelled: false, hangupRequested: false }
    this.#voicemails.set(call.id, run)
    const message = call.amd?.message ?? ''
    const live = this.#opts.calls.get(call.id)
    try {
      if (!message) {
        await this.hangup(call.id)
        return
      }
      if (live && live.agent.capabilities.canSay) {
        run.via = 'agent'
        live.stopPlayback('voicemail')
        const agent = live.agent
        const done = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, VOICEMAIL_AUDIO_TIMEOUT_MS)
          agent.once('audioEnd', () => {
            clearTimeout(timer)
            resolve()
          })
        })
        await agent.say(message)
        await done
        if (run.cancelled) return
        // The session ends the call once what was sent has played.
        run.hangupRequested = true
        agent.emit('hangup', 'voicemail_left')
        this.#timeline(call, 'voicemail.left', { via: 'agent' })
        return
      }
      // This engine cannot speak arbitrary text: Twilio's voice reads it, then the call ends.
      run.via = 'twiml'
      const client = await this.client()
      await client.calls(call.callSid!).update({ twiml: sayAndHangupTwiml(message) })
      this.#timeline(call, 'voicemail.left', { via: 'twiml' })
    } catch (err) {
      if (run.cancelled) return
      this.#log.warn('voicemail failed', { callId: call.id, err: err as Error })
      await this.hangup(call.id).catch(() => undefined)
    }
  }

  /**
   * The operator's word on a call's AMD verdict. `human`: a voicemail being left through the agent stops (its audio
   * cleared, the hang-up after it taken back) and the agent goes on; `voicemail`: the profile's message is left now,
   * as the machine policy would; `hangup`: the call ends through Twilio.
   */
  async overrideAmd(idOrSid: string, action: AmdOverride): Promise<AmdOverrideResult> {
    const call = this.tracker.find(idOrSid)
    if (!call) throw new CallbenchError('call_not_found', 'No Twilio call with that id')
    if (!call.machineDetection) throw new CallbenchError('unsupported', 'Answering-machine detection is not on for this call')
    if (isTerminal(call.status)) throw new CallbenchError('call_ended', 'The call has already ended')
    const run = this.#voicemails.get(call.id)
    let stopped = false
    if (action === 'human') {
      if (run?.via === 'twiml') {
        throw new CallbenchError('conflict', 'Twilio is already reading the voicemail on this call; it cannot be taken back')
      }
      const live = this.#opts.calls.get(call.id)
      if (run && !run.cancelled) {
        run.cancelled = true
        stopped = true
        if (run.hangupRequested) live?.cancelHangup()
        live?.stopPlayback('amd_override')
      }
    } else if (action === 'voicemail') {
      if (!call.amd?.message) throw new CallbenchError('not_configured', "This call's profile has no voicemail message")
    } else if (run && !run.cancelled) {
      run.cancelled = true
    }
    call.amdOverride = action
    this.#log.info('amd override', { callId: call.id, action, stopped })
    this.#timeline(call, 'amd.override', { action, stopped, ...(call.answeredBy ? { verdict: call.answeredBy } : {}) })
    this.#publish(call, 'call.updated')
    if (action === 'hangup') {
      const result = await this.hangup(call.id)
      return { callId: call.id, action, stopped, status: result.status }
    }
    if (action === 'voicemail') {
      if (run && !run.cancelled) return { callId: call.id, action, stopped, status: call.status }
      this.#voicemails.delete(call.id)
      void this.#leaveVoicemail(call)
    } else {
      this.#voicemails.delete(call.id)
    }
    return { callId: call.id, action, stopped, status: call.status }
  }

  /** `/twilio/recording`: Twilio-side recording is ready (or absent); the call-records feature takes it from the hub. */
  onRecording(query: URLSearchParams, form: Record<string, string>): string {
    const call = this.#find(query, form)
    if (!form.CallSid || !form.RecordingSid || !form.RecordingUrl) return emptyTwiml()
    const durationS = Number(form.RecordingDuration)
    const channels = Number(form.RecordingChannels)
    this.#log.info('twilio recording', { callId: call?.id, recordingSid: form.RecordingSid, status: form.RecordingStatus })
    this.#opts.hub.publish({
      type: 'twilio.recording',
      ...(call ? { callId: call.id } : {}),
      callSid: form.CallSid,
      recordingSid: form.RecordingSid,
      recordingUrl: form.RecordingUrl,
      status: form.RecordingStatus ?? 'completed',
      ...(Number.isFinite(durationS) ? { durationS } : {}),
      ...(Number.isInteger(channels) ? { channels } : {})
    })
    return emptyTwiml()
  }

  /** Status for scripts: our tracked calls, newest first. */
  trackedCalls(opts: { active?: boolean } = {}): TwilioCallView[] {
    return this.tracker
      .list()
      .filter((c) => !opts.active || !isTerminal(c.status))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((c) => toView(c, undefined))
  }
}

export type { TwilioCallStatus }
