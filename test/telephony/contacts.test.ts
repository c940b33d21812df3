// Customer context from contacts: tags and profile pulled out of the CSV's extra columns, profile matching, memory store.
import { describe, expect, it } from 'vitest'
import type { Profile } from '../../src/shared/profiles.js'
import { InMemoryContacts, profileForCustomer, toCustomer, type ProfileSource } from '../../src/main/telephony/contacts.js'

function profile(id: string, name: string): Profile {
  return {
    id,
    name,
    mode: 'echo',
    settings: {},
    amd: { enabled: false, onMachine: 'continue', message: '', timeoutS: 30 },
    createdAt: '2026-11-21T00:00:00Z',
    updatedAt: '2026-11-21T00:00:00Z'
  }
}

const profiles: ProfileSource = {
  get: async (id) => [profile('p1', 'Support'), profile('p2', 'VIP desk')].find((p) => p.id === id),
  list: async () => [profile('p1', 'Support'), profile('p2', 'VIP desk')]
}

describe('customers', () => {
  it('lifts tags and profileId out of the extra fields, keeps the rest as context', () => {
    const c = toCustomer({ number: '+15551230000', name: 'Ada', notes: 'n', fields: { tags: 'VIP desk|Beta', profileid: 'p1', plan: 'gold' } })
    expect(c).toEqual({
      number: '+15551230000',
      name: 'Ada',
      tags: ['vip', 'desk', 'beta'],
      notes: 'n',
      profileId: 'p1',
      context: { name: 'Ada', plan: 'gold', notes: 'n', tags: 'vip, desk, beta' }
    })
  })

  it('picks the profile column first, then a tag naming a profile by id or name, else none', async () => {
    expect((await profileForCustomer(toCustomer({ number: '1', name: 'a', fields: { profileId: 'p2', tags: 'support' } }), profiles))?.id).toBe('p2')
    expect((await profileForCustomer(toCustomer({ number: '1', name: 'a', fields: { tags: 'x support' } }), profiles))?.id).toBe('p1')
    expect((await profileForCustomer(toCustomer({ number: '1', name: 'a', fields: { tags: 'p2' } }), profiles))?.id).toBe('p2')
    expect(await profileForCustomer(toCustomer({ number: '1', name: 'a', fields: { tags: 'nobody' } }), profiles)).toBeUndefined()
    expect(await profileForCustomer(undefined, profiles)).toBeUndefined()
  })

  it('finds a contact in memory by its digits, however the number is written', async () => {
    const store = new InMemoryContacts()
    expect(await store.upsert([{ number: '+1 (555) 123-0000', name: 'Ada' }])).toBe(1)
    expect((await store.find('+15551230000'))?.name).toBe('Ada')
    expect(await store.find('+15551230001')).toBeUndefined()
  })
})
