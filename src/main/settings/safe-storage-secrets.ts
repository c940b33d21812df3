/** Desktop secrets: one file in the user data folder, encrypted by the OS keychain through an injected encryptor. */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { SECRET_NAMES, type SecretName } from '../../shared/settings.js'
import { LayeredSecretStore } from './secrets.js'

/** What Electron's async safeStorage API provides; the shell adapts `safeStorage` to it, tests pass a fake. */
export interface Encryptor {
  isAvailable(): Promise<boolean>
  encrypt(plainText: string): Promise<Uint8Array>
  /** `shouldReEncrypt`: the key was rotated, so the file should be written again. */
  decrypt(cipherText: Uint8Array): Promise<{ result: string; shouldReEncrypt: boolean }>
}

export interface SafeStorageSecretsOptions {
  /** Encrypted file, e.g. `<userData>/secrets.enc`. */
  path: string
  encryptor: Encryptor
  /** Read when a secret was never set here (e.g. `process.env`). Default none. */
  env?: Record<string, string | undefined>
  /** Called once when the OS offers no encryption and secrets are kept in memory only. */
  onUnavailable?: () => void
  /** Called when the file cannot be decrypted (keychain reset, other user); it is moved aside to `movedTo`. */
  onUnreadable?: (movedTo: string, err: unknown) => void
}

/**
 * Secrets set through the console are stored encrypted; values from `env` fill the gaps. An empty stored value
 * hides an environment value (delete means "not set", as in EnvSecretStore). When the OS offers no encryption,
 * secrets live in memory for this run rather than on disk in the clear.
 */
export class SafeStorageSecrets extends LayeredSecretStore {
  readonly #path: string
  readonly #encryptor: Encryptor
  readonly #env: Record<string, string | undefined>
  readonly #persistent: boolean
  #writing: Promise<void> = Promise.resolve()

  private constructor(
    opts: SafeStorageSecretsOptions,
    stored: Partial<Record<SecretName, string>>,
    persistent: boolean
  ) {
    super(stored)
    this.#path = opts.path
    this.#encryptor = opts.encryptor
    this.#env = opts.env ?? {}
    this.#persistent = persistent
  }

  static async open(opts: SafeStorageSecretsOptions): Promise<SafeStorageSecrets> {
    if (!(await opts.encryptor.isAvailable())) {
      opts.onUnavailable?.()
      return new SafeStorageSecrets(opts, {}, false)
    }
    let cipherText: Uint8Array | undefined
    try {
      cipherText = await readFile(opts.path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    if (cipherText === undefined) return new SafeStorageSecrets(opts, {}, true)
    let decrypted: { result: string; shouldReEncrypt: boolean }
    try {
      decrypted = await opts.encryptor.decrypt(cipherText)
    } catch (err) {
      // Keep the unreadable file for the user instead of overwriting it on the next `set`.
      const movedTo = `${opts.path}.unreadable-${Date.now()}`
      await rename(opts.path, movedTo)
      opts.onUnreadable?.(movedTo, err)
      return new SafeStorageSecrets(opts, {}, true)
    }
    const { result, shouldReEncrypt } = decrypted
    const store = new SafeStorageSecrets(opts, parseStored(result), true)
    if (shouldReEncrypt) await store.persist()
    return store
  }

  /** False when secrets are kept in memory only (no OS encryption). */
  get persistent(): boolean {
    return this.#persistent
  }

  protected fallback(name: SecretName): string | undefined {
    return this.#env[name]
  }

  protected persist(): Promise<void> {
    if (!this.#persistent) return Promise.resolve()
    // Serialize writes so two quick `set`s cannot land out of order.
    const write = this.#writing.then(async () => {
      const cipherText = await this.#encryptor.encrypt(JSON.stringify(this.stored))
      const tmp = `${this.#path}.tmp`
      await writeFile(tmp, cipherText, { mode: 0o600 })
      await chmod(tmp, 0o600)
      await rename(tmp, this.#path)
    })
    this.#writing = write.catch(() => {})
    return write
  }
}

function parseStored(json: string): Partial<Record<SecretName, string>> {
  const out: Partial<Record<SecretName, string>> = {}
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return out
  }
  if (typeof value !== 'object' || value === null) return out
  for (const name of SECRET_NAMES) {
    const v = (value as Record<string, unknown>)[name]
    if (typeof v === 'string') out[name] = v
  }
  return out
}
