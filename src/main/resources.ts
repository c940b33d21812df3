/** Finds the shipped `resources/` folder (prompts) from source, from the build output and when packaged. */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export function findResourcesDir(start = dirname(fileURLToPath(import.meta.url))): string {
  if (cached) return cached
  let dir = start
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'resources', 'prompts'))) return (cached = join(dir, 'resources'))
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  throw new Error('resources/prompts not found near ' + start)
}

const prompts = new Map<string, Promise<Uint8Array>>()

/** A shipped prompt as raw μ-law 8 kHz, read once. */
export function loadPrompt(resourcesDir: string, name: 'echo-greeting' | 'apology' | 'beep'): Promise<Uint8Array> {
  const path = join(resourcesDir, 'prompts', `${name}.ulaw`)
  let p = prompts.get(path)
  if (!p) {
    p = readFile(path).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
    prompts.set(path, p)
  }
  return p
}
