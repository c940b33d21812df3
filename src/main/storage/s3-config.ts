/** Where call records go in S3: settings first, the environment where settings are left at their defaults; keys and URLs. */
import { S3Client } from '@aws-sdk/client-s3'
import type { Settings } from '../../shared/settings.js'
import { SettingsSchema } from '../../shared/settings.js'
import type { SecretStore } from '../settings/secrets.js'

export interface S3Target {
  bucket: string
  /** Key prefix without leading or trailing slashes; may be empty. */
  prefix: string
  region: string
  /** S3-compatible endpoint (`http://127.0.0.1:9000`); undefined = AWS. */
  endpoint?: string
  forcePathStyle: boolean
  /** Undefined: the SDK's default credential chain (profile, SSO, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

const DEFAULT_S3 = SettingsSchema.parse({}).s3

/** The S3 target, or undefined when no bucket is configured anywhere. */
export async function resolveS3Target(
  s3: Settings['s3'],
  config: (name: string) => string | undefined,
  secrets: Pick<SecretStore, 'get'>
): Promise<S3Target | undefined> {
  const bucket = s3.bucket || config('S3_BUCKET')
  if (!bucket) return undefined
  const endpoint = s3.endpoint || config('AWS_ENDPOINT_URL_S3') || undefined
  const region = (s3.region !== DEFAULT_S3.region ? s3.region : config('AWS_REGION')) || s3.region
  const prefix = (s3.prefix !== DEFAULT_S3.prefix ? s3.prefix : (config('S3_PREFIX') ?? s3.prefix)).replace(
    /^\/+|\/+$/g,
    ''
  )
  const accessKeyId = await secrets.get('AWS_ACCESS_KEY_ID')
  const secretAccessKey = await secrets.get('AWS_SECRET_ACCESS_KEY')
  const sessionToken = await secrets.get('AWS_SESSION_TOKEN')
  return {
    bucket,
    prefix,
    region,
    ...(endpoint ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
    forcePathStyle:
      s3.forcePathStyle || config('S3_FORCE_PATH_STYLE') === 'true' || (!!endpoint && hostNeedsPathStyle(endpoint)),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {})
  }
}

/** Virtual-hosted style (`bucket.host`) cannot work on an IP address or localhost. */
function hostNeedsPathStyle(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname
    return host === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[')
  } catch {
    return false
  }
}

export function createS3Client(t: S3Target): S3Client {
  return new S3Client({
    region: t.region,
    forcePathStyle: t.forcePathStyle,
    ...(t.endpoint ? { endpoint: t.endpoint } : {}),
    ...(t.credentials ? { credentials: t.credentials } : {}),
    // Checksums only where S3 requires them: S3-compatible stores (s3rver, older MinIO) reject aws-chunked bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  })
}

/** `{prefix}/{yyyy}/{mm}/{dd}/{callId}/`, the date being the call's start in UTC. */
export function callKeyPrefix(prefix: string, startedAt: string, callId: string): string {
  const d = new Date(startedAt)
  const day = Number.isNaN(d.getTime()) ? new Date() : d
  const yyyy = String(day.getUTCFullYear())
  const mm = String(day.getUTCMonth() + 1).padStart(2, '0')
  const dd = String(day.getUTCDate()).padStart(2, '0')
  const safeId = callId.replace(/[^A-Za-z0-9._-]/g, '_')
  return [prefix, yyyy, mm, dd, safeId].filter(Boolean).join('/') + '/'
}

/** The object's URL (path-style on a custom endpoint when configured, virtual-hosted on AWS). */
export function objectUrl(t: S3Target, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/')
  if (t.endpoint) {
    const u = new URL(t.endpoint)
    if (t.forcePathStyle) return `${u.origin}/${t.bucket}/${path}`
    return `${u.protocol}//${t.bucket}.${u.host}/${path}`
  }
  if (t.forcePathStyle) return `https://s3.${t.region}.amazonaws.com/${t.bucket}/${path}`
  return `https://${t.bucket}.s3.${t.region}.amazonaws.com/${path}`
}
