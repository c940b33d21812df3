// A running app wired to the fake Twilio: public URL mapped to the local public listener, API and event helpers.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Agent } from '../../src/main/agents/agent.js'
import { startApp, type App } from '../../src/main/app.js'
import type { ServerEvent } from '../../src/shared/events.js'
import { FakeTwilio } from '../fakes/twilio-rest.js'

export const PUBLIC_URL = 'https://callbench-test.example'
export const OUR_NUMBER = '+15550001111'

export interface Harness {
  app: App
  fake: FakeTwilio
  events: ServerEvent[]
  dataDir: string
  /** Maps a URL on the public host to the local public listener (what a tunnel does). */
  local(url: string): string
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>
  /** Resolves with the first event (already seen or future) matching. */
  waitFor<E extends ServerEvent>(pred: (e: ServerEvent) => e is E): Promise<E>
  waitFor(pred: (e: ServerEvent) => boolean): Promise<ServerEvent>
  /** Stops the app only (quit), keeping the fake running; close() then skips it. */
  stopApp(): Promise<void>
  close(): Promise<void>
}

export interface HarnessOptions {
  /** Public URL given to the app; undefined = none (and no tunnel). Default PUBLIC_URL. */
  publicUrl?: string | undefined
  env?: Record<string, string>
  /** Leave the auth token out of the app's secrets. */
  noAuthToken?: boolean
  /** Another public host to map (a tunnel's). */
  resolveExtra?: (url: string) => string | undefined
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const publicUrl = 'publicUrl' in opts ? opts.publicUrl : PUBLIC_URL
  let publicPort = 0
  const local = (url: string): string => {
    const extra = opts.resolveExtra?.(url)
    if (extra) return extra
    const u = new URL(url)
    const ws = u.protocol === 'wss:' || u.protocol === 'ws:'
    return `${ws ? 'ws' : 'http'}://127.0.0.1:${publicPort}${u.pathname}${u.search}`
  }
  const fake = new FakeTwilio({ resolve: local })
  await fake.start()
  const dataDir = await mkdtemp(join(tmpdir(), 'callbench-tel-'))
  const app = await startApp({
    dataDir,
    publicPort: 0,
    controlPort: 0,
    tunnel: false,
    token: 't',
    ...(publicUrl ? { publicUrl } : {}),
    env: {
      TWILIO_ACCOUNT_SID: fake.accountSid,
      ...(opts.noAuthToken ? {} : { TWILIO_AUTH_TOKEN: fake.authToken }),
      TWILIO_API_BASE_URL: fake.baseUrl,
      TWILIO_PHONE_NUMBER: OUR_NUMBER,
      ...opts.env
    },
    logLevel: 'silent'
  })
  publicPort = app.publicListener.port
  const events: ServerEvent[] = []
  const waiters = new Set<{ pred: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }>()
  app.hub.subscribe((e) => {
    events.push(e)
    for (const w of waiters) {
      if (w.pred(e)) {
        waiters.delete(w)
        w.resolve(e)
      }
    }
  })
  const api: Harness['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(app.controlUrl + path, {
      method,
      headers: { authorization: 'Bearer t', ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {})
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {} }
  }
  const waitFor = ((pred: (e: ServerEvent) => boolean) => {
    const seen = events.find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise<ServerEvent>((resolve) => waiters.add({ pred, resolve }))
  }) as Harness['waitFor']
  let appStopped: Promise<void> | undefined
  const stopApp = () => (appStopped ??= app.stop())
  return {
    app,
    fake,
    events,
    dataDir,
    local,
    api,
    waitFor,
    stopApp,
    async close() {
      await stopApp()
      await fake.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** call.* events about one call, in order. */
export function callEvents(events: ServerEvent[], callId: string): Array<Extract<ServerEvent, { type: 'call.started' | 'call.updated' | 'call.ended' }>> {
  return events.filter(
    (e): e is Extract<ServerEvent, { type: 'call.started' | 'call.updated' | 'call.ended' }> =>
      (e.type === 'call.started' || e.type === 'call.updated' || e.type === 'call.ended') && e.call.id === callId
  )
}

/**
 * An agent given a voice: `say()` notes the text in `said` and speaks `toneMs` of tone as its own reply (labelled
 * voicemail), the way a TTS engine would.
 */
export function withToneSay(agent: Agent, toneMs: number, said: string[]): Agent {
  return Object.assign(agent, {
    capabilities: { ...agent.capabilities, canSay: true },
    say: async (text: string) => {
      said.push(text)
      const tone = new Uint8Array(toneMs * 8).map((_, i) => (i % 16 < 8 ? 0x20 : 0xa0))
      setTimeout(() => {
        agent.emit('audio', tone, 'voicemail')
        agent.emit('audioEnd', 'voicemail')
      }, 10)
    }
  })
}
