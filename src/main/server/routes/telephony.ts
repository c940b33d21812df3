/** Telephony wiring: signature gate and Twilio webhooks on the public listener, calls/token/tunnel/contacts on the control API. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AmdOverrideSchema, PlaceCallSchema } from '../../../shared/telephony.js'
import type { App } from '../../app.js'
import { createVoiceToken } from '../../telephony/access-token.js'
import { InMemoryContacts, NO_PROFILES, type ContactsLookup, type ProfileSource } from '../../telephony/contacts.js'
import { Provisioner } from '../../telephony/provisioning.js'
import { createTwilioVerifier, webhookParams } from '../../telephony/signature.js'
import { Telephony } from '../../telephony/telephony.js'
import { twilioClient } from '../../telephony/twilio-client.js'
import { PROBE_HEADER, PROBE_PATH, ProbeBook } from '../../tunnel/probe.js'
import type { PublicListener } from '../public.js'
import { parseWith, readJson, sendJson } from '../http.js'
import { registerContacts } from './contacts.js'
import { registerTunnel, type TunnelController } from './tunnel.js'

export interface TelephonyWiringOptions {
  /** Start the cloudflared tunnel once the app is up. */
  tunnel: boolean
  cloudflaredPath?: string | undefined
}

/** What the wiring made, for the code that embeds it (and for tests, which tune the tunnel or swap stores). */
export interface TelephonyHandle {
  telephony: Telephony
  tunnel: TunnelController
  provisioner: Provisioner
  /** Contacts for inbound lookups; the SQLite store replaces the in-memory default when it exists. */
  contacts: ContactsLookup
  profiles: ProfileSource
  /** Public routes that carry their own proof instead of a Twilio signature (the Gather audio's signed URLs). */
  publicExemptions: Array<(req: IncomingMessage, url: URL) => boolean>
}

const handles = new WeakMap<App, TelephonyHandle>()

/** The telephony handle of an app built with registerTelephony. */
export function telephonyOf(app: App): TelephonyHandle {
  const h = handles.get(app)
  if (!h) throw new Error('telephony is not registered on this app')
  return h
}

function sendTwiml(res: ServerResponse, twiml: string): void {
  res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(twiml), 'cache-control': 'no-store' })
  res.end(twiml)
}

