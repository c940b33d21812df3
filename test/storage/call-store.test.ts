import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CallSummary } from '../../src/shared/calls.js'
import type { TimelineEntry } from '../../src/shared/events.js'
import { CallListQuerySchema } from '../../src/shared/records.js'
import { CallStore } from '../../src/main/storage/call-store.js'
import { contactsFromCsv, parseCsv } from '../../src/main/storage/contacts-csv.js'
import { ftsExpression } from '../../src/main/storage/history-query.js'
import { migrate, SCHEMA_VERSION } from '../../src/main/storage/migrations.js'
import { outcomeOf } from '../../src/main/storage/outcome.js'

function call(id: string, over: Partial<CallSummary> = {}): CallSummary {
  return { id, direction: 'outbound', mode: 'echo', state: 'active', startedAt: '2026-03-10T12:00:00.000Z', ...over }
}

const q = (query: Record<string, string> = {}) => CallListQuerySchema.parse(query)

describe('CallStore', () => {
  let dir: string
  let store: CallStore

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'callbench-store-'))
    store = CallStore.open({ path: join(dir, 'calls.db'), flushIntervalMs: 60_000 })
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('migrates to the current schema version in WAL mode, and reopens without migrating again', () => {
    const v = store.db.prepare('PRAGMA user_version').get() as { user_version: number }
    expect(v.user_version).toBe(SCHEMA_VERSION)
    const mode = store.db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }
    expect(mode.journal_mode).toBe('wal')
    store.queueCall(call('a'))
    store.close()
    store = CallStore.open({ path: join(dir, 'calls.db') })
    expect(store.getCallSummary('a')?.id).toBe('a')
  })

  it('refuses a database written by a newer build', () => {
    store.close()
    const db = new DatabaseSync(join(dir, 'calls.db'))
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    expect(() => CallStore.open({ path: join(dir, 'calls.db') })).toThrow(/newer than this build/)
    store = CallStore.open({ path: join(dir, 'other.db') })
  })

  it('keeps live-call writes queued until one flush commits them all in one transaction', () => {
    store.queueCall(call('c1'))
    for (let i = 0; i < 50; i++) store.queueEvent('c1', { atMs: i * 20, kind: 'tick', data: { i } })
    store.queueTranscript('c1', { atMs: 1000, role: 'caller', text: 'hello there' })
    store.queueTurn('c1', { turn: 1, callerStoppedAtMs: 900, firstAudioOutAtMs: 1600, totalMs: 700 })
    // Another connection (another process) sees nothing before the flush…
    const reader = new DatabaseSync(join(dir, 'calls.db'), { readOnly: true })
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
    expect(count()).toBe(0)
    let commits = 0
    const original = store.db.exec.bind(store.db)
    store.db.exec = (sql: string) => {
      if (sql === 'COMMIT') commits++
      return original(sql)
    }
    store.flush()
    // …and everything after it, from a single commit.
    expect(count()).toBe(50)
    expect(commits).toBe(1)
    reader.close()
    const rec = store.getCall('c1')!
    expect(rec.turns).toEqual([{ turn: 1, callerStoppedAtMs: 900, firstAudioOutAtMs: 1600, totalMs: 700 }])
    expect(rec.transcript).toEqual([{ atMs: 1000, role: 'caller', text: 'hello there' }])
    expect(rec.events[49]).toEqual({ atMs: 980, kind: 'tick', data: { i: 49 } })
  })

  it('flushes on its own after the interval', async () => {
    store.close()
    store = CallStore.open({ path: join(dir, 'calls.db'), flushIntervalMs: 30 })
    store.queueCall(call('c2'))
    const reader = new DatabaseSync(join(dir, 'calls.db'), { readOnly: true })
    const seen = () => (reader.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n
    expect(seen()).toBe(0)
    await expect.poll(seen, { timeout: 2000, interval: 10 }).toBe(1)
    reader.close()
  })

  it('one bad write does not lose the rest of its batch', () => {
    store.queueEvent('never-started', { atMs: 0, kind: 'x' })
    store.queueCall(call('ok'))
    store.queueEvent('ok', { atMs: 5, kind: 'y' })
    store.flush()
    expect(store.getCall('ok')!.events).toEqual([{ atMs: 5, kind: 'y' }])
  })

  it('writes the end state: ended, duration, reason and outcome (answering machine from AMD)', () => {
    store.queueCall(call('m', { state: 'active' }))
    store.queueAnsweredBy('m', 'machine_end_beep')
    store.queueEnd(
      call('m', {
        state: 'ended',
        endedAt: '2026-03-10T12:00:42.500Z',
        endReason: 'agent_hangup',
        turns: 2,
        medianTurnMs: 640
      })
    )
    const s = store.getCallSummary('m')!
    expect(s).toMatchObject({
      state: 'ended',
      durationMs: 42_500,
      endReason: 'agent_hangup',
      outcome: 'answering_machine',
      turns: 2,
      medianTurnMs: 640
    })
    expect(s.answeredBy).toBe('machine_end_beep')
  })

  it('marks a call interrupted with its end at the given duration', () => {
    store.queueCall(call('i'))
    store.flush()
    expect(store.openCalls().map((c) => c.id)).toEqual(['i'])
    store.markInterrupted('i', 12_340)
    expect(store.getCallSummary('i')).toMatchObject({
      state: 'ended',
      outcome: 'interrupted',
      durationMs: 12_340,
      endedAt: '2026-03-10T12:00:12.340Z'
    })
    expect(store.openCalls()).toEqual([])
    expect(store.getCall('i')!.events.at(-1)!.kind).toBe('call.interrupted')
  })

  describe("a call's marks, stored as one row at its end", () => {
    const rows = (table: string, id: string) =>
      (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE call_id = ?`).get(id) as { n: number }).n

    it('writes one row and reads the entries back merged in time order with the events', () => {
      store.queueCall(call('b'))
      store.queueEvent('b', { atMs: 0, kind: 'call.start', data: { mode: 'echo' } })
      store.queueEvent('b', { atMs: 100, kind: 'reply.start', data: { replyId: 'r1' } })
      store.queueEvent('b', { atMs: 260, kind: 'barge_in' })
      store.queueEvent('b', { atMs: 400, kind: 'call.end', data: { reason: 'caller_hangup' } })
      store.queueEventBatch('b', [
        { atMs: 100, kind: 'mark.sent', data: { name: '0:1', replyId: 'r1', atReplyMs: 20 } },
        { atMs: 180.5, kind: 'mark.played', data: { name: '0:1', replyId: 'r1', atReplyMs: 20 } },
        { atMs: 260, kind: 'mark.sent', data: { name: '0:2', replyId: 'r1', atReplyMs: 160 } },
        { atMs: 260, kind: 'mark.cleared', data: { name: '0:2' } },
        { atMs: 300, kind: 'mark.bare' }
      ])
      // Queued after the marks (a note on the ended call): at equal at_ms it follows them.
      store.queueEvent('b', { atMs: 260, kind: 'note', data: { text: 'cut off' } })
      store.queueEnd(call('b', { state: 'ended', endedAt: '2026-03-10T12:00:01.000Z' }))
      store.flush()
      expect(rows('event_batches', 'b')).toBe(1)
      expect(rows('events', 'b')).toBe(5)
      expect(store.getCall('b')!.events).toStrictEqual([
        { atMs: 0, kind: 'call.start', data: { mode: 'echo' } },
        { atMs: 100, kind: 'reply.start', data: { replyId: 'r1' } },
        { atMs: 100, kind: 'mark.sent', data: { name: '0:1', replyId: 'r1', atReplyMs: 20 } },
        { atMs: 180.5, kind: 'mark.played', data: { name: '0:1', replyId: 'r1', atReplyMs: 20 } },
        { atMs: 260, kind: 'barge_in' },
        { atMs: 260, kind: 'mark.sent', data: { name: '0:2', replyId: 'r1', atReplyMs: 160 } },
        { atMs: 260, kind: 'mark.cleared', data: { name: '0:2' } },
        { atMs: 260, kind: 'note', data: { text: 'cut off' } },
        { atMs: 300, kind: 'mark.bare' },
        { atMs: 400, kind: 'call.end', data: { reason: 'caller_hangup' } }
      ])
    })

    it('reads a batch back exactly as the same entries written a row each, ties and other calls included', () => {
      // A fixed pseudo-random sequence on a coarse grid of times, so that rows and marks often tie.
      let seed = 12_345
      const next = (n: number) => (seed = (seed * 48_271) % 2_147_483_647) % n
      const entries = (prefix: string, count: number): TimelineEntry[] =>
        Array.from({ length: count }, (_, i) => ({
          atMs: next(40) * 25,
          kind: `${prefix}.${i % 3}`,
          ...(i % 5 === 0 ? {} : { data: { i, name: `${prefix}:${i}` } })
        }))
      const during = entries('event', 60)
      const marks = entries('mark', 300)
      const after = entries('note', 10)
      store.queueCall(call('rows'))
      store.queueCall(call('batch'))
      // The two calls' writes interleave, as live calls' do: their events rows' ids interleave too.
      for (const e of during) {
        store.queueEvent('rows', e)
        store.queueEvent('batch', e)
      }
      for (const e of marks) store.queueEvent('rows', e)
      store.queueEventBatch('batch', marks)
      for (const e of after) {
        store.queueEvent('batch', e)
        store.queueEvent('rows', e)
      }
      store.flush()
      expect([rows('events', 'batch'), rows('event_batches', 'batch')]).toEqual([70, 1])
      expect(store.getCall('batch')!.events).toStrictEqual(store.getCall('rows')!.events)
    })

    it('counts the marks as the last activity of a call a crash left open', () => {
      store.queueCall(call('open'))
      store.queueEvent('open', { atMs: 100, kind: 'call.start' })
      store.queueEventBatch('open', [
        { atMs: 950, kind: 'mark.played' },
        { atMs: 900, kind: 'mark.sent' }
      ])
      store.flush()
      expect(store.openCalls()).toEqual([
        { id: 'open', startedAtMs: Date.parse(call('open').startedAt), lastEventAtMs: 950 }
      ])
    })

    it('deletes the batch with its call', () => {
      store.queueCall(call('d'))
      store.queueEventBatch('d', [{ atMs: 10, kind: 'mark.sent' }])
      store.queueCall(call('keep'))
      store.queueEventBatch('keep', [{ atMs: 10, kind: 'mark.sent' }])
      store.flush()
      expect([rows('event_batches', 'd'), rows('event_batches', 'keep')]).toEqual([1, 1])
      expect(store.deleteCall('d')).toBe(true)
      expect([rows('event_batches', 'd'), rows('event_batches', 'keep')]).toEqual([0, 1])
    })

    it('writes nothing for a call with no marks', () => {
      store.queueCall(call('quiet'))
      store.queueEventBatch('quiet', [])
      store.flush()
      expect(rows('event_batches', 'quiet')).toBe(0)
    })

    it('commits a batch of many marks on its own timed commit, not with a whole burst', async () => {
      store.close()
      store = CallStore.open({ path: join(dir, 'calls.db'), flushIntervalMs: 60_000 })
      const commits: number[] = []
      const original = store.db.exec.bind(store.db)
      store.db.exec = (sql: string) => {
        if (sql === 'COMMIT') commits.push(rows('event_batches', 'big'))
        return original(sql)
      }
      const marks = (n: number) => Array.from({ length: n }, (_, i) => ({ atMs: i, kind: 'mark.sent' }))
      store.queueCall(call('big'))
      store.queueEventBatch('big', marks(400))
      store.queueEventBatch('big', marks(400))
      // The end is committed soon, and what was queued before it first, in commits of at most 300 entries' worth.
      store.queueEnd(call('big', { state: 'ended' }))
      await expect.poll(() => commits.length, { timeout: 2000, interval: 10 }).toBe(4)
      // The batches each committed alone: none, the first, the second, then the end.
      expect(commits).toEqual([0, 1, 2, 2])
    })

    it('upgrades a database left at the previous schema version, keeping its calls and their events', () => {
      store.close()
      const path = join(dir, 'previous.db')
      const old = new DatabaseSync(path)
      migrate(old, SCHEMA_VERSION - 1)
      const tables = (db: DatabaseSync) =>
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map(
          (t) => t.name
        )
      expect(tables(old)).not.toContain('event_batches')
      old.exec(
        `INSERT INTO calls (id, direction, mode, state, started_at, started_at_ms)
         VALUES ('old', 'outbound', 'echo', 'ended', '2026-03-10T12:00:00.000Z', 1773144000000)`
      )
      // Marks as that version stored them: an events row each.
      old.exec(
        `INSERT INTO events (call_id, at_ms, kind, data_json) VALUES ('old', 0, 'call.start', NULL),
           ('old', 40, 'mark.sent', '{"name":"0:1"}'), ('old', 90, 'mark.played', '{"name":"0:1"}')`
      )
      old.close()
      store = CallStore.open({ path, flushIntervalMs: 60_000 })
      expect((store.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
        SCHEMA_VERSION
      )
      expect(tables(store.db)).toContain('event_batches')
      store.queueEventBatch('old', [{ atMs: 60, kind: 'mark.sent', data: { name: '0:2' } }])
      expect(store.getCall('old')!.events).toStrictEqual([
        { atMs: 0, kind: 'call.start' },
        { atMs: 40, kind: 'mark.sent', data: { name: '0:1' } },
        { atMs: 60, kind: 'mark.sent', data: { name: '0:2' } },
        { atMs: 90, kind: 'mark.played', data: { name: '0:1' } }
      ])
    })
  })

  describe('history query', () => {
    beforeEach(() => {
      const base = Date.parse('2026-03-01T00:00:00Z')
      for (let i = 0; i < 30; i++) {
        const id = `h${String(i).padStart(2, '0')}`
        const startedAt = new Date(base + i * 86_400_000).toISOString()
        const live = call(id, {
          startedAt,
          direction: i % 3 === 0 ? 'inbound' : 'outbound',
          mode: i % 2 === 0 ? 'echo' : 'cascade',
          from: '+1 (555) 010-0' + String(100 + i),
          to: '+15550109999',
          ...(i % 5 === 0 ? { profileId: 'p-sales' } : {})
        })
        store.queueCall(live)
        store.queueTranscript(id, {
          atMs: 100,
          role: 'caller',
          text: i === 7 ? 'I want to book a table for two' : `question number ${i}`
        })
        store.queueTranscript(id, {
          atMs: 900,
          role: 'agent',
          text: i === 12 ? 'Your table booking is confirmed' : 'sure'
        })
        store.queueEnd({ ...live, state: 'ended', endedAt: startedAt, endReason: i === 4 ? 'busy' : 'caller_hangup' })
      }
      store.queueAnsweredBy('h09', 'machine_start')
    })

    it('pages newest first with the total', () => {
      const p1 = store.listCalls(q({ pageSize: '10' }))
      expect(p1.total).toBe(30)
      expect(p1.calls.map((c) => c.id).slice(0, 3)).toEqual(['h29', 'h28', 'h27'])
      const p3 = store.listCalls(q({ page: '3', pageSize: '10' }))
      expect(p3.calls.map((c) => c.id).at(-1)).toBe('h00')
      expect(store.listCalls(q({ page: '4', pageSize: '10' })).calls).toEqual([])
    })

    it('filters by date range (a bare `to` date takes in that whole day)', () => {
      const r = store.listCalls(q({ from: '2026-03-05', to: '2026-03-07' }))
      expect(r.calls.map((c) => c.id)).toEqual(['h06', 'h05', 'h04'])
      const exact = store.listCalls(q({ from: '2026-03-05T00:00:00Z', to: '2026-03-07T00:00:00Z' }))
      expect(exact.calls.map((c) => c.id)).toEqual(['h05', 'h04'])
    })

    it('filters by direction, number digits, mode, profile and outcome', () => {
      expect(store.listCalls(q({ direction: 'inbound' })).total).toBe(10)
      expect(store.listCalls(q({ number: '555-010-0107' })).calls.map((c) => c.id)).toEqual(['h07'])
      expect(store.listCalls(q({ number: '5550109999' })).total).toBe(30)
      expect(store.listCalls(q({ mode: 'cascade' })).total).toBe(15)
      expect(store.listCalls(q({ profileId: 'p-sales' })).calls.map((c) => c.id)).toEqual([
        'h25',
        'h20',
        'h15',
        'h10',
        'h05',
        'h00'
      ])
      expect(store.listCalls(q({ outcome: 'busy' })).calls.map((c) => c.id)).toEqual(['h04'])
      expect(store.listCalls(q({ outcome: 'answering_machine' })).calls.map((c) => c.id)).toEqual(['h09'])
      expect(
        store.listCalls(q({ direction: 'inbound', mode: 'echo', profileId: 'p-sales' })).calls.map((c) => c.id)
      ).toEqual(['h00'])
    })

    it('searches the transcripts (word prefixes, every word, FTS syntax inert)', () => {
      expect(store.listCalls(q({ q: 'table' })).calls.map((c) => c.id)).toEqual(['h12', 'h07'])
      expect(store.listCalls(q({ q: 'book tab' })).calls.map((c) => c.id)).toEqual(['h12', 'h07'])
      expect(store.listCalls(q({ q: 'table two' })).calls.map((c) => c.id)).toEqual(['h07'])
      expect(store.listCalls(q({ q: 'table', direction: 'outbound' })).calls.map((c) => c.id)).toEqual(['h07'])
      expect(store.listCalls(q({ q: '"table* -' })).calls.map((c) => c.id)).toEqual(['h12', 'h07'])
      expect(store.listCalls(q({ q: 'NEAR(table OR) *' })).total).toBe(0)
      expect(store.listCalls(q({ q: 'zebra' })).total).toBe(0)
    })

    it('drops deleted calls from the search index with their rows', () => {
      expect(store.deleteCall('h07')).toBe(true)
      expect(store.listCalls(q({ q: 'table' })).calls.map((c) => c.id)).toEqual(['h12'])
      expect(store.getCall('h07')).toBeUndefined()
      const n = (t: string) =>
        (store.db.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE call_id = 'h07'`).get() as { n: number }).n
      expect([n('events'), n('transcript'), n('turns')]).toEqual([0, 0, 0])
      expect(store.deleteCall('h07')).toBe(false)
    })
  })

  it('looks contacts up by number whatever the formatting, after a CSV import', () => {
    const { contacts, skipped } = contactsFromCsv(
      'Name,Phone Number,Company,Tier\r\n"Doe, Jane",+1 (555) 010-0200,Acme,gold\r\nNo Number,,X,\r\nBob,0044 20 7946 0000,"The ""Shop""",\r\n'
    )
    expect(skipped).toBe(1)
    expect(store.upsertContacts(contacts)).toBe(2)
    expect(store.lookupContact('+15550100200')).toEqual({
      number: '+15550100200',
      name: 'Doe, Jane',
      company: 'Acme',
      fields: { tier: 'gold' }
    })
    expect(store.lookupContact('15550100200')?.name).toBe('Doe, Jane')
    expect(store.lookupContact('+442079460000')).toMatchObject({ name: 'Bob', company: 'The "Shop"' })
    expect(store.lookupContact('+15550100201')).toBeUndefined()
  })

  it('creates, reads, updates and deletes agent profiles', () => {
    const p = store.createProfile({
      name: 'Sales',
      mode: 'cascade',
      settings: { vad: { silenceMs: 700 } },
      amd: { enabled: true, onMachine: 'hangup', message: '', timeoutS: 30 }
    })
    expect(store.getProfile(p.id)).toEqual(p)
    const u = store.updateProfile(p.id, { ...p, name: 'Sales EU', settings: { voice: { voiceId: 'v1' } } })
    expect(u.name).toBe('Sales EU')
    expect(u.settings).toEqual({ voice: { voiceId: 'v1' } })
    expect(store.listProfiles().map((x) => x.name)).toEqual(['Sales EU'])
    expect(store.deleteProfile(p.id)).toBe(true)
    expect(() => store.updateProfile(p.id, u)).toThrow(/No such profile/)
  })
})

describe('history helpers', () => {
  it('quotes every word of a search and keeps none of the FTS syntax', () => {
    expect(ftsExpression('book a "table" OR*')).toBe('"book"* "a"* "table"* "OR"*')
    expect(ftsExpression('  -- ** ')).toBeUndefined()
  })

  it('parses RFC 4180 CSV: quotes, doubled quotes, line breaks in quotes, CRLF, BOM', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x, y","he said ""hi""\nthen"\n\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'he said "hi"\nthen'],
      ['1', '2']
    ])
  })

  it('derives outcomes from the end reason and AnsweredBy', () => {
    expect(outcomeOf({ endReason: 'caller_hangup' })).toBe('completed')
    expect(outcomeOf({ endReason: 'no-answer' })).toBe('no_answer')
    expect(outcomeOf({ endReason: 'engine_failed:upstream_failed' })).toBe('failed')
    expect(outcomeOf({ endReason: 'caller_hangup', answeredBy: 'fax' })).toBe('answering_machine')
    expect(outcomeOf({ endReason: 'caller_hangup', answeredBy: 'human' })).toBe('completed')
  })
})
