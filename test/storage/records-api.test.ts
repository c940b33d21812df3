import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/main/app.js'
import { recordsOf } from '../../src/main/server/routes/records.js'
import { telephonyOf } from '../../src/main/server/routes/telephony.js'
import { CallDetailSchema, ProfileListSchema, ProfileSchema } from '../../src/shared/api.js'
import {
  formatDate,
  formatDateTime,
  formatDurationMs,
  formatTime,
  zonedToUtcIso
} from '../../src/shared/time-format.js'
import { TwilioMediaSim } from '../fakes/twilio-media-sim.js'
import { startTestApp, type TestApp } from '../support/app.js'

describe('records API: profiles, contacts, live calls', () => {
  let testApp: TestApp
  let app: App
  const req = (method: string, path: string, body?: unknown, type = 'application/json') =>
    fetch(`${testApp.url}${path}`, {
      method,
      headers: { authorization: 'Bearer t', ...(body !== undefined ? { 'content-type': type } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {})
    })

  beforeAll(async () => {
    testApp = await startTestApp()
    app = testApp.app
  })
  afterAll(async () => {
    await testApp.stop()
  })

  it('profiles: create, list, read, update, delete; bad input is a 400 naming the field', async () => {
    const bad = await req('POST', '/api/profiles', { name: 'X', mode: 'telepathy' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('mode')
    const badOverride = await req('POST', '/api/profiles', {
      name: 'X',
      mode: 'echo',
      settings: { vad: { threshold: 3 } }
    })
    expect(((await badOverride.json()) as { error: { field: string } }).error.field).toBe('settings.vad.threshold')

    const created = ProfileSchema.parse(
      await (
        await req('POST', '/api/profiles', {
          name: 'Support',
          mode: 'cascade',
          settings: { voice: { settings: { speed: 1.1 } } },
          amd: { enabled: true, onMachine: 'leave_message', message: 'Call us back' }
        })
      ).json()
    )
    expect(created.amd).toEqual({ enabled: true, onMachine: 'leave_message', message: 'Call us back', timeoutS: 30 })
    expect(
      ProfileListSchema.parse(await (await req('GET', '/api/profiles')).json()).profiles.map((p) => p.id)
    ).toContain(created.id)
    const updated = await req('PUT', `/api/profiles/${created.id}`, { name: 'Support 2', mode: 'hybrid' })
    expect(ProfileSchema.parse(await updated.json())).toMatchObject({
      name: 'Support 2',
      mode: 'hybrid',
      settings: {},
      amd: { enabled: false }
    })
    expect(ProfileSchema.parse(await (await req('GET', `/api/profiles/${created.id}`)).json()).name).toBe('Support 2')
    // The registry resolves it for calls, with the overrides as given.
    expect(await app.calls.profileResolver!(created.id)).toEqual({ id: created.id, mode: 'hybrid', overrides: {} })
    expect((await req('DELETE', `/api/profiles/${created.id}`)).status).toBe(200)
    expect((await req('GET', `/api/profiles/${created.id}`)).status).toBe(404)
    expect((await req('PUT', `/api/profiles/${created.id}`, { name: 'gone', mode: 'echo' })).status).toBe(404)
  })

  it('contacts imported through the console are what telephony looks callers up in', async () => {
    const imported = await req(
      'POST',
      '/api/contacts/import',
      'number,name,tags\n+1 555 010 0300,Ada,vip\n',
      'text/csv'
    )
    expect(imported.status).toBe(200)
    expect(await imported.json()).toEqual({ imported: 1, skipped: 0 })
    const records = recordsOf(app)!
    expect(telephonyOf(app).contacts).toBe(records.contacts)
    expect(await telephonyOf(app).contacts.find('+15550100300')).toMatchObject({ name: 'Ada', fields: { tags: 'vip' } })
    expect(await (await req('GET', '/api/contacts?number=15550100300')).json()).toMatchObject({
      number: '+15550100300',
      name: 'Ada'
    })
    expect((await req('GET', '/api/contacts?number=999')).status).toBe(404)
  })

  it('a live call is served from the live registry, merged with what is stored', async () => {
    const id = 'live-1'
    const sim = new TwilioMediaSim({
      url: testApp.mediaUrl,
      customParameters: { mode: 'echo', vad: 'energy', callId: id }
    })
    await sim.connect()
    await sim.play([{ kind: 'silence', durationMs: 600 }])
    await expect.poll(() => app.calls.get(id)?.timeline.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(0)
    const live = CallDetailSchema.parse(await (await req('GET', `/api/calls/${id}`)).json())
    expect(live.live).toBe(true)
    expect(live.call).toMatchObject({ id, state: 'active', hasRecording: true })
    expect(live.events.map((e) => e.kind)).toContain('call.start')
    const list = (await (await req('GET', '/api/calls')).json()) as { calls: Array<{ id: string; state: string }> }
    expect(list.calls.find((c) => c.id === id)?.state).toBe('active')
    expect((await req('DELETE', `/api/calls/${id}?confirm=true`)).status).toBe(409)
    await sim.hangup()
    await expect
      .poll(async () => CallDetailSchema.parse(await (await req('GET', `/api/calls/${id}`)).json()).live, {
        timeout: 10_000
      })
      .toBe(false)
  })

  it('rejects bad history queries with the field named', async () => {
    const r = await req('GET', '/api/calls?pageSize=5000')
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: { field: string } }).error.field).toBe('pageSize')
    expect((await req('GET', '/api/calls?from=yesterday')).status).toBe(400)
    expect((await req('GET', '/api/calls?outcome=answering_machine')).status).toBe(200)
  })
})

describe('time display helpers', () => {
  it('shows stored UTC instants in the chosen zone, and turns zoned dates into UTC filters', () => {
    const iso = '2026-03-14T23:30:00.000Z'
    expect(formatDateTime(iso, { timeZone: 'Asia/Tokyo', locale: 'en-GB' })).toBe('15/03/2026, 08:30:00')
    expect(formatDate(iso, { timeZone: 'America/New_York', locale: 'en-US' })).toBe('03/14/2026')
    expect(formatTime(iso, { timeZone: 'UTC', locale: 'en-GB' })).toBe('23:30:00')
    expect(formatDateTime(iso, { timeZone: 'Not/AZone', locale: 'en-GB' })).toBe('14/03/2026, 23:30:00')
    expect(formatDateTime('garbage')).toBe('')
    expect(formatDurationMs(65_400)).toBe('1:05')
    expect(formatDurationMs(3_725_000)).toBe('1:02:05')
    expect(zonedToUtcIso('2026-03-14', '00:00', 'America/New_York')).toBe('2026-03-14T04:00:00.000Z')
    expect(zonedToUtcIso('2026-07-01', '12:00:00', 'Europe/Paris')).toBe('2026-07-01T10:00:00.000Z')
  })
})
