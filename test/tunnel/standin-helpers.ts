// Helpers for driving the cloudflared stand-in: its launch log, a resolver from its printed URL to its local proxy.
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const STANDIN = resolve(dirname(fileURLToPath(import.meta.url)), '../fakes/cloudflared-standin.mjs')

export interface Launch {
  launch: number
  pid: number
  host: string
  proxyPort: number
  urlPrintedAtMs: number
}

export function launches(stateDir: string): Launch[] {
  const file = join(stateDir, 'launches.jsonl')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Launch)
}

/** The stand-in prints a trycloudflare URL nobody can resolve; requests for it go to that launch's local proxy. */
export function standinResolver(stateDir: string): (publicUrl: URL) => URL {
  return (publicUrl) => {
    const launch = launches(stateDir).find((l) => l.host === publicUrl.hostname)
    if (!launch) throw new Error(`no stand-in launch printed ${publicUrl.hostname}`)
    const local = new URL(publicUrl.pathname + publicUrl.search, `http://127.0.0.1:${launch.proxyPort}`)
    return local
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}
