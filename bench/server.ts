/** Starts `callbench serve` as a child process for the benchmark and reads its CPU time and peak RSS from /proc. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ServerOptions {
  /** Built CLI (out/main/cli.js). */
  cliPath: string
  cwd: string
  token: string
  /** Extra `serve` arguments. */
  args?: string[]
  env?: Record<string, string>
  startTimeoutMs?: number
}

export interface ServerHandle {
  readonly pid: number
  readonly controlUrl: string
  readonly mediaUrl: string
  readonly token: string
  /** utime + stime of the server process so far, seconds. */
  cpuSeconds(): number
  /** The same for its main thread alone (the event loop: the media path runs there), seconds. */
  mainThreadCpuSeconds(): number
  /** Time its threads waited for a CPU so far, seconds. */
  runQueueWaitSeconds(): number
  /** Peak resident set (VmHWM), bytes. */
  peakRssBytes(): number | undefined
  /** The last lines the server wrote, for error reports. */
  outputTail(): string
  stop(): Promise<void>
}

const CONSOLE_RE = /Console: (http:\/\/127\.0\.0\.1:(\d+))\/#token=(\S+)/

let clockTicksPerSecond: number | undefined

function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicksPerSecond = 100
    }
  }
  return clockTicksPerSecond
}

/** utime + stime of a live process, or of one of its threads, seconds (Linux /proc only). */
export function procCpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond()
}

/** Time the process's threads spent runnable but waiting for a CPU, seconds: how much other load starved it. */
export function procRunQueueWaitSeconds(pid: number): number {
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1])
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9
}

export function procPeakRssBytes(pid: number): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : undefined
}

export async function startServer(opts: ServerOptions): Promise<ServerHandle> {
  if (!existsSync(opts.cliPath)) throw new Error(`${opts.cliPath} not found: run \`npm run build\` first`)
  const dataDir = mkdtempSync(join(tmpdir(), 'callbench-bench-'))
  const args = [
    opts.cliPath,
    'serve',
    '--no-tunnel',
    `--token=${opts.token}`,
    '--control-port',
    '0',
    '--public-port',
    '0',
    '--data-dir',
    dataDir,
    ...(opts.args ?? [])
  ]
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const tail: string[] = []
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue
      tail.push(line)
      if (tail.length > 40) tail.shift()
    }
  }
  child.stderr!.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  const controlUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not print its console URL in time:\n${tail.join('\n')}`)),
      opts.startTimeoutMs ?? 30_000
    )
    let buffered = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk)
      buffered += chunk.toString('utf8')
      const m = CONSOLE_RE.exec(buffered)
      if (m) {
        clearTimeout(timer)
        buffered = ''
        resolve(m[1]!)
      } else if (buffered.length > 65536) buffered = buffered.slice(-4096)
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before it was ready:\n${tail.join('\n')}`))
    })
  })

  const pid = child.pid!
  let lastCpu = 0
  let lastMainCpu = 0
  let lastPeak: number | undefined
  let lastWait = 0
  return {
    pid,
    controlUrl,
    mediaUrl: `${controlUrl.replace(/^http/, 'ws')}/api/media?token=${encodeURIComponent(opts.token)}`,
    token: opts.token,
    cpuSeconds: () => {
      if (child.exitCode === null) lastCpu = procCpuSeconds(pid)
      return lastCpu
    },
    mainThreadCpuSeconds: () => {
      // A process's main thread has the process's id.
      if (child.exitCode === null) lastMainCpu = procCpuSeconds(pid, pid)
      return lastMainCpu
    },
    runQueueWaitSeconds: () => {
      if (child.exitCode === null) lastWait = procRunQueueWaitSeconds(pid)
      return lastWait
    },
    peakRssBytes: () => {
      if (child.exitCode === null) lastPeak = procPeakRssBytes(pid)
      return lastPeak
    },
    outputTail: () => tail.join('\n'),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(killer)
      }
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
