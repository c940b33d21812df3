/** Settings "Test connection" for S3: the bucket answers HeadBucket, and a tiny probe object can be put and deleted under the prefix. */
import { randomBytes } from 'node:crypto'
import { DeleteObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { ServiceCheckOutcome } from '../../shared/service-test.js'
import type { Settings } from '../../shared/settings.js'
import { hostOf, networkFailure } from '../net-errors.js'
import type { SecretStore } from '../settings/secrets.js'
import { createS3Client, resolveS3Target, type S3Target } from './s3-config.js'

export interface S3CheckDeps {
  settings: () => Settings
  config: (name: string) => string | undefined
  secrets: Pick<SecretStore, 'get'>
}

const TIMEOUT_MS = 10_000

export async function checkS3(deps: S3CheckDeps): Promise<ServiceCheckOutcome> {
  const target = await resolveS3Target(deps.settings().s3, deps.config, deps.secrets)
  if (!target) return { ok: false, message: 'No S3 bucket is set' }
  const where = target.endpoint ? hostOf(target.endpoint) : `AWS ${target.region}`
  const client = createS3Client(target)
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: target.bucket }), { abortSignal: AbortSignal.timeout(TIMEOUT_MS) })
    } catch (err) {
      // HeadBucket answers carry no body, so a 403 does not say why: a request that has one tells a wrong key apart.
      const explained = statusOf(err) === 403 ? await whyRefused(client, target) : undefined
      return failure(explained ?? err, target, where, 'bucket')
    }
    const key = [target.prefix, `.callbench-probe-${randomBytes(6).toString('hex')}`].filter(Boolean).join('/')
    try {
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: 'callbench connection test', ContentType: 'text/plain' }), {
        abortSignal: AbortSignal.timeout(TIMEOUT_MS)
      })
    } catch (err) {
      return failure(err, target, where, 'write')
    }
    try {
      await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: AbortSignal.timeout(TIMEOUT_MS) })
    } catch (err) {
      return failure(err, target, where, 'delete', key)
    }
    const under = target.prefix ? `${target.prefix}/` : 'the bucket root'
    return {
      ok: true,
      message: `Bucket ${target.bucket} at ${where} is reachable; a probe object was written and deleted under ${under}`,
      detail: target.credentials ? 'with the configured access key' : 'with the default AWS credential chain'
    }
  } finally {
    client.destroy()
  }
}

type Step = 'bucket' | 'write' | 'delete'

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode
}

/** The error of a one-key listing when it names a key problem (the listing itself may be refused by policy). */
async function whyRefused(client: S3Client, t: S3Target): Promise<unknown> {
  try {
    await client.send(new ListObjectsV2Command({ Bucket: t.bucket, MaxKeys: 1, ...(t.prefix ? { Prefix: `${t.prefix}/` } : {}) }), {
      abortSignal: AbortSignal.timeout(TIMEOUT_MS)
    })
  } catch (err) {
    const code = (err as { Code?: string; name?: string }).Code ?? (err as { name?: string }).name
    if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') return err
  }
  return undefined
}

function failure(err: unknown, t: S3Target, where: string, step: Step, key?: string): ServiceCheckOutcome {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } }
  const status = e?.$metadata?.httpStatusCode
  const code = e?.Code ?? e?.name
  const detail = code && status ? { detail: `S3 ${code} (${status})` } : {}
  if ((e?.name === 'CredentialsProviderError' || /credential/i.test(e?.name ?? '')) && status === undefined) {
    return { ok: false, message: 'No AWS credentials: set the access key id and secret, or an AWS profile' }
  }
  if (status === undefined) {
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { ok: false, message: `S3 at ${where} did not answer within ${TIMEOUT_MS / 1000} s` }
    return { ok: false, message: `Could not reach S3 at ${where} (${networkFailure(err) ?? 'no answer'})` }
  }
  if (code === 'InvalidAccessKeyId') return { ok: false, message: 'S3 does not know the access key id (InvalidAccessKeyId)', ...detail }
  if (code === 'SignatureDoesNotMatch') return { ok: false, message: 'S3 rejected the secret access key (SignatureDoesNotMatch)', ...detail }
  if (step === 'bucket') {
    if (status === 404 || code === 'NoSuchBucket' || code === 'NotFound') return { ok: false, message: `Bucket ${t.bucket} does not exist at ${where}`, ...detail }
    // HeadBucket answers have no body: a 403 can be a wrong key as well as a bucket policy.
    if (status === 403) return { ok: false, message: `S3 refused access to bucket ${t.bucket} (403): check the keys and the bucket policy`, ...detail }
    if (status === 301 || code === 'PermanentRedirect') return { ok: false, message: `Bucket ${t.bucket} is in another region than ${t.region} (301)`, ...detail }
    return { ok: false, message: `S3 at ${where} answered ${status} for bucket ${t.bucket}`, ...detail }
  }
  const under = t.prefix ? `${t.prefix}/` : 'the bucket root'
  if (step === 'write') {
    if (status === 403) return { ok: false, message: `Bucket ${t.bucket} is reachable, but writing under ${under} was refused (403)`, ...detail }
    return { ok: false, message: `Writing a probe object under ${under} failed: S3 answered ${status}`, ...detail }
  }
  const left = key ? { detail: `probe object left at ${key}${code ? `; S3 ${code} (${status})` : ''}` } : detail
  if (status === 403) return { ok: false, message: `Writing works, but deleting under ${under} was refused (403)`, ...left }
  return { ok: false, message: `Deleting the probe object under ${under} failed: S3 answered ${status}`, ...left }
}
