/** Settings "Test connection" for Twilio: the account answers to these credentials, and the configured number is on it. */
import { CallbenchError } from '../../shared/errors.js'
import type { ServiceCheckOutcome } from '../../shared/service-test.js'
import { hostOf, networkFailure } from '../net-errors.js'
import { twilioClient, type TwilioClientDeps } from './twilio-client.js'

export interface TwilioCheckDeps extends TwilioClientDeps {
  /** The configured caller id (settings, else TWILIO_PHONE_NUMBER), if any. */
  phoneNumber: () => string | undefined
}

const DEFAULT_HOST = 'api.twilio.com'

/** Account statuses that cannot place calls (Twilio `status`: active, suspended, closed). */
const INACTIVE: Record<string, string> = { suspended: 'suspended', closed: 'closed' }

export async function checkTwilio(deps: TwilioCheckDeps): Promise<ServiceCheckOutcome> {
  let client: Awaited<ReturnType<typeof twilioClient>>
  try {
    client = await twilioClient(deps)
  } catch (err) {
    if (err instanceof CallbenchError) {
      return { ok: false, message: /start with AC/.test(err.message) ? 'The Account SID must start with AC' : 'Twilio is not configured: set the Account SID and Auth Token' }
    }
    throw err
  }
  const host = hostOf(deps.config('TWILIO_API_BASE_URL') || `https://${DEFAULT_HOST}`)
  const accountSid = (await deps.secrets.get('TWILIO_ACCOUNT_SID'))!
  let account: Awaited<ReturnType<ReturnType<typeof client.api.v2010.accounts>['fetch']>>
  try {
    account = await client.api.v2010.accounts(accountSid).fetch()
  } catch (err) {
    return failure(err, host, 'the account')
  }
  const name = account.friendlyName ? `“${account.friendlyName}”` : 'account'
  const facts = [`${account.type ?? 'Full'} account`, `status ${account.status}`]
  const inactive = INACTIVE[account.status]
  if (inactive) return { ok: false, message: `The Twilio account ${name} is ${inactive}: it cannot place or take calls`, detail: facts.join(' · ') }

  const number = deps.phoneNumber()
  if (!number) {
    return { ok: true, message: `Connected to Twilio ${name}; no phone number is set yet`, detail: facts.join(' · ') }
  }
  let found: boolean
  try {
    found = (await client.incomingPhoneNumbers.list({ phoneNumber: number, limit: 1 })).length > 0
  } catch (err) {
    return failure(err, host, 'the phone numbers')
  }
  if (!found) return { ok: false, message: `The number ${number} is not on this Twilio account`, detail: facts.join(' · ') }
  return { ok: true, message: `Connected to Twilio ${name}; ${number} is on the account`, detail: facts.join(' · ') }
}

function failure(err: unknown, host: string, what: string): ServiceCheckOutcome {
  const e = err as { status?: number; code?: number }
  if (typeof e?.status === 'number') {
    const code = e.code ? `Twilio error ${e.code}` : undefined
    const withCode = code ? { detail: code } : {}
    if (e.status === 401) return { ok: false, message: 'Twilio rejected the Account SID / Auth Token (401)', ...withCode }
    if (e.status === 403) return { ok: false, message: `Twilio refused access to ${what} for these credentials (403)`, ...withCode }
    if (e.status === 404) return { ok: false, message: 'Twilio has no account with this Account SID (404)', ...withCode }
    if (e.status === 429) return { ok: false, message: 'Twilio is rate-limiting this account (429): try again shortly', ...withCode }
    return { ok: false, message: `Twilio answered ${e.status} when asked for ${what}`, ...withCode }
  }
  const reason = networkFailure(err)
  return { ok: false, message: `Could not reach Twilio at ${host} (${reason ?? 'no answer'})` }
}
