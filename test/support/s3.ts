// The s3rver fake seen from a test: an SDK client on it, an object read back, and an upload target on its bucket.
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { S3Target } from '../../src/main/storage/s3-config.js'
import { S3RVER_CREDENTIALS, type S3Server } from '../fakes/s3-server.js'

/** The bucket the fake creates by default. */
export const TEST_BUCKET = 'callbench'

export interface S3ClientOptions extends S3ClientConfig {
  /** Default us-east-1. */
  region?: string
}

/** An SDK client on the fake: path-style, with s3rver's built-in account. The caller destroys it. */
export function s3ClientFor(s3: S3Server, opts: S3ClientOptions = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS },
    ...opts
  })
}

/** The bytes of `key` in the fake's `callbench` bucket, read with a client of its own; rejects when it is missing. */
export async function readS3Object(s3: S3Server, key: string, opts: S3ClientOptions = {}): Promise<Buffer> {
  const client = s3ClientFor(s3, opts)
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: key }))
    return Buffer.from(await out.Body!.transformToByteArray())
  } finally {
    client.destroy()
  }
}

/** An upload target on the fake's `callbench` bucket (us-east-1, path-style, s3rver's account) under `prefix`. */
export function s3TargetFor(s3: S3Server, prefix: string): S3Target {
  return {
    bucket: TEST_BUCKET,
    prefix,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS }
  }
}
