// Runs the built `callbench serve` on free ports with a throwaway data folder, and reads its Console line.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SECRET_NAMES } from '../../src/shared/settings.js'

const ROOT = join(import.meta.dirname, '..', '..')
const CLI = join(ROOT, 'out', 'main', 'cli.js')
const CONSOLE_LINE = /Console: (http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)/

export interface ServeOptions {
  /** Extra environment (e.g. fake service base URLs); secrets from the caller's environment and ./.env never leak in. */
  env?: Record<string, string>
  /** Extra `serve` flags. */
  args?: string[]
  /** How long to wait for the Console line, ms. Default 20 000. */
  startTimeoutMs?: number
}

export interface ServeHandle {
  /** `http://127.0.0.1:<port>/#token=<token>`, as printed. */
  consoleUrl: string
  controlUrl: string
  token: string
  dataDir: string
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
    await rm(dataDir, { recursive: true, force: true })
  }

  try {
    const [, controlUrl, token] = await waitForConsoleLine(child, () => output, opts.startTimeoutMs ?? 20_000)
    return {
      consoleUrl: `${controlUrl}/#token=${token}`,
      controlUrl: controlUrl!,
      token: token!,
      dataDir,
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
      if (!match) return
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
