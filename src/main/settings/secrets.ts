/** Secrets: an interface with an environment/.env implementation (headless) and Electron safeStorage (desktop). */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { parseEnv } from 'node:util'
import { SECRET_NAMES, type MaskedSecret, type SecretName } from '../../shared/settings.js'

export interface SecretStore {
  get(name: SecretName): Promise<string | undefined>
  set(name: SecretName, value: string): Promise<void>
  delete(name: SecretName): Promise<void>
  list(): Promise<SecretName[]>
}

/**
 * Values set through the app, kept by the subclass, over values from elsewhere (the environment, `.env` files).
 * An empty stored value means "not set" and hides the one from elsewhere, so `delete` works for both.
 */
export abstract class LayeredSecretStore implements SecretStore {
  protected readonly stored: Partial<Record<string, string>>

  protected constructor(stored: Partial<Record<string, string>>) {
    this.stored = stored
  }

  /** The value from elsewhere, when none was set through the app. */
  protected abstract fallback(name: SecretName): string | undefined
  /** Keeps `stored` (written whole). */
  protected abstract persist(): Promise<void>

  async get(name: SecretName): Promise<string | undefined> {
    const v = this.stored[name] ?? this.fallback(name)
    return v ? v : undefined
  }

  async set(name: SecretName, value: string): Promise<void> {
    this.stored[name] = value
    await this.persist()
  }

  async delete(name: SecretName): Promise<void> {
    this.stored[name] = ''
    await this.persist()
  }

  async list(): Promise<SecretName[]> {
    const out: SecretName[] = []
    for (const n of SECRET_NAMES) if (await this.get(n)) out.push(n)
    return out
  }
}

/** Reads a `.env` file into a map; a missing file is empty. */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  try {
    return parseEnv(await readFile(path, 'utf8')) as Record<string, string>
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
}

function quote(value: string): string {
  return JSON.stringify(value)
}

/**
 * Headless secrets: the process environment, then `.env` files; values set through the API are kept in
 * `<dataDir>/secrets.env` (mode 0600) and win over both.
 */
export class EnvSecretStore extends LayeredSecretStore {
  readonly #env: Record<string, string | undefined>
  readonly #fileValues: Record<string, string>
  readonly #storePath: string | undefined

  private constructor(env: Record<string, string | undefined>, fileValues: Record<string, string>, storePath: string | undefined, stored: Record<string, string>) {
    super(stored)
    this.#env = env
    this.#fileValues = fileValues
    this.#storePath = storePath
  }

  static async open(opts: { env?: Record<string, string | undefined>; envFiles?: string[]; storePath?: string }): Promise<EnvSecretStore> {
    const fileValues: Record<string, string> = {}
    for (const f of opts.envFiles ?? []) Object.assign(fileValues, await readEnvFile(f))
    const stored = opts.storePath ? await readEnvFile(opts.storePath) : {}
    return new EnvSecretStore(opts.env ?? process.env, fileValues, opts.storePath, stored)
  }

  protected fallback(name: SecretName): string | undefined {
    return this.#env[name] ?? this.#fileValues[name]
  }

  protected async persist(): Promise<void> {
    if (!this.#storePath) return
    const body = Object.entries(this.stored)
      .map(([k, v]) => `${k}=${quote(v ?? '')}`)
      .join('\n')
    const tmp = `${this.#storePath}.tmp`
    await writeFile(tmp, body + '\n', { mode: 0o600 })
    await chmod(tmp, 0o600)
    await rename(tmp, this.#storePath)
  }
}

/** Shows a secret without revealing it: whether it is set and its last four characters at most. */
export function maskSecret(value: string | undefined): MaskedSecret {
  if (!value) return { set: false }
  return value.length >= 12 ? { set: true, hint: `…${value.slice(-4)}` } : { set: true }
}
