// Answering machines on a live call: the verdict reaches the events stream timed against the greeting, and the
// operator's overrides (human, voicemail, hang up) do what they say on the wire and on the call's timeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getEngine, registerEngine } from '../../src/main/agents/engines.js'
import type { CallAmd } from '../../src/shared/calls.js'
import type { ServerEvent, TimelineEntry } from '../../src/shared/events.js'
import type { Profile } from '../../src/shared/profiles.js'
import type { AmdOverrideResult, PlaceCallResult } from '../../src/shared/telephony.js'
import { loadSpeechClips, speechOf } from '../fakes/twilio-media-sim.js'
import { callEvents, startHarness, withToneSay, type Harness } from './harness.js'

const CALLEE = '+15557654321'
const MESSAGE = 'This is Callbench, please call us back.'

type TimelineEvent = Extract<ServerEvent, { type: 'call.timeline' }>

describe('answering machines on a live call', () => {
  let h: Harness
  /** `say` plays this many ms of tone as its own reply (a voice that speaks text). */
  let sayToneMs = 0
  const said: string[] = []
  const profiles: Record<'continue' | 'hangup' | 'voicemail' | 'silent', Profile> = {} as never

  beforeAll(async () => {
    h = await startHarness()
    const echo = getEngine('echo')
    registerEngine({
      ...echo,
      create: (deps, call) => {
        const agent = echo.create(deps, call)
        return sayToneMs ? withToneSay(agent, sayToneMs, said) : agent
      }
    })
    const make = async (name: string, amd: Record<string, unknown>) =>
      (await h.api<Profile>('POST', '/api/profiles', { name, mode: 'echo', amd: { enabled: true, ...amd } })).body
    profiles.continue = await make('AMD, go on', { onMachine: 'continue', message: MESSAGE })
    profiles.hangup = await make('AMD, hang up', { onMachine: 'hangup' })
    profiles.voicemail = await make('AMD, voicemail', { onMachine: 'leave_message', message: MESSAGE })
    profiles.silent = await make('AMD, no message', { onMachine: 'continue' })
  })
  afterAll(async () => {
    await h.close()
  })

  const place = async (profile: Profile) =>
    (await h.api<PlaceCallResult>('POST', '/api/calls', { to: CALLEE, profileId: profile.id })).body
  const override = (callId: string, action: string) =>
    h.api<AmdOverrideResult>('POST', `/api/calls/${callId}/amd`, { action })
  const timeline = (callId: string, kind: string): TimelineEntry[] =>
    h.events
      .filter((e): e is TimelineEvent => e.type === 'call.timeline' && e.callId === callId && e.entry.kind === kind)
      .map((e) => e.entry)
  const waitTimeline = (callId: string, kind: string, pred: (e: TimelineEntry) => boolean = () => true) =>
    h.waitFor(
      (e): e is TimelineEvent =>
        e.type === 'call.timeline' && e.callId === callId && e.entry.kind === kind && pred(e.entry)
    )
  const lastAmd = (callId: string): CallAmd | undefined =>
    callEvents(h.events, callId).findLast((e) => e.call.amd)?.call.amd

  it('publishes a machine verdict with its timing against the agent’s greeting', async () => {
    const { callId, callSid } = await place(profiles.continue)
    // The verdict while the echo greeting (3.3 s) plays.
    await h.fake.runCall(callSid, {
      answeredBy: 'machine_end_beep',
      amdAfterMs: 400,
      machineDetectionMs: 2410,
      stayOnLine: true
    })
    const amd = (await waitTimeline(callId, 'amd')).entry
    const greeting = timeline(callId, 'reply.start')[0]!
    expect(greeting.data).toMatchObject({ replyId: 'greeting' })
    expect(amd.data).toMatchObject({
      answeredBy: 'machine_end_beep',
      detectionMs: 2410,
      action: 'continue',
      greetingStartedAtMs: greeting.atMs
    })
    // On the session's clock: the verdict's own time, minus the greeting's start.
    expect(amd.data!.atMs).toBe(amd.atMs)
    expect(amd.data!.intoGreetingMs).toBe(Math.round(amd.atMs - greeting.atMs))
    expect(amd.data!.intoGreetingMs).toBeGreaterThan(0)
    const heard = amd.data!.greetingHeardMs as number
    expect(heard).toBeGreaterThanOrEqual(0)
    expect(heard).toBeLessThanOrEqual(amd.data!.intoGreetingMs as number)

    // The summary carries it for the console's badge.
    const updated = await h.waitFor(
      (e) => e.type === 'call.updated' && e.call.id === callId && e.call.amd?.answeredBy === 'machine_end_beep'
    )
    expect(updated.type === 'call.updated' && updated.call).toMatchObject({
      answeredBy: 'machine_end_beep',
      amd: {
        detection: 'enable',
        answeredBy: 'machine_end_beep',
        detectionMs: 2410,
        greetingStartedAtMs: greeting.atMs,
        intoGreetingMs: amd.data!.intoGreetingMs
      }
    })
    // Policy "continue": the call goes on.
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`)).toEqual([])
    await h.fake.hangup(callSid)
  })

  it('human: stops the voicemail being left, takes back its hang-up, and the agent goes on', async () => {
    sayToneMs = 6000
    let callId: string, callSid: string
    try {
      ;({ callId, callSid } = await place(profiles.voicemail))
      await h.fake.runCall(callSid, { answeredBy: 'machine_end_beep', stayOnLine: true })
      // The message went out and the session waits for it to play before hanging up.
      await waitTimeline(callId, 'voicemail.left')
      await waitTimeline(callId, 'hangup.requested', (e) => e.data?.reason === 'voicemail_left')
    } finally {
      sayToneMs = 0
    }
    const call = h.fake.calls.get(callSid)!
    const cleared = new Promise<void>((resolve) => call.media!.once('clear', () => resolve()))
    const res = await override(callId, 'human')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ callId, action: 'human', stopped: true, status: 'in-progress' })
    await waitTimeline(callId, 'hangup.cancelled', (e) => e.data?.reason === 'voicemail_left')
    await waitTimeline(callId, 'clear', (e) => e.data?.reason === 'amd_override')
    expect(timeline(callId, 'amd.override').at(-1)!.data).toMatchObject({
      action: 'human',
      stopped: true,
      verdict: 'machine_end_beep'
    })
    // Twilio was told to drop the rest of the message: it had not played out.
    await cleared
    expect(call.media!.stats().playedAtClearMs.at(-1)).toBeLessThan(6000)

    // The agent goes on: the caller speaks and hears the echo; nothing hung the call up.
    const [clip] = loadSpeechClips()
    await call.media!.play([
      { ...speechOf(clip!), label: 'after' },
      { kind: 'waitForAgent', timeoutMs: 8000, until: 'speaking' }
    ])
    expect(call.media!.stats().speech.find((s) => s.label === 'after')!.firstAgentMediaAtMs).toBeDefined()
    expect(call.status).toBe('in-progress')
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`)).toEqual([])
    expect(said).toEqual([MESSAGE])

    await h.fake.hangup(callSid)
    const last = await h.waitFor(
      (e) => e.type === 'call.updated' && e.call.id === callId && e.call.twilioStatus === 'completed'
    )
    // The operator's word wins over the verdict in the outcome.
    expect(last.type === 'call.updated' && last.call).toMatchObject({
      outcome: 'completed',
      amd: { answeredBy: 'machine_end_beep', override: 'human' }
    })
  })

  it('human before the verdict: a machine verdict that comes later runs no policy', async () => {
    const { callId, callSid } = await place(profiles.hangup)
    await h.fake.runCall(callSid, { manualAmd: true, stayOnLine: true })
    expect((await override(callId, 'human')).body).toMatchObject({ action: 'human', stopped: false })
    await h.fake.sendAmd(callSid, 'machine_start')
    const amd = (await waitTimeline(callId, 'amd')).entry
    expect(amd.data).toMatchObject({ answeredBy: 'machine_start', action: 'skipped' })
    expect(h.fake.calls.get(callSid)!.status).toBe('in-progress')
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`)).toEqual([])
    expect(lastAmd(callId)).toMatchObject({ answeredBy: 'machine_start', override: 'human', action: 'skipped' })
    await h.fake.hangup(callSid)
  })

  it('voicemail: leaves the profile’s message now, in the agent’s voice, then the call ends', async () => {
    sayToneMs = 400
    try {
      const { callId, callSid } = await place(profiles.continue)
      await h.fake.runCall(callSid, { answeredBy: 'human', stayOnLine: true })
      await waitTimeline(callId, 'amd')
      said.length = 0
      const res = await override(callId, 'voicemail')
      expect(res.body).toEqual({ callId, action: 'voicemail', stopped: false, status: 'in-progress' })
      const ended = await h.fake.whenEnded(callSid)
      expect(said).toEqual([MESSAGE])
      expect(timeline(callId, 'voicemail.left').map((e) => e.data)).toEqual([{ via: 'agent' }])
      // The message played out and our side closed the stream: no REST hang-up, no Twilio voice.
      expect(ended.status).toBe('completed')
      expect(ended.media!.stats().closedBy).toBe('server')
      expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`)).toEqual([])
      const last = await h.waitFor(
        (e) => e.type === 'call.updated' && e.call.id === callId && e.call.twilioStatus === 'completed'
      )
      expect(last.type === 'call.updated' && last.call).toMatchObject({
        outcome: 'answering_machine',
        amd: { answeredBy: 'human', override: 'voicemail' }
      })
    } finally {
      sayToneMs = 0
    }
  })

  it('voicemail: Twilio reads it when the engine cannot speak text', async () => {
    const { callId, callSid } = await place(profiles.continue)
    await h.fake.runCall(callSid, { answeredBy: 'unknown', stayOnLine: true })
    await waitTimeline(callId, 'amd')
    expect((await override(callId, 'voicemail')).status).toBe(200)
    const ended = await h.fake.whenEnded(callSid)
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`).map((r) => r.params)).toEqual([
      { Twiml: expect.stringMatching(/<Say>This is Callbench, please call us back\.<\/Say><Hangup\/>/) }
    ])
    expect(ended.status).toBe('completed')
    expect(timeline(callId, 'voicemail.left').map((e) => e.data)).toEqual([{ via: 'twiml' }])
  })

  it('voicemail with no message in the profile is refused and the call goes on', async () => {
    const { callId, callSid } = await place(profiles.silent)
    await h.fake.runCall(callSid, { answeredBy: 'machine_start', stayOnLine: true })
    await waitTimeline(callId, 'amd')
    const res = await override(callId, 'voicemail')
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({
      error: { code: 'not_configured', message: "This call's profile has no voicemail message" }
    })
    expect(h.fake.calls.get(callSid)!.status).toBe('in-progress')
    expect(timeline(callId, 'amd.override')).toEqual([])
    await h.fake.hangup(callSid)
  })

  it('hangup: ends the call through Twilio', async () => {
    const { callId, callSid } = await place(profiles.continue)
    await h.fake.runCall(callSid, { answeredBy: 'machine_end_silence', stayOnLine: true })
    await waitTimeline(callId, 'amd')
    const res = await override(callId, 'hangup')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ callId, action: 'hangup', stopped: false, status: 'completed' })
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`).map((r) => r.params)).toEqual([{ Status: 'completed' }])
    expect((await h.fake.whenEnded(callSid)).status).toBe('completed')
    expect(timeline(callId, 'amd.override').map((e) => e.data)).toEqual([
      { action: 'hangup', stopped: false, verdict: 'machine_end_silence' }
    ])
    await h.waitFor((e) => e.type === 'call.updated' && e.call.id === callId && e.call.twilioStatus === 'completed')
    expect(lastAmd(callId)).toMatchObject({ override: 'hangup', answeredBy: 'machine_end_silence' })
    // Once it has ended there is nothing left to override.
    const again = await override(callId, 'human')
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ error: { code: 'call_ended' } })
  })

  it('refuses overrides on calls without AMD, unknown calls and unknown actions', async () => {
    const plain = (await h.api<PlaceCallResult>('POST', '/api/calls', { to: CALLEE, mode: 'echo' })).body
    const noAmd = await override(plain.callId, 'human')
    expect(noAmd.status).toBe(422)
    expect(noAmd.body).toMatchObject({ error: { code: 'unsupported' } })
    expect((await override('no-such-call', 'human')).status).toBe(404)
    const bad = await override(plain.callId, 'maybe')
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: { code: 'bad_request', field: 'action' } })
  })
})
