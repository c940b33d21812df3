/** cloudflared quick-tunnel manager: finds the binary, runs it, reads its URL, checks it end to end, restarts it. */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { access, constants, mkdir, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { DEFAULT_CLOUDFLARED_BIN } from 'cloudflared'
import { CallbenchError } from '../../shared/errors.js'
import type { TunnelState } from '../../shared/events.js'
import type { Logger } from '../log.js'

/** The tunnel's own hostname; `api.trycloudflare.com` also appears in cloudflared's error lines (PROTOCOLS §7). */
export const QUICK_TUNNEL_URL = /https:\/\/(?!api\.)[a-z0-9-]+\.trycloudflare\.com/
const REGISTERED = /Registered tunnel connection/
const ERROR_LINE = /\s(ERR|FTL)\s+(.*)$/

export const CLOUDFLARED_MISSING_HELP =
  'cloudflared was not found. Install it (npm install cloudflared in this folder, or your system package manager, ' +
  'e.g. `brew install cloudflared`, or the package from Cloudflare\'s downloads page), then point Callbench at it with ' +
  '--cloudflared <path> or CLOUDFLARED_PATH. Or skip the tunnel: pass --public-url <https URL> that reaches this ' +
  "machine's public port (a reverse proxy, ngrok…)."

export interface FoundBinary {
  path: string
  /** First line of `cloudflared --version`. */
  version: string
  source: 'option' | 'env' | 'package' | 'path'
}

export interface FindOptions {
  /** `--cloudflared <path>`: wins over everything, and is an error when it does not run. */
  explicitPath?: string | undefined
  /** Environment: `CLOUDFLARED_PATH`, then `PATH` are read. */
  env: Record<string, string | undefined>
  /** The `cloudflared` npm package's binary. Default: the package's own path. */
  packageBin?: string
  /** Time allowed for `--version`, ms. Default 10 000. */
  versionTimeoutMs?: number
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function versionOf(path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['--version'], { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      const first = (stdout || stderr).split('\n')[0]!.trim()
      if (err) reject(err)
      // The npm wrapper's own `cloudflared` shim exits 0 and prints nothing when its download failed.
      else if (!/cloudflared version/i.test(first)) reject(new Error(`not cloudflared: '${first.slice(0, 80)}'`))
      else resolve(first)
    })
  })
}

/** Finds a cloudflared that exists and answers `--version`: option, CLOUDFLARED_PATH, the npm package, then PATH. */
export async function findCloudflared(opts: FindOptions): Promise<FoundBinary> {
  const timeoutMs = opts.versionTimeoutMs ?? 10_000
  const named: Array<[string, FoundBinary['source']]> = []
  if (opts.explicitPath) named.push([opts.explicitPath, 'option'])
  else if (opts.env.CLOUDFLARED_PATH) named.push([opts.env.CLOUDFLARED_PATH, 'env'])
  // A path the user named must work; falling back to another binary would hide their mistake.
  for (const [path, source] of named) {
    if (!(await isExecutable(path))) {
      throw new CallbenchError('not_configured', `cloudflared not found or not executable at ${path}. ${CLOUDFLARED_MISSING_HELP}`)
    }
    try {
      return { path, source, version: await versionOf(path, timeoutMs) }
    } catch (err) {
      throw new CallbenchError('not_configured', `cloudflared at ${path} does not run (--version failed). ${CLOUDFLARED_MISSING_HELP}`, {
        cause: err
      })
    }
  }
  const exe = process.platform === 'win32' ? 'cloudflared.exe' : 'cloudflared'
  const candidates: Array<[string, FoundBinary['source']]> = [[opts.packageBin ?? DEFAULT_CLOUDFLARED_BIN, 'package']]
  for (const dir of (opts.env.PATH ?? '').split(delimiter)) if (dir) candidates.push([join(dir, exe), 'path'])
  for (const [path, source] of candidates) {
    if (!(await isExecutable(path))) continue
    try {
      return { path, source, version: await versionOf(path, timeoutMs) }
    } catch {
      // A broken candidate (e.g. a half-downloaded package binary): try the next one.
    }
  }
  throw new CallbenchError('not_configured', CLOUDFLARED_MISSING_HELP)
}

