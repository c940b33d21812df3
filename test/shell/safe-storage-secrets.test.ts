// Desktop secrets: encrypted at rest through the encryptor, environment as fallback, no plaintext file without encryption.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SafeStorageSecrets, type Encryptor } from '../../src/main/settings/safe-storage-secrets.js'

/** A reversible stand-in for the OS keychain: base64 behind a marker, so plaintext never appears in the file. */
function fakeEncryptor(opts: { available?: boolean; reEncrypt?: boolean } = {}) {
  const calls = { encrypt: 0 }
  const encryptor: Encryptor = {
    isAvailable: async () => opts.available ?? true,
    encrypt: async (text) => {
      calls.encrypt++
      return Buffer.from('ENC1' + Buffer.from(text).toString('base64'))
    },
    decrypt: async (data) => {
      const s = Buffer.from(data).toString()
      if (!s.startsWith('ENC1')) throw new Error('bad key')
      return { result: Buffer.from(s.slice(4), 'base64').toString(), shouldReEncrypt: opts.reEncrypt ?? false }
    }
  }
  return { encryptor, calls }
}

describe('SafeStorageSecrets', () => {
  let dir: string
  let path: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callbench-secrets-'))
    path = join(dir, 'secrets.enc')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('stores secrets encrypted and reads them back after a restart', async () => {
    const { encryptor } = fakeEncryptor()
    const store = await SafeStorageSecrets.open({ path, encryptor })
    await store.set('OPENAI_API_KEY', 'sk-plaintext-value')
    await store.set('ELEVENLABS_API_KEY', 'el-value')

    expect((await readFile(path)).toString()).not.toContain('sk-plaintext-value')
    const reopened = await SafeStorageSecrets.open({ path, encryptor })
    expect(await reopened.get('OPENAI_API_KEY')).toBe('sk-plaintext-value')
    expect(await reopened.list()).toEqual(['OPENAI_API_KEY', 'ELEVENLABS_API_KEY'])
  })

  it('falls back to the environment, and delete hides an environment value', async () => {
    const { encryptor } = fakeEncryptor()
    const env = { TWILIO_ACCOUNT_SID: 'AC-from-env' }
    const store = await SafeStorageSecrets.open({ path, encryptor, env })
    expect(await store.get('TWILIO_ACCOUNT_SID')).toBe('AC-from-env')
    await store.delete('TWILIO_ACCOUNT_SID')
    expect(await store.get('TWILIO_ACCOUNT_SID')).toBeUndefined()
    expect(await (await SafeStorageSecrets.open({ path, encryptor, env })).get('TWILIO_ACCOUNT_SID')).toBeUndefined()
  })

  it('keeps secrets in memory only, never in a file, when the OS offers no encryption', async () => {
    const { encryptor, calls } = fakeEncryptor({ available: false })
    let warned = 0
    const store = await SafeStorageSecrets.open({ path, encryptor, onUnavailable: () => warned++ })
    await store.set('OPENAI_API_KEY', 'sk-memory-only')
    expect(await store.get('OPENAI_API_KEY')).toBe('sk-memory-only')
    expect(store.persistent).toBe(false)
    expect(warned).toBe(1)
    expect(calls.encrypt).toBe(0)
    expect(await readdir(dir)).toEqual([])
  })

  it('moves an undecryptable file aside instead of overwriting it', async () => {
    await writeFile(path, 'written under another key')
    const { encryptor } = fakeEncryptor()
    let movedTo = ''
    const store = await SafeStorageSecrets.open({ path, encryptor, onUnreadable: (to) => (movedTo = to) })
    expect(await store.list()).toEqual([])
    expect((await readFile(movedTo)).toString()).toBe('written under another key')
    await store.set('OPENAI_API_KEY', 'sk-new')
    expect(await (await SafeStorageSecrets.open({ path, encryptor })).get('OPENAI_API_KEY')).toBe('sk-new')
  })

  it('rewrites the file when the keychain asks for re-encryption', async () => {
    const first = fakeEncryptor()
    await (await SafeStorageSecrets.open({ path, encryptor: first.encryptor })).set('OPENAI_API_KEY', 'sk-1')
    const rotated = fakeEncryptor({ reEncrypt: true })
    const store = await SafeStorageSecrets.open({ path, encryptor: rotated.encryptor })
    expect(rotated.calls.encrypt).toBe(1)
    expect(await store.get('OPENAI_API_KEY')).toBe('sk-1')
  })

  it('applies quick successive writes in order', async () => {
    const { encryptor } = fakeEncryptor()
    const store = await SafeStorageSecrets.open({ path, encryptor })
    await Promise.all([
      store.set('OPENAI_API_KEY', 'a'),
      store.set('OPENAI_API_KEY', 'b'),
      store.delete('OPENAI_API_KEY')
    ])
    await store.set('AWS_ACCESS_KEY_ID', 'k')
    const reopened = await SafeStorageSecrets.open({ path, encryptor })
    expect(await reopened.list()).toEqual(['AWS_ACCESS_KEY_ID'])
  })
})
