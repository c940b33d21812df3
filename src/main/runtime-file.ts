/** The running app's address, left in the data folder (mode 0600) so the CLI can find and drive it. */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface RuntimeInfo {
  controlUrl: string
  token: string
  pid: number
  publicPort: number
}

export function runtimeFilePath(dataDir: string): string {
  return join(dataDir, 'runtime.json')
}

export async function writeRuntimeFile(dataDir: string, info: RuntimeInfo): Promise<void> {
  await writeFile(runtimeFilePath(dataDir), JSON.stringify(info), { mode: 0o600 })
}

/** The running app's info, or undefined when none runs (missing file or a dead pid). */
export async function readRuntimeFile(dataDir: string): Promise<RuntimeInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(runtimeFilePath(dataDir), 'utf8')) as RuntimeInfo
    process.kill(info.pid, 0)
    return info
  } catch {
    return undefined
  }
}

export async function removeRuntimeFile(dataDir: string): Promise<void> {
  await rm(runtimeFilePath(dataDir), { force: true })
}
