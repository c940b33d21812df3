/** A real S3-compatible server (s3rver) in a child process on 127.0.0.1, which a test can kill and start again. */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** s3rver's built-in account (lib/models/account.js); requests are signature-checked against it. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const

// Runs under plain Node in the child: s3rver is CommonJS, resolved from the project's node_modules.
const CHILD = `
const { createRequire } = require('node:module')
const req = createRequire(process.cwd() + '/package.json')
const S3rver = req('s3rver')
const [port, directory, buckets] = [Number(process.argv[1]), process.argv[2], JSON.parse(process.argv[3])]
const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) })
server.run().then(
  (addr) => process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1) }
)
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
`

export interface S3ServerOptions {
  /** Buckets created at start. Default `['callbench']`. */
  buckets?: string[]
  /** Storage folder; default a fresh temp folder, removed by `dispose()`. Kept across `restart()`. */
  directory?: string
}

export class S3Server {
  readonly directory: string
  readonly buckets: string[]
  #port = 0
  #child: ChildProcess | undefined
  readonly #ownsDirectory: boolean

  private constructor(directory: string, buckets: string[], ownsDirectory: boolean) {
    this.directory = directory
    this.buckets = buckets
    this.#ownsDirectory = ownsDirectory
  }

  /** Starts s3rver on a free port. */
  static async start(opts: S3ServerOptions = {}): Promise<S3Server> {
    const owns = !opts.directory
    const dir = opts.directory ?? (await mkdtemp(join(tmpdir(), 'callbench-s3-')))
    const server = new S3Server(dir, opts.buckets ?? ['callbench'], owns)
    await server.#spawn(0)
    return server
  }

  get port(): number {
    return this.#port
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null
  }

  /** The child's pid (for killing it from outside the test process). */
  get pid(): number | undefined {
    return this.#child?.pid
  }

  async #spawn(port: number): Promise<void> {
    const child = spawn(process.execPath, ['-e', CHILD, String(port), this.directory, JSON.stringify(this.buckets)], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.#child = child
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const lines = createInterface({ input: child.stdout! })
    this.#port = await new Promise<number>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`s3rver exited (${code}) before listening: ${stderr.trim()}`))
      child.once('exit', onExit)
      lines.once('line', (line) => {
        child.off('exit', onExit)
        resolve((JSON.parse(line) as { port: number }).port)
      })
    })
  }

  /** SIGKILL: the server dies at once, mid-request, like a crashed or unplugged store. */
  async kill(): Promise<void> {
    const child = this.#child
    if (!child || !this.running) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }

  /** Starts again on the same port and folder (objects and multipart uploads on disk survive). */
  async restart(): Promise<void> {
    if (this.running) await this.kill()
    await this.#spawn(this.#port)
  }

  async dispose(): Promise<void> {
    const child = this.#child
    if (child && this.running) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await exited
    }
    if (this.#ownsDirectory) await rm(this.directory, { recursive: true, force: true })
  }
}
