// Runs the built `callbench serve` on free ports with a throwaway data folder, and reads its Console line; optionally
// with the fake Twilio (REST, signed webhooks, Media Streams) and the fake OpenAI Realtime, the core pointed at them.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SECRET_NAMES } from '../../src/shared/settings.js'
import { FakeRealtimeServer, type FakeRealtimeOptions } from '../../test/fakes/openai-realtime.js'
import { FakeTwilio } from '../../test/fakes/twilio-rest.js'

const ROOT = join(import.meta.dirname, '..', '..')
const CLI = join(ROOT, 'out', 'main', 'cli.js')
const CONSOLE_LINE = /Console: (http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)/
const PUBLIC_LINE = /Public listener: http:\/\/127\.0\.0\.1:(\d+)/

/** The public URL the core is told it has; the fake Twilio maps it to the local public listener, as a tunnel would. */
export const E2E_PUBLIC_URL = 'https://callbench-e2e.example'
/** The Twilio number the core calls from. */
export const E2E_TWILIO_NUMBER = '+15550001111'

export interface ServeOptions {
  /** Extra environment (e.g. fake service base URLs); secrets from the caller's environment and ./.env never leak in. */
  env?: Record<string, string>
  /** Extra `serve` flags. */
  args?: string[]
  /** How long to wait for the Console line, ms. Default 20 000. */
  startTimeoutMs?: number
  /** Start the fake Twilio and give the core its account, auth token, API base URL and number. */
  twilio?: boolean
  /** Start the fake OpenAI Realtime with these options and give the core a key and its base URL. */
  openai?: FakeRealtimeOptions
}

export interface ServeHandle {
  /** `http://127.0.0.1:<port>/#token=<token>`, as printed. */
  consoleUrl: string
  controlUrl: string
  token: string
  dataDir: string
  /** Port of the core's public (Twilio-facing) listener. */
  publicPort: number
  twilio?: FakeTwilio
  openai?: FakeRealtimeServer
  /** Everything the process wrote so far (for failure messages). */
  output(): string
  /** Stops the process (SIGTERM) and removes the data folder. */
  stop(): Promise<void>
}

export async function startServe(opts: ServeOptions = {}): Promise<ServeHandle> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callbench-e2e-'))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !(SECRET_NAMES as readonly string[]).includes(k)) env[k] = v
  }
  let publicPort = 0
  const twilio = opts.twilio
    ? new FakeTwilio({
        resolve: (url) => {
          const u = new URL(url)
          return `${u.protocol.startsWith('ws') ? 'ws' : 'http'}://127.0.0.1:${publicPort}${u.pathname}${u.search}`
        }
      })
    : undefined
  const openai = opts.openai ? await FakeRealtimeServer.start(opts.openai) : undefined
  if (twilio) {
    await twilio.start()
    Object.assign(env, {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.baseUrl,
      TWILIO_PHONE_NUMBER: E2E_TWILIO_NUMBER
    })
  }
  if (openai) Object.assign(env, { OPENAI_API_KEY: 'sk-e2e-fake', OPENAI_BASE_URL: openai.baseUrl })
  Object.assign(env, opts.env)
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--no-tunnel',
      '--public-port',
      '0',
      '--control-port',
      '0',
      '--data-dir',
      dataDir,
      ...(twilio ? ['--public-url', E2E_PUBLIC_URL] : []),
      ...(opts.args ?? [])
    ],
    // cwd is the empty data folder so that the developer's ./.env does not configure the core under test.
    { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s))

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    await Promise.allSettled([twilio?.close(), openai?.close()])
    await rm(dataDir, { recursive: true, force: true })
  }

  try {
    const [, controlUrl, token] = await waitForConsoleLine(child, () => output, opts.startTimeoutMs ?? 20_000)
    publicPort = Number(PUBLIC_LINE.exec(output)?.[1] ?? 0)
    return {
      consoleUrl: `${controlUrl}/#token=${token}`,
      controlUrl: controlUrl!,
      token: token!,
      dataDir,
      publicPort,
      ...(twilio ? { twilio } : {}),
      ...(openai ? { openai } : {}),
      output: () => output,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

function waitForConsoleLine(child: ChildProcess, output: () => string, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = CONSOLE_LINE.exec(output())
      // The public listener's line follows the Console line.
      if (!match || !PUBLIC_LINE.test(output())) return
      cleanup()
      resolve(match)
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`callbench serve exited (${code}) before printing its Console line:\n${output()}`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`callbench serve printed no Console line within ${timeoutMs} ms:\n${output()}`))
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.off('exit', onExit)
    }
    child.stdout?.on('data', check)
    child.once('exit', onExit)
    check()
  })
}
