#!/usr/bin/env node
// `node scripts/node24.mjs scripts/history-query-time.mjs [--calls 1000] [--runs 30]`: fills a fresh call log with
// calls (transcripts, turns, timelines), then times the history query with filters and a transcript search.
// Exits 1 when a query takes 50 ms or more.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { register } from 'tsx/esm/api'

register()
const { CallStore } = await import('../src/main/storage/call-store.ts')
const { CallListQuerySchema } = await import('../src/shared/records.ts')

const BUDGET_MS = 50
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const CALLS = arg('calls', 1000)
const RUNS = arg('runs', 30)

// Deterministic data: the same log on every run.
let seed = 42
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
const pick = (xs) => xs[Math.floor(rand() * xs.length)]

const CALLER = [
  'I would like to check the status of my order',
  'Can I get a refund for the last delivery',
  'My package never arrived and I am worried',
  'I want to book a table for two tonight',
  'What time do you open on Sunday',
  'Please change my delivery address',
  'Is there a discount for returning customers',
  'I need to cancel my subscription',
  'The invoice shows the wrong amount',
  'Can you hear me, the line is bad'
]
const AGENT = [
  'Sure, let me look that up for you',
  'Your order is on its way and should arrive tomorrow',
  'I have issued the refund, it takes three to five days',
  'Your table is booked for eight pm',
  'We open at ten on Sundays',
  'I have updated the address on your account',
  'I am sorry about that, let me check with the courier',
  'Your subscription is cancelled, you will get a confirmation email'
]
const MODES = ['echo', 'openai-realtime', 'elevenlabs', 'cascade', 'hybrid']
const REASONS = [
  'caller_hangup',
  'caller_hangup',
  'caller_hangup',
  'agent_hangup',
  'busy',
  'no-answer',
  'engine_failed:upstream_failed'
]

const dir = mkdtempSync(join(tmpdir(), 'callbench-history-'))
const path = join(dir, 'callbench.db')
try {
  let store = CallStore.open({ path, flushIntervalMs: 60_000 })
  const nowMs = Date.UTC(2026, 10, 21, 12)
  const t0 = performance.now()
  let segments = 0
  for (let i = 0; i < CALLS; i++) {
    const id = `call-${String(i).padStart(5, '0')}`
    const startedMs = nowMs - Math.floor(rand() * 90 * 86_400_000)
    const direction = pick(['inbound', 'outbound', 'outbound', 'loopback'])
    const call = {
      id,
      direction,
      mode: pick(MODES),
      state: 'active',
      startedAt: new Date(startedMs).toISOString(),
      from: `+1555010${String(Math.floor(rand() * 10_000)).padStart(4, '0')}`,
      to: '+15550109999',
      ...(rand() < 0.3 ? { profileId: pick(['p-sales', 'p-support', 'p-booking']) } : {})
    }
    store.queueCall(call)
    const turns = 3 + Math.floor(rand() * 10)
    let atMs = 1500
    for (let t = 1; t <= turns; t++) {
      store.queueTranscript(id, { atMs, role: 'caller', text: pick(CALLER) })
      const stopped = atMs + 1800
      const out = stopped + 400 + Math.floor(rand() * 900)
      store.queueTurn(id, {
        turn: t,
        callerStoppedAtMs: stopped,
        endOfTurnAtMs: stopped + 500,
        firstAudioOutAtMs: out,
        totalMs: out - stopped
      })
      store.queueTranscript(id, { atMs: out, role: 'agent', text: pick(AGENT) })
      for (const kind of ['vad.speech_start', 'vad.speech_end', 'reply.start', 'reply.end'])
        store.queueEvent(id, { atMs, kind, data: { turn: t } })
      segments += 2
      atMs = out + 3000
    }
    if (rand() < 0.1) store.queueAnsweredBy(id, pick(['machine_start', 'machine_end_beep']))
    store.queueEnd({
      ...call,
      state: 'ended',
      endedAt: new Date(startedMs + atMs).toISOString(),
      endReason: pick(REASONS),
      turns
    })
    if (i % 100 === 99) store.flush()
  }
  store.flush()
  const fillMs = performance.now() - t0
  store.close()

  // A fresh connection, as after an app start: the first query pays for preparing its statements.
  store = CallStore.open({ path })
  const query = CallListQuerySchema.parse({
    from: new Date(nowMs - 60 * 86_400_000).toISOString(),
    direction: 'outbound',
    q: 'refund deliv',
    pageSize: '50'
  })
  const times = []
  let result
  for (let r = 0; r < RUNS; r++) {
    const s = performance.now()
    result = store.listCalls(query)
    times.push(performance.now() - s)
  }
  // A second query shape: number digits + outcome + text, paged.
  const other = CallListQuerySchema.parse({
    number: '555010',
    outcome: 'completed',
    q: 'table booked',
    page: '2',
    pageSize: '20'
  })
  const otherTimes = []
  let otherResult
  for (let r = 0; r < RUNS; r++) {
    const s = performance.now()
    otherResult = store.listCalls(other)
    otherTimes.push(performance.now() - s)
  }
  store.close()

  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return { first: xs[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] }
  }
  const fmt = (v) => v.toFixed(2)
  const a = stats(times)
  const b = stats(otherTimes)
  console.log(`call log: ${CALLS} calls, ${segments} transcript segments (filled in ${fmt(fillMs)} ms)`)
  console.log(
    `history query (from 60 days, outbound, q="refund deliv", 50/page): ${result.total} matches; ` +
      `first ${fmt(a.first)} ms, median ${fmt(a.median)} ms, max ${fmt(a.max)} ms over ${RUNS} runs`
  )
  console.log(
    `history query (number 555010, completed, q="table booked", page 2): ${otherResult.total} matches; ` +
      `first ${fmt(b.first)} ms, median ${fmt(b.median)} ms, max ${fmt(b.max)} ms over ${RUNS} runs`
  )
  const worst = Math.max(a.max, b.max)
  console.log(
    worst < BUDGET_MS
      ? `OK: every query under ${BUDGET_MS} ms (worst ${fmt(worst)} ms)`
      : `FAIL: worst ${fmt(worst)} ms ≥ ${BUDGET_MS} ms`
  )
  if (result.total === 0 || otherResult.total === 0) {
    console.log('FAIL: a query matched nothing; the data set does not exercise the search')
    process.exitCode = 1
  }
  if (worst >= BUDGET_MS) process.exitCode = 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
