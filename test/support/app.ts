// The app started in-process for a test: free ports, no tunnel, a fixed token, silent logs, a throwaway data folder,
// the environment pointed at the fakes given, and every event it publishes kept for the test to wait on.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApp, type App } from '../../src/main/app.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { S3RVER_CREDENTIALS } from '../fakes/s3-server.js'

/** The control token tests use unless they need another. */
export const TEST_TOKEN = 't'

/** The fakes an app can be pointed at: each sets its service's key(s) and base URL in the app's environment. */
export interface TestAppFakes {
  /** The OpenAI Realtime fake (any bearer key is accepted; the app gets `test`). */
  realtime?: { baseUrl: string }
  /** The OpenAI chat (LLM) fake, with its key. */
  openaiChat?: { url: string; apiKey: string }
  /** The ElevenLabs fake, with its key. */
  elevenlabs?: { url: string; apiKey: string }
  /** A Twilio REST fake: account SID, auth token and API base URL (not the phone number). */
  twilio?: { accountSid: string; authToken: string; baseUrl: string }
  /** s3rver: its endpoint and built-in credentials (not the bucket). */
  s3?: { endpoint: string }
}

export interface TestAppOptions {
  /** Fakes the app is pointed at (see TestAppFakes). */
  fakes?: TestAppFakes
  /** More environment (configuration and secrets), applied after the fakes'; process.env is never read. */
  env?: Record<string, string>
  /** Control token. Default TEST_TOKEN. */
  token?: string
  /** Run on this data folder instead of a fresh one; `stop()` then leaves it in place. */
  dataDir?: string
  /** A public URL the app is told it has. */
  publicUrl?: string
}

export interface TestApp {
  app: App
  token: string
  dataDir: string
  /** The control listener, `http://127.0.0.1:<port>`. */
  url: string
  /** The loopback Media Streams endpoint with the token, `ws://127.0.0.1:<port>/api/media?token=<token>`. */
  mediaUrl: string
  /** Every event the app published since it started, in order. */
  events: ServerEvent[]
  /** Resolves with the first event, already published or to come, that matches. */
  untilEvent(match: (e: ServerEvent) => boolean): Promise<ServerEvent>
  /** Stops the app, then removes its data folder unless the test gave it. */
  stop(): Promise<void>
}

/** The environment that points an app at the given fakes. */
export function fakeServiceEnv(fakes: TestAppFakes): Record<string, string> {
  const env: Record<string, string> = {}
  const { realtime, openaiChat, elevenlabs, twilio, s3 } = fakes
  if (realtime) Object.assign(env, { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: realtime.baseUrl })
  if (openaiChat) Object.assign(env, { OPENAI_API_KEY: openaiChat.apiKey, OPENAI_BASE_URL: openaiChat.url })
  if (elevenlabs) Object.assign(env, { ELEVENLABS_API_KEY: elevenlabs.apiKey, ELEVENLABS_BASE_URL: elevenlabs.url })
  if (twilio) {
    Object.assign(env, {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.baseUrl
    })
  }
  if (s3) {
    Object.assign(env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey
    })
  }
  return env
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const token = opts.token ?? TEST_TOKEN
  const ownsDataDir = opts.dataDir === undefined
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'callbench-test-')))
  let app: App
  try {
    app = await startApp({
      dataDir,
      publicPort: 0,
      controlPort: 0,
      tunnel: false,
      token,
      ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
      env: { ...fakeServiceEnv(opts.fakes ?? {}), ...opts.env },
      logLevel: 'silent'
    })
  } catch (err) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true })
    throw err
  }

  const events: ServerEvent[] = []
  const waiters = new Set<(e: ServerEvent) => void>()
  app.hub.subscribe((e) => {
    events.push(e)
    for (const w of [...waiters]) w(e)
  })
  const untilEvent = (match: (e: ServerEvent) => boolean): Promise<ServerEvent> => {
    const found = events.find(match)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => {
      const w = (e: ServerEvent): void => {
        if (!match(e)) return
        waiters.delete(w)
        resolve(e)
      }
      waiters.add(w)
    })
  }

  const port = app.controlListener.port
  return {
    app,
    token,
    dataDir,
    url: `http://127.0.0.1:${port}`,
    mediaUrl: `ws://127.0.0.1:${port}/api/media?token=${token}`,
    events,
    untilEvent,
    async stop() {
      await app.stop()
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true })
    }
  }
}
