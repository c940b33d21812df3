/**
 * Checkpoints the call log's write-ahead log from its own thread and its own connection, so the copy into the
 * database file and its fsync never run on the event loop every call shares. The main connection turns SQLite's
 * automatic checkpoint off (it runs inside a commit, on the committing thread, and stalled live calls for tens of
 * milliseconds each time the log reached 4 MB).
 */
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'

// From source this file runs with Node's type stripping (no bundler): erasable TypeScript only, nothing of ours imported.

interface CheckpointWorkerInit {
  path: string
  intervalMs: number
}

const init = workerData as CheckpointWorkerInit
const port = parentPort!
const db = new DatabaseSync(init.path, { timeout: 5_000 })

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    // PASSIVE copies what it can without waiting for the writer; the writer never waits for it.
    db.exec(`PRAGMA wal_checkpoint(${mode})`)
  } catch (err) {
    port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  }
}

const timer = setInterval(() => checkpoint('PASSIVE'), init.intervalMs)
port.on('message', (msg: unknown) => {
  if (msg !== 'close') return
  clearInterval(timer)
  checkpoint('TRUNCATE')
  db.close()
  port.close()
})