export interface TunnelOptions {
  /** The public listener, e.g. `http://127.0.0.1:5050`. */
  localUrl: string
  /** `--cloudflared <path>`. */
  binary?: string | undefined
  /** Environment the process runs with; also where CLOUDFLARED_PATH and PATH are read. */
  env: Record<string, string | undefined>
  /** Folder for the empty config file we pass (so `~/.cloudflared/config.yml` cannot take over). */
  workDir: string
  log: Logger
  /** End-to-end check that an HTTP request and a WebSocket upgrade through `publicUrl` reach the public listener. */
  probe: (publicUrl: string) => Promise<void>
  /** The npm package's binary path. Default: the package's own. */
  packageBin?: string
  /** From spawn to a registered connection, ms. Default 45 000. */
  startTimeoutMs?: number
  /** Probe retries run this long (new hostnames take a while to resolve), ms. Default 30 000. */
  probeWindowMs?: number
  /** First restart delay after a crash, doubled each time up to `restartMaxMs`. Defaults 1 000 and 60 000. */
  restartInitialMs?: number
  restartMaxMs?: number
  /** Period of the wake-from-sleep check, ms. Default 10 000. */
  wakeCheckEveryMs?: number
  /** Wall clock running this much ahead of the monotonic clock between two checks means the machine slept. Default 20 000. */
  wakeJumpMs?: number
  /** Clocks, for the sleep detector. Default Date.now and performance.now. */
  clock?: { wallMs(): number; monoMs(): number }
}

export interface TunnelEvents {
  state: [TunnelState]
  /** The tunnel passed its end-to-end check at this URL (again, after a restart or a wake-up). */
  ready: [publicUrl: string]
  /** cloudflared printed its URL; `printedAtMs` is Date.now() when we read the line. */
  url: [publicUrl: string, readAtMs: number]
}

/** Delay before restart attempt `attempt` (0-based). */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
}

/** Runs one quick tunnel at a time; restarts it with backoff while started. */
export class CloudflaredTunnel extends EventEmitter<TunnelEvents> {
  readonly #opts: TunnelOptions
  readonly #log: Logger
  #state: TunnelState = { status: 'off' }
  #child: ChildProcess | undefined
  #wanted = false
  #attempt = 0
  #readyAtMs = 0
  #restartTimer: NodeJS.Timeout | undefined
  #startTimer: NodeJS.Timeout | undefined
  #wakeTimer: NodeJS.Timeout | undefined
  #lastWallMs = 0
  #lastMonoMs = 0
  #generation = 0
  #binary: FoundBinary | undefined

  constructor(opts: TunnelOptions) {
    super()
    this.#opts = opts
    this.#log = opts.log.child({ component: 'tunnel' })
  }

  get state(): TunnelState {
    return this.#state
  }

  get binary(): FoundBinary | undefined {
    return this.#binary
  }

