/** Moves the call log's WAL checkpoints off the event loop: a worker thread with its own connection runs them. */
import { existsSync } from 'node:fs'
import type { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Logger } from '../log.js'

/** SQLite's own default: an automatic checkpoint once the log holds this many pages. */
const AUTO_CHECKPOINT_PAGES = 1000

/**
 * The worker's file: the `.ts` beside this module from source (run with type stripping), or the build's own entry
 * `out/main/wal-checkpoint-worker.js` (this module is bundled into `out/main/` or `out/main/chunks/`).
 */
export function walCheckpointWorkerUrl(): URL | undefined {
  const here = new URL(import.meta.url)
  if (here.pathname.endsWith('.ts')) return new URL('./wal-checkpoint-worker.ts', here)
  for (const candidate of ['./wal-checkpoint-worker.js', '../wal-checkpoint-worker.js']) {
    const url = new URL(candidate, here)
    if (existsSync(fileURLToPath(url))) return url
  }
  return undefined
}

export class WalCheckpointer {
  readonly #worker: Worker
  #closed = false

  /**
   * Turns the main connection's automatic checkpoint off and starts the worker. Without the worker file, or if the
   * worker dies, the automatic checkpoint comes back on: slower for live calls, never a growing log.
   */
  static start(
    db: DatabaseSync,
    path: string,
    opts: { intervalMs?: number; log?: Logger } = {}
  ): WalCheckpointer | undefined {
    const url = walCheckpointWorkerUrl()
    if (!url) {
      opts.log?.warn('WAL checkpoint worker missing from the build; SQLite checkpoints on the main thread')
      return undefined
    }
    let worker: Worker
    try {
      worker = new Worker(url, {
        workerData: { path, intervalMs: opts.intervalMs ?? 2_000 },
        name: 'call-log-checkpoint'
      })
    } catch (err) {
      opts.log?.warn('WAL checkpoint worker did not start', { err: err as Error })
      return undefined
    }
    db.exec('PRAGMA wal_autocheckpoint = 0')
    return new WalCheckpointer(worker, db, opts.log)
  }

  private constructor(worker: Worker, db: DatabaseSync, log: Logger | undefined) {
    this.#worker = worker
    let reported = 0
    const fallBack = (why: string, err?: Error) => {
      if (this.#closed) return
      this.#closed = true
      log?.warn('WAL checkpoint worker stopped; SQLite checkpoints on the main thread again', {
        why,
        ...(err ? { err } : {})
      })
      if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`)
    }
    worker.on('message', (msg: { type?: string; message?: string }) => {
      if (msg.type === 'error' && reported++ < 5) log?.warn('WAL checkpoint failed', { message: msg.message })
    })
    worker.on('error', (err) => fallBack('error', err))
    worker.on('exit', (code) => fallBack(`exit ${code}`))
    // A checkpoint every few seconds must not keep the process alive.
    worker.unref()
  }

  /** Stops the worker; its connection runs a last checkpoint (TRUNCATE) as it closes. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#worker.postMessage('close')
  }
}
