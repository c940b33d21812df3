/** CLI `call`, `status`, `hangup`, `list`: through the running app's control API when one runs, else Twilio directly. */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { CallbenchError } from '../shared/errors.js'
import { AGENT_MODES, isAgentMode } from '../shared/modes.js'
import { isE164, type HangupResult, type PlaceCallResult, type TwilioCallView } from '../shared/telephony.js'
import type { CallSummary } from '../shared/calls.js'
import { defaultDataDir } from './data-dir.js'
import { readRuntimeFile } from './runtime-file.js'
import { EnvSecretStore, readEnvFile } from './settings/secrets.js'
import { isNotFound, twilioClient, twilioError, type TwilioClient } from './telephony/twilio-client.js'

/** Exit codes, for scripts. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, notConfigured: 4 } as const

export interface CliIo {
  out(text: string): void
  err(text: string): void
  env: Record<string, string | undefined>
}

const defaultIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env
}

const COMMON = {
  'data-dir': { type: 'string' },
  'env-file': { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

const HELP: Record<string, string> = {
  call: `Usage: callbench call --to <E.164> [options]

Places a test call. With callbench running (same --data-dir), the call goes through it and its agent answers.
Without it, pass --public-url of a callbench that Twilio can reach; the call is placed with your Twilio keys.

  --to <E.164>          number to call (required), e.g. +15551234567
  --from <E.164>        caller id (default: the configured Twilio number)
  --profile <id>        agent profile
  --mode <engine>       engine instead of a profile: ${AGENT_MODES.join(', ')}
  --record              record the call on Twilio's side (dual channel)
  --amd                 answering-machine detection (--amd-wait-beep: wait for the beep)
  --timeout <s>         ring time before no-answer (5–600)
  --wait                wait until the call ends; exit code 0 only if it completed
  --public-url <url>    (without a running app) a callbench Twilio reaches
`,
  status: 'Usage: callbench status <call id | CA sid> [--json]\n',
  hangup: 'Usage: callbench hangup <call id | CA sid> [--json]\n',
  list: 'Usage: callbench list [--active] [--limit <n>] [--json]\n'
}

const FOOTER = `
Common options: --data-dir <path>  --env-file <path>  --json  -h
Exit codes: 0 ok · 1 failed · 2 bad usage · 3 call not found · 4 not configured (no running app, no Twilio keys)
`

class UsageError extends Error {}

/** How we reach Twilio: the running app, or the account directly. */
type Target = { kind: 'app'; controlUrl: string; token: string } | { kind: 'direct'; client: () => Promise<TwilioClient> }

async function target(values: { 'data-dir'?: string | undefined; 'env-file'?: string[] | undefined }, io: CliIo): Promise<Target> {
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir(io.env))
  const running = await readRuntimeFile(dataDir)
  if (running) return { kind: 'app', controlUrl: running.controlUrl, token: running.token }
  const envFiles = values['env-file'] ?? (existsSync('.env') ? [resolve('.env')] : [])
  const fileConfig: Record<string, string> = {}
  for (const f of envFiles) Object.assign(fileConfig, await readEnvFile(f))
  const secrets = await EnvSecretStore.open({ env: io.env, envFiles })
  const config = (name: string) => io.env[name] || fileConfig[name] || undefined
  return { kind: 'direct', client: () => twilioClient({ secrets, config }) }
}

