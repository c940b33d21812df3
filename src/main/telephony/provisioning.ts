/** Points the Twilio number and TwiML app at our public URL (opt-in), remembering the previous webhooks to restore them. */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../log.js'
import type { TwilioClient } from './twilio-client.js'

interface NumberWebhooks {
  voiceUrl: string
  voiceMethod: string
  statusCallback: string
  statusCallbackMethod: string
  voiceApplicationSid: string
}

interface AppWebhooks {
  voiceUrl: string
  voiceMethod: string
  statusCallback: string
  statusCallbackMethod: string
}

/** What we changed, kept in the data folder so a crash still lets the next run (or `restore`) put it back. */
export interface ProvisioningState {
  number?: { sid: string; phoneNumber: string; previous?: NumberWebhooks }
  app?: { sid: string; created: boolean; previous?: AppWebhooks }
  /** The public URL the webhooks point at now. */
  pointedAt?: string
}

export interface ProvisionerOptions {
  dataDir: string
  client: () => Promise<TwilioClient>
  /** The number to point (E.164); empty = only the TwiML app. */
  phoneNumber: () => string | undefined
  /** A TwiML app the user configured (TWILIO_TWIML_APP_SID); without one we create ours. */
  configuredAppSid: () => string | undefined
  log: Logger
}

export const VOICE_PATH = '/twilio/voice'
export const STATUS_PATH = '/twilio/status'

export class Provisioner {
  readonly #opts: ProvisionerOptions
  readonly #file: string
  #queue: Promise<unknown> = Promise.resolve()

  constructor(opts: ProvisionerOptions) {
    this.#opts = opts
    this.#file = join(opts.dataDir, 'twilio-provisioning.json')
  }

  async state(): Promise<ProvisioningState> {
    try {
      return JSON.parse(await readFile(this.#file, 'utf8')) as ProvisioningState
    } catch {
      return {}
    }
  }

  /** The TwiML app in use: the configured one, else the one we created. */
  async appSid(): Promise<string | undefined> {
    return this.#opts.configuredAppSid() || (await this.state()).app?.sid
  }

  /** Points the number and the TwiML app at `publicUrl`. Runs one at a time. */
  apply(publicUrl: string): Promise<ProvisioningState> {
    return this.#serial(() => this.#apply(publicUrl.replace(/\/+$/, '')))
  }

  /** Puts back the webhooks we replaced. Runs one at a time; a no-op when nothing is saved. */
  restore(): Promise<void> {
    return this.#serial(() => this.#restore())
  }

  /** Resolves once every apply/restore asked for so far has finished. */
  async whenIdle(): Promise<void> {
    let seen: Promise<unknown>
    do {
      seen = this.#queue
      await seen
    } while (seen !== this.#queue)
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #save(state: ProvisioningState): Promise<void> {
    const tmp = `${this.#file}.tmp`
    await writeFile(tmp, JSON.stringify(state, null, 2), { mode: 0o600 })
    await rename(tmp, this.#file)
  }

  async #apply(base: string): Promise<ProvisioningState> {
    const client = await this.#opts.client()
    const state = await this.state()
    const voiceUrl = base + VOICE_PATH
    const statusCallback = base + STATUS_PATH
    const log = this.#opts.log

    const phoneNumber = this.#opts.phoneNumber()
    if (phoneNumber) {
      let sid = state.number?.phoneNumber === phoneNumber ? state.number.sid : undefined
      if (!sid) {
        const found = await client.incomingPhoneNumbers.list({ phoneNumber, limit: 1 })
        if (!found[0]) throw new Error('The configured Twilio number is not on this account')
        sid = found[0].sid
        // A different number than last time: put the old one back first.
        if (state.number?.previous && state.number.sid !== sid) await this.#restoreNumber(state)
      }
      if (!state.number?.previous || state.number.sid !== sid) {
        const current = await client.incomingPhoneNumbers(sid).fetch()
        state.number = {
          sid,
          phoneNumber,
          previous: {
            voiceUrl: current.voiceUrl ?? '',
            voiceMethod: current.voiceMethod ?? 'POST',
            statusCallback: current.statusCallback ?? '',
            statusCallbackMethod: current.statusCallbackMethod ?? 'POST',
            voiceApplicationSid: current.voiceApplicationSid ?? ''
          }
        }
        // Saved before the change: a crash between the two still leaves what to restore.
        await this.#save(state)
      }
      // A number bound to a TwiML app ignores its own voice URL, so the binding is cleared (and restored later).
      await client.incomingPhoneNumbers(sid).update({
        voiceUrl,
        voiceMethod: 'POST',
        statusCallback,
        statusCallbackMethod: 'POST',
        voiceApplicationSid: ''
      })
      log.info('twilio number pointed at public url', { numberSid: sid })
    }

    const configured = this.#opts.configuredAppSid()
    const appSid = configured || state.app?.sid
    if (appSid) {
      if (!state.app || state.app.sid !== appSid) state.app = { sid: appSid, created: false }
      if (!state.app.created && !state.app.previous) {
        const current = await client.applications(appSid).fetch()
        state.app.previous = {
          voiceUrl: current.voiceUrl ?? '',
          voiceMethod: current.voiceMethod ?? 'POST',
          statusCallback: current.statusCallback ?? '',
          statusCallbackMethod: current.statusCallbackMethod ?? 'POST'
        }
        await this.#save(state)
      }
      await client.applications(appSid).update({ voiceUrl, voiceMethod: 'POST', statusCallback, statusCallbackMethod: 'POST' })
    } else {
      const created = await client.applications.create({
        friendlyName: 'Callbench',
        voiceUrl,
        voiceMethod: 'POST',
        statusCallback,
        statusCallbackMethod: 'POST'
      })
      state.app = { sid: created.sid, created: true }
      log.info('twilio twiml app created', { appSid: created.sid })
    }
    state.pointedAt = base
    await this.#save(state)
    return state
  }

  async #restoreNumber(state: ProvisioningState): Promise<void> {
    const n = state.number
    if (!n?.previous) return
    const client = await this.#opts.client()
    await client.incomingPhoneNumbers(n.sid).update({
      voiceUrl: n.previous.voiceUrl,
      voiceMethod: n.previous.voiceMethod,
      statusCallback: n.previous.statusCallback,
      statusCallbackMethod: n.previous.statusCallbackMethod,
      voiceApplicationSid: n.previous.voiceApplicationSid
    })
    delete n.previous
    this.#opts.log.info('twilio number webhooks restored', { numberSid: n.sid })
  }

  async #restore(): Promise<void> {
    const state = await this.state()
    if (!state.number?.previous && !state.app?.previous && !state.pointedAt) return
    await this.#restoreNumber(state)
    const a = state.app
    if (a?.previous) {
      const client = await this.#opts.client()
      await client.applications(a.sid).update({ ...a.previous })
      delete a.previous
      this.#opts.log.info('twilio twiml app webhooks restored', { appSid: a.sid })
    }
    // The app we created stays (its sid is in Voice SDK tokens); it simply points nowhere useful until next time.
    delete state.pointedAt
    await this.#save(state)
  }
}
