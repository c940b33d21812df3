/** Inbound customer context: who is calling (contacts by number) and which profile serves them. */
import type { Contact } from '../../shared/records.js'
import type { Profile } from '../../shared/profiles.js'

/** A contact as telephony uses it: the CSV's `tags` and `profileId` columns pulled out of the extra fields. */
export interface Customer {
  number: string
  name: string
  tags: string[]
  notes?: string
  profileId?: string
  /** Everything else known about the caller, for the engine's context. */
  context: Record<string, string>
}

/** Where contacts live: the SQLite store when it exists, else memory. */
export interface ContactsLookup {
  find(number: string): Promise<Contact | undefined>
  /** Inserts or replaces contacts by number; answers how many were written. */
  upsert(contacts: readonly Contact[]): Promise<number>
}

/** Profiles as telephony needs them (by id, and the list for tag matching). */
export interface ProfileSource {
  get(id: string): Promise<Profile | undefined>
  list(): Promise<Profile[]>
}

/** The digits of a number: the lookup key, so `+1 (555) 010-0200` and `+15550100200` match. */
export function digitsOf(number: string): string {
  const trimmed = number.trim()
  const digits = trimmed.replace(/\D+/g, '')
  return !trimmed.startsWith('+') && digits.startsWith('00') ? digits.slice(2) : digits
}

export class InMemoryContacts implements ContactsLookup {
  readonly #byDigits = new Map<string, Contact>()

  async find(number: string): Promise<Contact | undefined> {
    return this.#byDigits.get(digitsOf(number))
  }

  async upsert(contacts: readonly Contact[]): Promise<number> {
    for (const c of contacts) this.#byDigits.set(digitsOf(c.number), c)
    return contacts.length
  }
}

export const NO_PROFILES: ProfileSource = { get: async () => undefined, list: async () => [] }

function splitTags(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[|,\s]+/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean)
}

/** A stored contact as a customer: `tags` and `profileId` (any casing of the column name) lifted out. */
export function toCustomer(contact: Contact): Customer {
  const fields = { ...(contact.fields ?? {}) }
  let tags: string[] = []
  let profileId: string | undefined
  for (const key of Object.keys(fields)) {
    const k = key.toLowerCase().replace(/[_\s-]/g, '')
    if (k === 'tags') {
      tags = splitTags(fields[key])
      delete fields[key]
    } else if (k === 'profileid' || k === 'profile') {
      profileId = fields[key]?.trim() || undefined
      delete fields[key]
    }
  }
  const context: Record<string, string> = { name: contact.name, ...fields }
  if (contact.company) context.company = contact.company
  if (contact.notes) context.notes = contact.notes
  if (tags.length) context.tags = tags.join(', ')
  return {
    number: contact.number,
    name: contact.name,
    tags,
    ...(contact.notes ? { notes: contact.notes } : {}),
    ...(profileId ? { profileId } : {}),
    context
  }
}

/**
 * The profile for a caller: the contact's own `profileId` when it exists, else the first profile whose id or name
 * matches one of the contact's tags (case-insensitive), else none (the default settings serve the call).
 */
export async function profileForCustomer(customer: Customer | undefined, profiles: ProfileSource): Promise<Profile | undefined> {
  if (!customer) return undefined
  if (customer.profileId) {
    const p = await profiles.get(customer.profileId)
    if (p) return p
  }
  if (!customer.tags.length) return undefined
  const all = await profiles.list()
  for (const tag of customer.tags) {
    const p = all.find((x) => x.id.toLowerCase() === tag || x.name.trim().toLowerCase() === tag)
    if (p) return p
  }
  return undefined
}