async function request<T>(t: Extract<Target, { kind: 'app' }>, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(t.controlUrl + path, {
      method,
      headers: { authorization: `Bearer ${t.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
  } catch (err) {
    throw new CallbenchError('upstream_failed', `callbench at ${t.controlUrl} did not answer`, { cause: err })
  }
  const data = (await res.json().catch(() => ({}))) as T & { error?: { code: CallbenchError['code']; message: string } }
  if (!res.ok) throw new CallbenchError(data.error?.code ?? 'internal', data.error?.message ?? `HTTP ${res.status}`)
  return data
}

function exitFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage
  if (err instanceof CallbenchError) {
    if (err.code === 'call_not_found' || err.code === 'not_found') return EXIT.notFound
    if (err.code === 'not_configured') return EXIT.notConfigured
    if (err.code === 'bad_request') return EXIT.usage
  }
  return EXIT.failed
}

function run(
  name: string,
  options: ParseArgsOptionsConfig,
  fn: (values: Record<string, string | boolean | string[] | undefined>, positionals: string[], io: CliIo) => Promise<number>
) {
  return async (argv: string[], io: CliIo = defaultIo): Promise<number> => {
    try {
      const parsed = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true })
      const values = parsed.values as Record<string, string | boolean | string[] | undefined>
      const positionals = parsed.positionals
      if (values.help) {
        io.out(HELP[name]! + FOOTER)
        return EXIT.ok
      }
      return await fn(values, positionals, io)
    } catch (err) {
      const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      io.err(`callbench ${name}: ${(err as Error).message}\n`)
      if (usage) {
        io.err(HELP[name]!)
        return EXIT.usage
      }
      return exitFor(err)
    }
  }
}

const TERMINAL = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled'])

function viewOf(c: Awaited<ReturnType<ReturnType<TwilioClient['calls']>['fetch']>>): TwilioCallView {
  return {
    callSid: c.sid,
    status: c.status as TwilioCallView['status'],
    direction: c.direction,
    ...(c.from ? { from: c.from } : {}),
    ...(c.to ? { to: c.to } : {}),
    ...(c.answeredBy ? { answeredBy: c.answeredBy } : {}),
    ...(c.startTime ? { startTime: new Date(c.startTime).toISOString() } : {}),
    ...(c.endTime ? { endTime: new Date(c.endTime).toISOString() } : {}),
    ...(c.duration ? { durationS: Number(c.duration) } : {})
  }
}

function line(v: TwilioCallView): string {
  const parts = [v.callSid, v.status, v.direction, `${v.from ?? '?'} -> ${v.to ?? '?'}`]
  if (v.durationS !== undefined) parts.push(`${v.durationS}s`)
  if (v.answeredBy) parts.push(`answeredBy=${v.answeredBy}`)
  if (v.callId) parts.push(`id=${v.callId}`)
  return parts.join('  ') + '\n'
}

function sidOf(id: string): string {
  if (!/^CA[0-9a-f]{32}$/.test(id)) throw new UsageError('without a running callbench, give the Twilio call sid (CA…)')
  return id
}

async function fetchView(t: Target, id: string): Promise<TwilioCallView> {
  if (t.kind === 'app') return request<TwilioCallView>(t, 'GET', `/api/calls/${encodeURIComponent(id)}/twilio`)
  const client = await t.client()
  try {
    return viewOf(await client.calls(sidOf(id)).fetch())
  } catch (err) {
    if (isNotFound(err)) throw new CallbenchError('call_not_found', 'Twilio has no call with that sid')
    throw twilioError(err, 'fetch the call')
  }
}

const call = run(
  'call',
  {
    to: { type: 'string' },
    from: { type: 'string' },
    profile: { type: 'string' },
    mode: { type: 'string' },
    record: { type: 'boolean' },
    amd: { type: 'boolean' },
    'amd-wait-beep': { type: 'boolean' },
    timeout: { type: 'string' },
    wait: { type: 'boolean' },
    'public-url': { type: 'string' }
  },
  async (v, _pos, io) => {
    const to = v.to as string | undefined
    if (!to) throw new UsageError('--to is required')
    if (!isE164(to)) throw new UsageError(`--to must be an E.164 number such as +15551234567, got '${to}'`)
    const from = v.from as string | undefined
    if (from && !isE164(from)) throw new UsageError('--from must be an E.164 number')
    if (v.mode !== undefined && !isAgentMode(v.mode)) throw new UsageError(`--mode must be one of ${AGENT_MODES.join(', ')}`)
    if (v.mode && v.profile) throw new UsageError('give --profile or --mode, not both')
    const timeoutS = v.timeout === undefined ? undefined : Number(v.timeout)
    if (timeoutS !== undefined && (!Number.isInteger(timeoutS) || timeoutS < 5 || timeoutS > 600)) throw new UsageError('--timeout must be 5–600 seconds')
    const machineDetection = v['amd-wait-beep'] ? 'detect-message-end' : v.amd ? 'enable' : undefined
    const t = await target(v as { 'data-dir'?: string; 'env-file'?: string[] }, io)

    let placed: PlaceCallResult
    if (t.kind === 'app') {
      placed = await request<PlaceCallResult>(t, 'POST', '/api/calls', {
        to,
        ...(from ? { from } : {}),
        ...(v.profile ? { profileId: v.profile } : {}),
        ...(v.mode ? { mode: v.mode } : {}),
        record: Boolean(v.record),
        ...(machineDetection ? { machineDetection } : {}),
        ...(timeoutS ? { timeoutS } : {})
      })
    } else {
      const publicUrl = (v['public-url'] as string | undefined)?.replace(/\/+$/, '')
      if (!publicUrl) {
        throw new CallbenchError(
          'not_configured',
          'no running callbench found for this data folder (start `callbench serve`, or give --data-dir), and no --public-url of one that Twilio can reach'
        )
      }
      const callerId = from ?? io.env.TWILIO_PHONE_NUMBER
      if (!callerId) throw new CallbenchError('not_configured', 'no caller id: pass --from or set TWILIO_PHONE_NUMBER')
      const client = await t.client()
      try {
        const created = await client.calls.create({
          to,
          from: callerId,
          url: `${publicUrl}/twilio/voice`,
          method: 'POST',
          statusCallback: `${publicUrl}/twilio/status`,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
          ...(timeoutS ? { timeout: timeoutS } : {}),
          ...(v.record ? { record: true, recordingChannels: 'dual' } : {}),
          ...(machineDetection ? { machineDetection: machineDetection === 'enable' ? 'Enable' : 'DetectMessageEnd', asyncAmd: 'true' } : {})
        })
        placed = { callId: created.sid, callSid: created.sid, status: created.status as PlaceCallResult['status'] }
      } catch (err) {
        throw twilioError(err, 'place the call')
      }
    }
    if (v.json && !v.wait) io.out(JSON.stringify(placed) + '\n')
    else if (!v.wait) io.out(`${placed.callSid}  ${placed.status}  id=${placed.callId}\n`)
    if (!v.wait) return EXIT.ok

    const id = t.kind === 'app' ? placed.callId : placed.callSid
    let view = await fetchView(t, id)
    while (!TERMINAL.has(view.status)) {
      await new Promise((r) => setTimeout(r, 1000))
      view = await fetchView(t, id)
    }
    io.out(v.json ? JSON.stringify(view) + '\n' : line(view))
    return view.status === 'completed' ? EXIT.ok : EXIT.failed
  }
)

const status = run('status', {}, async (v, pos, io) => {
  const id = pos[0]
  if (!id) throw new UsageError('give a call id or CA sid')
  const view = await fetchView(await target(v as { 'data-dir'?: string }, io), id)
  io.out(v.json ? JSON.stringify(view) + '\n' : line(view))
  return EXIT.ok
})

const hangup = run('hangup', {}, async (v, pos, io) => {
  const id = pos[0]
  if (!id) throw new UsageError('give a call id or CA sid')
  const t = await target(v as { 'data-dir'?: string }, io)
  let result: HangupResult
  if (t.kind === 'app') {
    result = await request<HangupResult>(t, 'POST', `/api/calls/${encodeURIComponent(id)}/hangup`)
  } else {
    const callSid = sidOf(id)
    const client = await t.client()
    try {
      const updated = await client.calls(callSid).update({ status: 'completed' })
      result = { callSid, status: updated.status as HangupResult['status'], alreadyEnded: false }
    } catch (err) {
      // Twilio error 20404: the call has already ended. Not an error for a hang-up.
      if (!isNotFound(err)) throw twilioError(err, 'hang up the call')
      result = { callSid, status: 'completed', alreadyEnded: true }
    }
  }
  io.out(v.json ? JSON.stringify(result) + '\n' : `${result.callSid}  ${result.alreadyEnded ? 'already ended' : 'hung up'}\n`)
  return EXIT.ok
})

const list = run('list', { active: { type: 'boolean' }, limit: { type: 'string' } }, async (v, _pos, io) => {
  const limit = v.limit === undefined ? 20 : Number(v.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new UsageError('--limit must be 1–200')
  const t = await target(v as { 'data-dir'?: string }, io)
  if (t.kind === 'app') {
    const { calls } = await request<{ calls: CallSummary[] }>(t, 'GET', `/api/calls?pageSize=${limit}`)
    const shown = v.active ? calls.filter((c) => c.state !== 'ended') : calls
    if (v.json) io.out(JSON.stringify(shown) + '\n')
    else
      for (const c of shown) {
        io.out([c.id, c.callSid ?? '-', c.twilioStatus ?? c.state, c.direction, c.mode, `${c.from ?? '?'} -> ${c.to ?? '?'}`, c.startedAt].join('  ') + '\n')
      }
    return EXIT.ok
  }
  const client = await t.client()
  let views: TwilioCallView[]
  try {
    const pages = v.active
      ? await Promise.all((['queued', 'ringing', 'in-progress'] as const).map((s) => client.calls.list({ status: s, limit })))
      : [await client.calls.list({ limit })]
    views = pages.flat().map(viewOf)
  } catch (err) {
    throw twilioError(err, 'list calls')
  }
  if (v.json) io.out(JSON.stringify(views) + '\n')
  else for (const view of views) io.out(line(view))
  return EXIT.ok
})

export const COMMANDS = { call, status, hangup, list }
