// An outbound call end to end on this machine: POST /api/calls → the real twilio SDK → fake Twilio → signed TwiML fetch →
// Media Stream → echo agent → status callbacks → the call record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallDetail } from '../../src/shared/records.js'
import type { HangupResult, PlaceCallResult, TwilioCallView } from '../../src/shared/telephony.js'
import { loadSpeechClips, speechOf } from '../fakes/twilio-media-sim.js'
import { callEvents, OUR_NUMBER, PUBLIC_URL, startHarness, type Harness } from './harness.js'

const CALLEE = '+15557654321'

describe('outbound call through fake Twilio', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => {
    await h.close()
  })

  it('places the call, answers with the echo agent, follows the status callbacks into the call record', async () => {
    const placed = await h.api<PlaceCallResult>('POST', '/api/calls', {
      to: CALLEE,
      mode: 'echo',
      record: true,
      machineDetection: 'enable',
      timeoutS: 25,
      metadata: { ticket: 'T-42' }
    })
    expect(placed.status).toBe(201)
    const { callId, callSid } = placed.body
    expect(callSid).toMatch(/^CA[0-9a-f]{32}$/)

    // Exactly what the SDK put on the wire.
    const [create] = h.fake.requestsTo('POST', '/Calls.json')
    const q = `?callId=${callId}`
    expect(create!.params).toMatchObject({
      To: CALLEE,
      From: OUR_NUMBER,
      Url: `${PUBLIC_URL}/twilio/voice${q}`,
      Method: 'POST',
      StatusCallback: `${PUBLIC_URL}/twilio/status${q}`,
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      Timeout: '25',
      Record: 'true',
      RecordingChannels: 'dual',
      RecordingStatusCallback: `${PUBLIC_URL}/twilio/recording${q}`,
      MachineDetection: 'Enable',
      AsyncAmd: 'true',
      AsyncAmdStatusCallback: `${PUBLIC_URL}/twilio/amd${q}`
    })

    const [clip] = loadSpeechClips()
    await h.fake.runCall(callSid, {
      answeredBy: 'human',
      caller: [
        { kind: 'waitForAgent', timeoutMs: 8000, until: 'done', afterMs: 200 },
        { ...speechOf(clip!), label: 'turn' },
        { kind: 'waitForAgent', timeoutMs: 6000, until: 'done', afterMs: 200 }
      ]
    })
    const call = h.fake.calls.get(callSid)!

    // Every webhook Twilio sent was signed and accepted; the TwiML pointed the stream at our public wss URL.
    expect(h.fake.webhooks.length).toBeGreaterThanOrEqual(6)
    expect(h.fake.webhooks.every((w) => w.status === 200)).toBe(true)
    expect(call.stream?.url).toBe(PUBLIC_URL.replace('https', 'wss') + '/twilio/media')
    expect(call.stream?.parameters).toMatchObject({ callId, direction: 'outbound', mode: 'echo', ticket: 'T-42' })
    expect(call.stream?.parameters.streamToken).toMatch(/^[\w-]{20,}$/)

    // The echo agent answered on the stream: the greeting, then the echo of the turn.
    const stats = call.media!.stats()
    expect(stats.mediaFramesReceived).toBeGreaterThan(50)
    const turn = stats.speech.find((s) => s.label === 'turn')!
    expect(turn.firstAgentMediaAtMs).toBeDefined()

    // Twilio's statuses reached the events stream in order.
    await h.waitFor((e) => e.type === 'call.updated' && e.call.id === callId && e.call.twilioStatus === 'completed')
    const statuses = callEvents(h.events, callId)
      .map((e) => e.call.twilioStatus)
      .filter((s): s is NonNullable<typeof s> => s !== undefined)
    const firsts = statuses.filter((s, i) => statuses.indexOf(s) === i)
    expect(firsts).toEqual(['queued', 'initiated', 'ringing', 'in-progress', 'completed'])
    const amd = callEvents(h.events, callId).find((e) => e.call.answeredBy)
    expect(amd?.call.answeredBy).toBe('human')

    // The recording callback is handed on for the call-records feature.
    const rec = await h.waitFor((e) => e.type === 'twilio.recording' && e.callId === callId)
    expect(rec).toMatchObject({ callSid, status: 'completed' })

    // The call record says so.
    await h.waitFor((e) => e.type === 'call.ended' && e.call.id === callId)
    const detail = await h.api<CallDetail>('GET', `/api/calls/${callId}`)
    expect(detail.status).toBe(200)
    expect(detail.body.call).toMatchObject({ id: callId, callSid, direction: 'outbound', state: 'ended', to: CALLEE, from: OUR_NUMBER })

    const view = await h.api<TwilioCallView>('GET', `/api/calls/${callId}/twilio`)
    expect(view.body).toMatchObject({ callId, callSid, status: 'completed', answeredBy: 'human' })
  })

  it('refuses a number that is not E.164 before talking to Twilio', async () => {
    const before = h.fake.requests.length
    const res = await h.api<{ error: { code: string; message: string; field?: string } }>('POST', '/api/calls', { to: '555-1234', mode: 'echo' })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/'to'.*E\.164/)
    expect(h.fake.requests.length).toBe(before)
  })

  it('hangs up a live call with status=completed, and treats an already ended call as success', async () => {
    const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: CALLEE, mode: 'echo' })
    const { callId, callSid } = placed.body
    const running = h.fake.runCall(callSid, { stayOnLine: true })
    await h.waitFor((e) => e.type === 'call.started' && e.call.id === callId && e.call.twilioStatus === undefined)
    const hung = await h.api<HangupResult>('POST', `/api/calls/${callId}/hangup`)
    expect(hung.status).toBe(200)
    expect(hung.body).toMatchObject({ callId, callSid, alreadyEnded: false })
    const update = h.fake.requestsTo('POST', `/Calls/${callSid}.json`).at(-1)
    expect(update?.params).toEqual({ Status: 'completed' })
    await running
    await h.fake.whenEnded(callSid)
    await h.waitFor((e) => e.type === 'call.updated' && e.call.id === callId && e.call.twilioStatus === 'completed')

    const again = await h.api<HangupResult>('POST', `/api/calls/${callId}/hangup`)
    expect(again.body).toMatchObject({ alreadyEnded: true, status: 'completed' })
    // A sid Twilio does not know (20404) is "already ended" too.
    const unknown = 'CA' + '0'.repeat(32)
    const gone = await h.api<HangupResult>('POST', `/api/calls/${unknown}/hangup`)
    expect(gone.status).toBe(200)
    expect(gone.body).toMatchObject({ callSid: unknown, alreadyEnded: true })
  })

  it('reports a call nobody answered as no-answer, ended, with no stream', async () => {
    const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: CALLEE, mode: 'echo' })
    const { callId, callSid } = placed.body
    await h.fake.runCall(callSid, { unanswered: 'no-answer' })
    const ended = await h.waitFor((e) => e.type === 'call.ended' && e.call.id === callId)
    expect(ended.type === 'call.ended' && ended.call).toMatchObject({ state: 'ended', twilioStatus: 'no-answer', outcome: 'no_answer' })
    expect(h.fake.calls.get(callSid)!.media).toBeUndefined()
  })

  it('passes a Twilio refusal on with its message', async () => {
    h.fake.failNextCreate = { status: 400, code: 21219, message: "The number +15557654321 is unverified. Trial accounts cannot call unverified numbers." }
    const res = await h.api<{ error: { code: string; message: string } }>('POST', '/api/calls', { to: CALLEE, mode: 'echo' })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/unverified.*21219/)
  })
})