export function registerTelephony(app: App, opts: TelephonyWiringOptions): TelephonyHandle {
  const probes = new ProbeBook()
  const publicListener = app.publicListener as PublicListener
  // Unsigned requests: refused, always, unless CALLBENCH_UNSIGNED_LOOPBACK=1 and nothing is exposed (no tunnel, no
  // --public-url) and the request comes from this machine. That is for poking at webhooks by hand while developing.
  publicListener.setVerifier(
    createTwilioVerifier({
      authToken: () => app.secrets.get('TWILIO_AUTH_TOKEN'),
      publicUrl: () => app.publicUrl(),
      log: app.log,
      allowUnsignedLoopback: app.config('CALLBENCH_UNSIGNED_LOOPBACK') === '1',
      exempt: (req: IncomingMessage, url: URL) =>
        (url.pathname === PROBE_PATH && probes.valid(req.headers[PROBE_HEADER])) || handle.publicExemptions.some((fn) => fn(req, url))
    })
  )

  const handle = {} as TelephonyHandle
  handle.publicExemptions = []
  handle.contacts = new InMemoryContacts()
  handle.profiles = NO_PROFILES
  handle.telephony = new Telephony({
    hub: app.hub,
    log: app.log,
    secrets: app.secrets,
    config: app.config,
    settings: () => app.settings.get(),
    publicUrl: () => app.publicUrl(),
    localPublicBase: () => `http://127.0.0.1:${app.publicListener.port}`,
    calls: app.calls,
    contacts: () => handle.contacts,
    profiles: () => handle.profiles
  })
  app.calls.startVerifier = (start, source) => handle.telephony.verifyStart(start, source)
  handle.provisioner = new Provisioner({
    dataDir: app.dataDir,
    client: () => twilioClient({ secrets: app.secrets, config: app.config }),
    phoneNumber: () => app.settings.get().twilio.phoneNumber || app.config('TWILIO_PHONE_NUMBER'),
    configuredAppSid: () => app.config('TWILIO_TWIML_APP_SID'),
    log: app.log
  })
  handle.tunnel = registerTunnel(app, { autoStart: opts.tunnel, cloudflaredPath: opts.cloudflaredPath, probes })
  registerContacts(app, () => handle.contacts)
  handles.set(app, handle)
  const t = handle.telephony

  // ---- public listener: Twilio webhooks (the verifier has checked the signature and read the form) ----
  const pub = publicListener.router
  const webhook =
    (fn: (q: URLSearchParams, form: Record<string, string>) => string | Promise<string>) =>
    async ({ req, res, url }: { req: IncomingMessage; res: ServerResponse; url: URL }) =>
      sendTwiml(res, await fn(url.searchParams, webhookParams(req)))
  pub.post('/twilio/voice', webhook((q, f) => t.onVoice(q, f)))
  pub.get('/twilio/voice', webhook((q, f) => t.onVoice(q, f)))
  pub.post('/twilio/status', webhook((q, f) => t.onStatus(q, f)))
  pub.post('/twilio/amd', webhook((q, f) => t.onAmd(q, f)))
  pub.post('/twilio/recording', webhook((q, f) => t.onRecording(q, f)))

  // ---- control API ----
  const r = app.controlListener.router
  r.post('/api/calls', async ({ req, res }) => {
    const input = parseWith(PlaceCallSchema, await readJson(req))
    sendJson(res, 201, await t.placeCall(input))
  })
  r.post('/api/calls/:id/hangup', async ({ res, params }) => sendJson(res, 200, await t.hangup(params.id!)))
  r.post('/api/calls/:id/amd', async ({ req, res, params }) => {
    const { action } = parseWith(AmdOverrideSchema, await readJson(req))
    sendJson(res, 200, await t.overrideAmd(params.id!, action))
  })
  r.get('/api/calls/:id/twilio', async ({ res, params }) => sendJson(res, 200, await t.view(params.id!)))
  r.get('/api/twilio/calls', ({ res, url }) => sendJson(res, 200, { calls: t.trackedCalls({ active: url.searchParams.get('active') === '1' }) }))
  r.post('/api/voice-token', async ({ res }) =>
    sendJson(res, 200, await createVoiceToken({ secrets: app.secrets, dataDir: app.dataDir, appSid: () => handle.provisioner.appSid() }))
  )
  r.get('/api/twilio/provisioning', async ({ res }) =>
    sendJson(res, 200, { enabled: app.settings.get().twilio.provisioning, state: await handle.provisioner.state() })
  )

  // ---- provisioning: follow the public URL while the setting is on; put things back when it goes off or we quit ----
  let pointedAt: string | undefined
  const provision = (url: string | undefined) => {
    if (!url || url === pointedAt || !app.settings.get().twilio.provisioning) return
    pointedAt = url
    handle.provisioner.apply(url).catch((err: unknown) => {
      pointedAt = undefined
      app.log.warn('twilio provisioning failed', { err: err as Error })
    })
  }
  const restore = () =>
    handle.provisioner.restore().catch((err: unknown) => app.log.warn('twilio webhooks could not be restored', { err: err as Error }))
  const unsubscribe = app.hub.subscribe((event) => {
    if (event.type !== 'tunnel.state') return
    if (event.tunnel.status === 'ready' || event.tunnel.status === 'external') provision(event.tunnel.publicUrl)
  })
  let provisioningOn = app.settings.get().twilio.provisioning
  app.settings.on('changed', (s) => {
    if (s.twilio.provisioning === provisioningOn) return
    provisioningOn = s.twilio.provisioning
    if (provisioningOn) provision(app.publicUrl())
    else {
      pointedAt = undefined
      void restore()
    }
  })
  if (app.tunnelState().status === 'external') setImmediate(() => provision(app.publicUrl()))
  app.onStop(async () => {
    unsubscribe()
    t.close()
    await restore()
  })
  return handle
}

