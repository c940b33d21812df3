/** Composition root: builds every service from options and settings, starts and stops them in order. */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Settings } from '../shared/settings.js'
import type { AgentMode } from '../shared/modes.js'
import type { TunnelState } from '../shared/events.js'
import type { Services } from '../shared/api.js'
import { EventHub } from './events/hub.js'
import { createLogger, type Logger, type LogLevel } from './log.js'
import { createControlListener } from './server/control.js'
import { createPublicListener } from './server/public.js'
import type { Listener } from './server/listener.js'
import { registerCoreRoutes } from './server/routes/core.js'
import { EnvSecretStore, readEnvFile, type SecretStore } from './settings/secrets.js'
import { hasElevenLabsKey, loadElevenLabsSdk } from './speech/elevenlabs-client.js'
import { registerCalls } from './calls/wiring.js'
import { registerTelephony } from './server/routes/telephony.js'
import { registerRecords } from './server/routes/records.js'
import { registerVoices } from './server/routes/voices.js'
import { registerGather } from './server/routes/gather.js'
import { registerEngines } from './server/routes/engines.js'
import { registerListen } from './server/routes/listen.js'
import { registerServiceTests } from './server/routes/service-test.js'
import type { CallRegistry } from './calls/registry.js'
import { findResourcesDir } from './resources.js'
import { SettingsStore } from './settings/settings-store.js'
import { VERSION } from './version.js'

export interface AppOptions {
  /** Public (Twilio-facing) listener port; 0 picks a free one. Default 5050. */
  publicPort?: number
  /** Host the public listener binds. Default 127.0.0.1. */
  publicHost?: string
  /** Control listener port (always 127.0.0.1); 0 picks a free one. Default 5051. */
  controlPort?: number
  /** Data folder (settings, call log, recordings). */
  dataDir: string
  /** A public URL the user already exposes (reverse proxy, ngrok); disables the tunnel. */
  publicUrl?: string
  /** Start the cloudflared tunnel. Default true unless publicUrl is given. */
  tunnel?: boolean
  /** The cloudflared binary (else CLOUDFLARED_PATH, the npm package's, then PATH). */
  cloudflaredPath?: string
  /** Default engine for calls that name none. */
  mode?: AgentMode
  /** Fixed control token (scripts); default a random one per launch. */
  token?: string
  /** Environment for configuration and headless secrets. Default process.env. */
  env?: Record<string, string | undefined>
  /** `.env` files read for configuration and secrets, in order. */
  envFiles?: string[]
  /** Secret store; default the environment/.env store. The desktop shell passes safeStorage. */
  secrets?: SecretStore
  /** Built console folder. */
  rendererDir?: string
  /** Shipped resources (prompts); found next to the code when omitted. */
  resourcesDir?: string
  logLevel?: LogLevel | 'silent'
}

export interface App {
  readonly version: string
  readonly token: string
  readonly controlUrl: string
  readonly consoleUrl: string
  readonly dataDir: string
  readonly startedAtMs: number
  readonly log: Logger
  readonly hub: EventHub
  readonly settings: SettingsStore
  readonly secrets: SecretStore
  readonly publicListener: Listener
  readonly controlListener: Listener
  /** Live calls. */
  readonly calls: CallRegistry
  /** Commands accepted on the events WebSocket. */
  readonly commands: Map<string, (msg: Record<string, unknown>) => Promise<unknown>>
  /** Non-secret configuration (environment, then .env files). */
  config(name: string): string | undefined
  /** The public base URL Twilio reaches us at (tunnel or --public-url), if any. */
  publicUrl(): string | undefined
  tunnelState(): TunnelState
  setTunnelState(state: TunnelState): void
  services(): Promise<Services>
  activeCalls(): number
  /** Hooks run on stop, last registered first. */
  onStop(fn: () => Promise<void> | void): void
  stop(): Promise<void>
}