  /** Starts the tunnel (no-op when already started). Rejects only when the binary cannot be found. */
  async start(): Promise<void> {
    if (this.#wanted) return
    this.#wanted = true
    this.#attempt = 0
    this.#setState({ status: 'starting' })
    try {
      this.#binary = await findCloudflared({
        explicitPath: this.#opts.binary,
        env: this.#opts.env,
        ...(this.#opts.packageBin ? { packageBin: this.#opts.packageBin } : {})
      })
    } catch (err) {
      this.#wanted = false
      const message = err instanceof Error ? err.message : String(err)
      this.#log.warn('no tunnel: loopback calls work; Twilio needs a public URL', { help: message })
      this.#setState({ status: 'error', message })
      throw err
    }
    this.#log.info('cloudflared found', { path: this.#binary.path, source: this.#binary.source, version: this.#binary.version })
    await mkdir(this.#opts.workDir, { recursive: true })
    await writeFile(this.#configPath(), '')
    this.#startWakeCheck()
    this.#launch()
  }

  /** Stops the process and every timer; resolves once the process has exited. */
  async stop(): Promise<void> {
    this.#wanted = false
    this.#generation++
    clearTimeout(this.#restartTimer)
    clearTimeout(this.#startTimer)
    clearInterval(this.#wakeTimer)
    this.#wakeTimer = undefined
    await this.#kill()
    this.#setState({ status: 'off' })
  }

  /** Probes the current URL again; restarts the process if it no longer reaches us. */
  async recheck(): Promise<boolean> {
    const url = this.#state.publicUrl
    if (!this.#wanted || this.#state.status !== 'ready' || !url) return false
    const gen = this.#generation
    try {
      await this.#opts.probe(url)
      this.#log.info('tunnel recheck passed')
      return true
    } catch (err) {
      if (gen !== this.#generation) return false
      this.#log.warn('tunnel recheck failed, restarting', { err: err as Error })
      this.#setState({ status: 'starting', message: 'Tunnel stopped answering; restarting' })
      void this.#kill()
      return false
    }
  }

  #configPath(): string {
    return join(this.#opts.workDir, 'cloudflared-empty.yml')
  }

  #setState(state: TunnelState): void {
    this.#state = state
    this.emit('state', state)
  }

  #launch(): void {
    const gen = ++this.#generation
    const bin = this.#binary!.path
    const args = ['tunnel', '--no-autoupdate', '--config', this.#configPath(), '--url', this.#opts.localUrl]
    const child = spawn(bin, args, { env: this.#opts.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    this.#child = child
    // If this process exits without stop() (a crash, process.exit), the tunnel must not outlive it.
    const killOnExit = () => child.kill('SIGKILL')
    process.once('exit', killOnExit)
    this.#log.info('cloudflared starting', { pid: child.pid, attempt: this.#attempt })
    let url: string | undefined
    let registered = false
    let lastError: string | undefined

    const onLine = (line: string) => {
      if (gen !== this.#generation) return
      const err = ERROR_LINE.exec(line)
      if (err) lastError = err[2]!.slice(0, 300)
      if (!url) {
        const m = QUICK_TUNNEL_URL.exec(line)
        if (m) {
          url = m[0]
          const readAtMs = Date.now()
          this.#log.info('tunnel url received', { publicUrl: url })
          this.emit('url', url, readAtMs)
        }
        return
      }
      if (!registered && REGISTERED.test(line)) {
        registered = true
        clearTimeout(this.#startTimer)
        void this.#probeUntilReady(gen, url)
      }
    }
    createInterface({ input: child.stderr! }).on('line', onLine)
    createInterface({ input: child.stdout! }).on('line', onLine)

    this.#startTimer = setTimeout(() => {
      if (gen !== this.#generation || registered) return
      this.#log.warn('cloudflared did not register in time, restarting', { timeoutMs: this.#opts.startTimeoutMs ?? 45_000 })
      lastError = 'No tunnel connection registered in time'
      child.kill('SIGKILL')
    }, this.#opts.startTimeoutMs ?? 45_000)

    let exited = false
    const onExit = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (exited) return
      exited = true
      process.off('exit', killOnExit)
      if (this.#child === child) this.#child = undefined
      if (gen !== this.#generation || !this.#wanted) return
      clearTimeout(this.#startTimer)
      // A tunnel that stayed up a while earned a fresh backoff.
      if (this.#readyAtMs && Date.now() - this.#readyAtMs > 60_000) this.#attempt = 0
      this.#readyAtMs = 0
      const delayMs = backoffMs(this.#attempt++, this.#opts.restartInitialMs ?? 1_000, this.#opts.restartMaxMs ?? 60_000)
      const why = spawnError?.message ?? lastError ?? `cloudflared exited (${signal ?? `code ${code}`})`
      this.#log.warn('cloudflared exited, restarting', { code, signal, delayMs, reason: why })
      this.#setState({ status: 'error', message: `${why}; restarting in ${Math.round(delayMs / 1000)} s` })
      this.#restartTimer = setTimeout(() => {
        if (!this.#wanted || gen !== this.#generation) return
        this.#setState({ status: 'starting' })
        this.#launch()
      }, delayMs)
    }
    child.on('exit', (code, signal) => onExit(code, signal))
    child.on('error', (err) => onExit(null, null, err))
  }

  async #probeUntilReady(gen: number, url: string): Promise<void> {
    const windowMs = this.#opts.probeWindowMs ?? 30_000
    const t0 = performance.now()
    let waitMs = 250
    let lastErr: unknown
    while (gen === this.#generation && performance.now() - t0 < windowMs) {
      try {
        await this.#opts.probe(url)
        if (gen !== this.#generation) return
        this.#readyAtMs = Date.now()
        this.#log.info('tunnel ready', { publicUrl: url, probeMs: Math.round(performance.now() - t0) })
        this.#setState({ status: 'ready', publicUrl: url })
        this.emit('ready', url)
        return
      } catch (err) {
        lastErr = err
        await new Promise((r) => setTimeout(r, waitMs))
        waitMs = Math.min(waitMs * 2, 4_000)
      }
    }
    if (gen !== this.#generation) return
    this.#log.warn('tunnel url does not reach the public listener', { err: lastErr as Error })
    this.#child?.kill('SIGKILL')
  }

  #startWakeCheck(): void {
    const clock = this.#opts.clock ?? { wallMs: () => Date.now(), monoMs: () => performance.now() }
    this.#lastWallMs = clock.wallMs()
    this.#lastMonoMs = clock.monoMs()
    const jumpMs = this.#opts.wakeJumpMs ?? 20_000
    this.#wakeTimer = setInterval(() => {
      const wall = clock.wallMs()
      const mono = clock.monoMs()
      // The monotonic clock stops while the machine sleeps; the wall clock does not.
      const sleptMs = wall - this.#lastWallMs - (mono - this.#lastMonoMs)
      this.#lastWallMs = wall
      this.#lastMonoMs = mono
      if (sleptMs > jumpMs) {
        this.#log.info('wake from sleep detected, rechecking tunnel', { sleptMs: Math.round(sleptMs) })
        void this.recheck()
      }
    }, this.#opts.wakeCheckEveryMs ?? 10_000)
    this.#wakeTimer.unref()
  }

  async #kill(): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000)
    await exited
    clearTimeout(timer)
  }
}
