/** The settings file in the data folder: validated on load, deep-merged on update, written atomically. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { EventEmitter } from 'node:events'
import { SettingsSchema, type Settings, type SettingsPatch } from '../../shared/settings.js'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch === undefined ? base : patch) as T
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) out[k] = deepMerge((base as Record<string, unknown>)[k], v)
  return out as T
}

export class SettingsStore extends EventEmitter<{ changed: [Settings] }> {
  #settings: Settings
  readonly #path: string

  private constructor(path: string, settings: Settings) {
    super()
    this.#path = path
    this.#settings = settings
  }

  static async open(path: string, log: Logger, overrides: Partial<Settings> = {}): Promise<SettingsStore> {
    let raw: unknown = {}
    try {
      raw = JSON.parse(await readFile(path, 'utf8'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('settings file unreadable, using defaults', { err: err as Error })
    }
    let parsed = SettingsSchema.safeParse(raw)
    if (!parsed.success) {
      log.warn('settings file invalid, using defaults', { issue: parsed.error.issues[0]?.path.join('.') })
      parsed = SettingsSchema.safeParse({})
    }
    const settings = SettingsSchema.parse(deepMerge(parsed.data, overrides))
    return new SettingsStore(path, settings)
  }

  get(): Settings {
    return this.#settings
  }

  /** Merges a patch over the current settings, validates the result and saves it; a bad field is a 400 naming it. */
  async update(patch: SettingsPatch): Promise<Settings> {
    const result = SettingsSchema.safeParse(deepMerge(this.#settings, patch))
    if (!result.success) {
      const issue = result.error.issues[0]
      const field = ['settings', ...(issue?.path ?? [])].join('.')
      throw new CallbenchError('bad_request', `Invalid field '${field}': ${issue?.message}`, { field })
    }
    this.#settings = result.data
    await mkdir(dirname(this.#path), { recursive: true })
    const tmp = `${this.#path}.tmp`
    await writeFile(tmp, JSON.stringify(this.#settings, null, 2))
    await rename(tmp, this.#path)
    this.emit('changed', this.#settings)
    return this.#settings
  }
}