export async function startApp(opts: AppOptions): Promise<App> {
  const startedAtMs = Date.now()
  const hub = new EventHub()
  const log = createLogger({ hub, ...(opts.logLevel ? { level: opts.logLevel } : {}) })
  const env = opts.env ?? process.env
  await mkdir(opts.dataDir, { recursive: true })

  const secrets =
    opts.secrets ??
    (await EnvSecretStore.open({ env, envFiles: opts.envFiles ?? [], storePath: join(opts.dataDir, 'secrets.env') }))
  const fileConfig: Record<string, string> = {}
  for (const f of opts.envFiles ?? []) {
    Object.assign(fileConfig, await readEnvFile(f))
  }
  const config = (name: string) => env[name] || fileConfig[name] || undefined

  const overrides: Partial<Settings> = {}
  const settings = await SettingsStore.open(join(opts.dataDir, 'settings.json'), log, overrides)
  if (opts.mode) await settings.update({ defaultMode: opts.mode })

  const token = opts.token ?? randomBytes(24).toString('base64url')
  const commands = new Map<string, (msg: Record<string, unknown>) => Promise<unknown>>()
  const controlListener = createControlListener({
    port: opts.controlPort ?? 5051,
    token,
    log,
    hub,
    version: VERSION,
    commands,
    ...(opts.rendererDir ? { rendererDir: opts.rendererDir } : {})
  })
  const publicListener = createPublicListener({ host: opts.publicHost ?? '127.0.0.1', port: opts.publicPort ?? 5050, log })

  let tunnel: TunnelState = opts.publicUrl
    ? { status: 'external', publicUrl: opts.publicUrl.replace(/\/+$/, '') }
    : { status: 'off' }
  const stopHooks: Array<() => Promise<void> | void> = []
  let calls: CallRegistry | undefined

  const app: App = {
    version: VERSION,
    token,
    get controlUrl() {
      return `http://127.0.0.1:${controlListener.port}`
    },
    get consoleUrl() {
      return `http://127.0.0.1:${controlListener.port}/#token=${token}`
    },
    dataDir: opts.dataDir,
    startedAtMs,
    log,
    hub,
    settings,
    secrets,
    publicListener,
    controlListener,
    commands,
    get calls() {
      if (!calls) throw new Error('calls not ready')
      return calls
    },
    config,
    publicUrl: () => tunnel.publicUrl,
    tunnelState: () => tunnel,
    setTunnelState(state) {
      tunnel = state
      hub.publish({ type: 'tunnel.state', tunnel: state })
    },
    async services() {
      const has = async (n: Parameters<SecretStore['get']>[0]) => Boolean(await secrets.get(n))
      const s = settings.get()
      return {
        twilio: (await has('TWILIO_ACCOUNT_SID')) && (await has('TWILIO_AUTH_TOKEN')),
        openai: await has('OPENAI_API_KEY'),
        elevenlabs: await has('ELEVENLABS_API_KEY'),
        s3: Boolean(s.s3.bucket || config('S3_BUCKET'))
      }
    },
    activeCalls: () => calls?.activeCount() ?? 0,
    onStop: (fn) => void stopHooks.push(fn),
    async stop() {
      for (const fn of stopHooks.reverse()) {
        try {
          await fn()
        } catch (err) {
          log.warn('stop hook failed', { err: err as Error })
        }
      }
      await Promise.all([publicListener.close(), controlListener.close()])
    }
  }

  registerCoreRoutes(app)
  calls = registerCalls(app, opts.resourcesDir ?? findResourcesDir())
  registerTelephony(app, { tunnel: opts.tunnel ?? !opts.publicUrl, cloudflaredPath: opts.cloudflaredPath })
  registerGather(app)
  registerEngines(app)
  registerListen(app)
  await registerRecords(app)
  registerVoices(app)
  registerServiceTests(app)

  await publicListener.listen()
  await controlListener.listen()
  log.info('callbench started', { publicPort: publicListener.port, controlPort: controlListener.port, version: VERSION })
  warmElevenLabsSdk(app)
  return app
}

/**
 * Loads the ElevenLabs SDK soon after start (or once its key is set) when a key is configured. Its import blocks
 * the event loop for one to two seconds: paid while no call is live, not on the first ElevenLabs call, where it
 * froze the audio of every other call.
 */
export function warmElevenLabsSdk(app: Pick<App, 'secrets' | 'log'>): void {
  warmUps++
  const timer = setTimeout(() => {
    void hasElevenLabsKey(app)
      .then((has) => (has ? loadElevenLabsSdk() : undefined))
      .catch((err: unknown) => app.log.warn('could not load the ElevenLabs SDK', { err: err as Error }))
      .finally(() => warmUps--)
  }, 300)
  timer.unref()
}

let warmUps = 0

/** Whether a warm-up (above) is still due or running: health says so, and the benchmark waits for it. */
export function warmingUp(): boolean {
  return warmUps > 0
}
