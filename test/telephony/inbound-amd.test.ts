// Inbound calls (customer context from contacts, profile by tag, Voice SDK client calls) and answering-machine policies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext } from '../../src/main/agents/agent.js'
import { getEngine, registerEngine } from '../../src/main/agents/engines.js'
import type { Profile } from '../../src/shared/profiles.js'
import type { PlaceCallResult } from '../../src/shared/telephony.js'
import { callEvents, OUR_NUMBER, PUBLIC_URL, startHarness, withToneSay, type Harness } from './harness.js'

const ADA = '+15551230000'

describe('inbound calls and answering machines', () => {
  let h: Harness
  const contexts: CallContext[] = []
  let vip: Profile
  /** While set, agents can speak text: `say` plays this many ms of tone as its own reply. */
  let sayToneMs = 0
  const said: string[] = []

  beforeAll(async () => {
    h = await startHarness()
    // The real echo engine, with each call's context noted on the way in.
    const echo = getEngine('echo')
    registerEngine({
      ...echo,
      create: (deps, call) => {
        contexts.push(call)
        const agent = echo.create(deps, call)
        // The real echo engine, given a voice: say() speaks a tone as its own reply, the way a TTS engine would.
        return sayToneMs ? withToneSay(agent, sayToneMs, said) : agent
      }
    })
    h.fake.addNumber(OUR_NUMBER, { voice_url: `${PUBLIC_URL}/twilio/voice`, status_callback: `${PUBLIC_URL}/twilio/status` })
    vip = (await h.api<Profile>('POST', '/api/profiles', { name: 'VIP', mode: 'echo', settings: { vad: { silenceMs: 700 } } })).body
  })
  afterAll(async () => {
    await h.close()
  })

  it('imports contacts from CSV', async () => {
    const csv = `number,name,tags,notes,profileId\n${ADA},Ada Lovelace,beta|${vip.name.toLowerCase()},Prefers email,\n+15551239999,Bob,,,${vip.id}\nnot-a-number,,,\n`
    const res = await h.api('POST', '/api/contacts/import', csv, { 'content-type': 'text/csv' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ imported: 2, skipped: 1 })
  })

  it('gives a known caller their customer context and the profile their tag names', async () => {
    const call = await h.fake.inboundCall({ from: ADA, to: OUR_NUMBER })
    expect(call.stream?.parameters).toMatchObject({ direction: 'inbound', from: ADA, to: OUR_NUMBER, profileId: vip.id })
    const ctx = contexts.find((c) => c.callSid === call.sid)!
    expect(ctx.customer).toMatchObject({ name: 'Ada Lovelace', notes: 'Prefers email', tags: 'beta, vip' })
    const started = await h.waitFor((e) => e.type === 'call.started' && e.call.callSid === call.sid && e.call.twilioStatus !== undefined)
    expect(started.type === 'call.started' && started.call).toMatchObject({ direction: 'inbound', profileId: vip.id, from: ADA })
    await h.fake.hangup(call.sid)
  })

  it('uses the contact profileId column when it names a profile', async () => {
    const call = await h.fake.inboundCall({ from: '+15551239999', to: OUR_NUMBER })
    expect(call.stream?.parameters.profileId).toBe(vip.id)
    await h.fake.hangup(call.sid)
  })

  it('serves an unknown caller with the default profile and no customer context', async () => {
    const call = await h.fake.inboundCall({ from: '+15550000007', to: OUR_NUMBER })
    expect(call.stream?.parameters.profileId).toBeUndefined()
    const ctx = contexts.find((c) => c.callSid === call.sid)!
    expect(ctx.customer).toBeUndefined()
    expect(ctx.mode).toBe(h.app.settings.get().defaultMode)
    await h.fake.hangup(call.sid)
  })

  it('answers a Voice SDK client call with the engine the console asked for', async () => {
    const app = h.fake.addApplication({ voice_url: `${PUBLIC_URL}/twilio/voice` })
    const call = await h.fake.clientCall({ applicationSid: app.sid, identity: 'callbench_abc', params: { To: 'agent', mode: 'echo' } })
    expect(call.stream?.parameters).toMatchObject({ mode: 'echo', from: 'client:callbench_abc', direction: 'inbound' })
    await h.fake.hangup(call.sid)
    expect((await h.fake.whenEnded(call.sid)).status).toBe('completed')
  })

  it('hangs up on a machine when the profile says so', async () => {
    const p = (await h.api<Profile>('POST', '/api/profiles', { name: 'No machines', mode: 'echo', amd: { enabled: true, onMachine: 'hangup' } })).body
    const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: '+15557654321', profileId: p.id })
    const { callId, callSid } = placed.body
    expect(h.fake.requestsTo('POST', '/Calls.json').at(-1)!.params).toMatchObject({ MachineDetection: 'Enable', AsyncAmd: 'true', MachineDetectionTimeout: '30' })
    await h.fake.runCall(callSid, { answeredBy: 'machine_start', stayOnLine: true })
    const ended = await h.fake.whenEnded(callSid)
    expect(ended.status).toBe('completed')
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`).map((r) => r.params)).toContainEqual({ Status: 'completed' })
    const last = await h.waitFor((e) => e.type === 'call.updated' && e.call.id === callId && e.call.twilioStatus === 'completed')
    expect(last.type === 'call.updated' && last.call).toMatchObject({ answeredBy: 'machine_start', outcome: 'answering_machine' })
    expect(h.events.some((e) => e.type === 'call.timeline' && e.callId === callId && e.entry.kind === 'amd' && e.entry.data?.action === 'hangup')).toBe(true)
  })

  it('leaves the voicemail after the beep, in Twilio’s voice when the engine cannot speak text', async () => {
    const p = (
      await h.api<Profile>('POST', '/api/profiles', {
        name: 'Voicemail',
        mode: 'echo',
        amd: { enabled: true, onMachine: 'leave_message', message: 'Please call us back.' }
      })
    ).body
    const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: '+15557654321', profileId: p.id })
    const { callSid } = placed.body
    expect(h.fake.requestsTo('POST', '/Calls.json').at(-1)!.params).toMatchObject({ MachineDetection: 'DetectMessageEnd' })
    await h.fake.runCall(callSid, { answeredBy: 'machine_end_beep', stayOnLine: true })
    const ended = await h.fake.whenEnded(callSid)
    expect(ended.twiml).toMatch(/<Say>Please call us back\.<\/Say><Hangup\/>/)
  })

  it('leaves the voicemail in the agent’s own voice when the engine can speak text, then hangs up', async () => {
    sayToneMs = 600
    try {
      const p = (
        await h.api<Profile>('POST', '/api/profiles', {
          name: 'Voicemail voice',
          mode: 'echo',
          amd: { enabled: true, onMachine: 'leave_message', message: 'This is Callbench, call us back.' }
        })
      ).body
      const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: '+15557654321', profileId: p.id })
      const { callId, callSid } = placed.body
      await h.fake.runCall(callSid, { answeredBy: 'machine_end_beep', stayOnLine: true })
      const ended = await h.fake.whenEnded(callSid)
      expect(said).toEqual(['This is Callbench, call us back.'])
      // No Twilio voice: nothing redirected the call; our side closed the stream after the message played.
      expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`)).toEqual([])
      expect(ended.status).toBe('completed')
      expect(ended.media!.stats().closedBy).toBe('server')
      expect(h.events.some((e) => e.type === 'call.timeline' && e.callId === callId && e.entry.kind === 'voicemail.left' && e.entry.data?.via === 'agent')).toBe(true)
    } finally {
      sayToneMs = 0
    }
  })

  it('goes on talking when a human answers', async () => {
    const p = (await h.api<Profile>('POST', '/api/profiles', { name: 'Humans only', mode: 'echo', amd: { enabled: true, onMachine: 'hangup' } })).body
    const placed = await h.api<PlaceCallResult>('POST', '/api/calls', { to: '+15557654321', profileId: p.id })
    const { callId, callSid } = placed.body
    await h.fake.runCall(callSid, { answeredBy: 'human', stayOnLine: true })
    await h.waitFor((e) => e.type === 'call.updated' && e.call.id === callId && e.call.answeredBy === 'human')
    expect(h.fake.calls.get(callSid)!.status).toBe('in-progress')
    expect(h.fake.requestsTo('POST', `/Calls/${callSid}.json`)).toEqual([])
    await h.fake.hangup(callSid)
    expect(callEvents(h.events, callId).at(-1)?.call.state).toBe('ended')
  })
})
