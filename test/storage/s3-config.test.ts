import { describe, expect, it } from 'vitest'
import { SettingsSchema } from '../../src/shared/settings.js'
import { callKeyPrefix, objectUrl, resolveS3Target } from '../../src/main/storage/s3-config.js'

const secrets = (values: Record<string, string>) => ({ get: async (name: string) => values[name] })
const defaults = SettingsSchema.parse({}).s3

describe('S3 target', () => {
  it('is undefined without a bucket anywhere', async () => {
    expect(await resolveS3Target(defaults, () => undefined, secrets({}))).toBeUndefined()
  })

  it('takes the environment where settings are left at their defaults, and settings where the user set them', async () => {
    const env: Record<string, string> = {
      S3_BUCKET: 'env-bucket',
      S3_PREFIX: '/env/prefix/',
      AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000/'
    }
    const fromEnv = await resolveS3Target(
      defaults,
      (n) => env[n],
      secrets({ AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' })
    )
    expect(fromEnv).toEqual({
      bucket: 'env-bucket',
      prefix: 'env/prefix',
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:9000',
      // An IP endpoint cannot be addressed virtual-hosted style.
      forcePathStyle: true,
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }
    })
    const set = { ...defaults, bucket: 'mine', prefix: 'p', region: 'us-west-2', endpoint: 'https://s3.example.test' }
    const fromSettings = await resolveS3Target(set, (n) => env[n], secrets({}))
    expect(fromSettings).toEqual({
      bucket: 'mine',
      prefix: 'p',
      region: 'us-west-2',
      endpoint: 'https://s3.example.test',
      forcePathStyle: false
    })
  })

  it('builds keys from the call start date in UTC and URLs in either addressing style', () => {
    expect(callKeyPrefix('calls', '2026-12-31T23:59:59.999Z', 'abc')).toBe('calls/2026/12/31/abc/')
    expect(callKeyPrefix('', '2026-01-02T00:00:00Z', 'a/../b')).toBe('2026/01/02/a_.._b/')
    const t = { bucket: 'b', prefix: '', region: 'eu-west-1', forcePathStyle: false }
    expect(objectUrl(t, 'x/y z.wav')).toBe('https://b.s3.eu-west-1.amazonaws.com/x/y%20z.wav')
    expect(objectUrl({ ...t, endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }, 'k')).toBe(
      'http://127.0.0.1:9000/b/k'
    )
    expect(objectUrl({ ...t, endpoint: 'https://minio.example.test' }, 'k')).toBe('https://b.minio.example.test/k')
  })
})
