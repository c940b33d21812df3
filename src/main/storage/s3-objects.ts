/** Putting one object (lib-storage multipart with progress) and checking it landed whole (HeadObject size, ETag, sha256). */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { AbortMultipartUploadCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { CallbenchError } from '../../shared/errors.js'

/** S3's smallest part (except the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024

export interface PutObjectOptions {
  client: S3Client
  bucket: string
  key: string
  /** A file path (streamed) or bytes. */
  body: { path: string } | Uint8Array
  contentType: string
  metadata?: Record<string, string>
  partSizeBytes?: number
  /** Parts in flight at once. Default 2. */
  queueSize?: number
  signal?: AbortSignal
  /** Bytes of this object sent so far. */
  onProgress?: (loadedBytes: number) => void
  /** The multipart UploadId once S3 gave one: persisted so a later attempt can abort the leftover parts. */
  onUploadId?: (uploadId: string) => void
}

export async function putObject(o: PutObjectOptions): Promise<void> {
  const stream = 'path' in o.body ? createReadStream(o.body.path) : undefined
  const upload = new Upload({
    client: o.client,
    params: {
      Bucket: o.bucket,
      Key: o.key,
      Body: stream ?? (o.body as Uint8Array),
      ContentType: o.contentType,
      ...(o.metadata ? { Metadata: o.metadata } : {})
    },
    partSize: Math.max(MIN_PART_BYTES, o.partSizeBytes ?? MIN_PART_BYTES),
    queueSize: o.queueSize ?? 2,
    leavePartsOnError: false
  })
  let reportedId: string | undefined
  const reportId = () => {
    if (upload.uploadId && upload.uploadId !== reportedId) {
      reportedId = upload.uploadId
      o.onUploadId?.(upload.uploadId)
    }
  }
  upload.on('httpUploadProgress', (p) => {
    reportId()
    if (p.loaded !== undefined) o.onProgress?.(p.loaded)
  })
  const onAbort = () => void upload.abort().catch(() => undefined)
  o.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await upload.done()
  } catch (err) {
    reportId()
    throw err
  } finally {
    o.signal?.removeEventListener('abort', onAbort)
    stream?.destroy()
  }
}

/** Best effort: a store that cannot abort (s3rver) or is down just keeps the parts until its own cleanup. */
export async function abortMultipart(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string
): Promise<boolean> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
    return true
  } catch {
    return false
  }
}

export interface LocalDigest {
  bytes: number
  md5Hex: string
  sha256Hex: string
  /** ETag S3 gives a multipart upload of this content with `partSizeBytes` parts: md5(md5(part)…)-N. */
  multipartEtag: string
}

export async function digestFile(path: string, partSizeBytes = MIN_PART_BYTES): Promise<LocalDigest> {
  const md5 = createHash('md5')
  const sha = createHash('sha256')
  const partMd5s: Buffer[] = []
  let part = createHash('md5')
  let inPart = 0
  let bytes = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    md5.update(chunk)
    sha.update(chunk)
    bytes += chunk.length
    let off = 0
    while (off < chunk.length) {
      const take = Math.min(chunk.length - off, partSizeBytes - inPart)
      part.update(chunk.subarray(off, off + take))
      inPart += take
      off += take
      if (inPart === partSizeBytes) {
        partMd5s.push(part.digest())
        part = createHash('md5')
        inPart = 0
      }
    }
  }
  if (inPart > 0) partMd5s.push(part.digest())
  const multipartEtag = `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}`
  return { bytes, md5Hex: md5.digest('hex'), sha256Hex: sha.digest('hex'), multipartEtag }
}

/**
 * Checks the stored object against the local file: size, ETag (whole-object MD5 for a single PUT, the multipart
 * form otherwise) and our own sha256 metadata. Throws `upstream_failed` naming what differs.
 */
export async function verifyObject(client: S3Client, bucket: string, key: string, local: LocalDigest): Promise<void> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  if (head.ContentLength !== local.bytes) {
    throw new CallbenchError('upstream_failed', `Stored object is ${head.ContentLength} bytes, expected ${local.bytes}`)
  }
  const etag = (head.ETag ?? '').replace(/"/g, '')
  if (etag && etag !== local.md5Hex && etag !== local.multipartEtag) {
    throw new CallbenchError('upstream_failed', 'Stored object checksum (ETag) does not match the local copy')
  }
  const sha = head.Metadata?.sha256
  if (sha !== undefined && sha !== local.sha256Hex) {
    throw new CallbenchError('upstream_failed', 'Stored object sha256 does not match the local copy')
  }
  if (!etag && sha === undefined) throw new CallbenchError('upstream_failed', 'Stored object has no checksum to verify')
}

/** Whether an S3/network failure may pass on a later attempt (network, 5xx, throttling), as opposed to a 4xx. */
export function isRetryableS3Error(err: unknown): boolean {
  if (err instanceof CallbenchError) return err.retryable
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode
  if (status === undefined) return true
  return status >= 500 || status === 408 || status === 429
}
