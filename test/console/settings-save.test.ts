// Saving settings from the console sends only the patch; the core deep-merges it, so other sections keep their values.
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiClient } from '../../src/renderer/src/api/client.js'
import { saveSettings } from '../../src/renderer/src/api/load.js'
import { createAppStore } from '../../src/renderer/src/store/index.js'
import { SECRET_NAMES, SettingsSchema } from '../../src/shared/settings.js'

function merge(base: unknown, patch: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (!isObject(base) || !isObject(patch)) return patch === undefined ? base : patch
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) out[k] = merge(base[k], v)
  return out
}

describe('saveSettings', () => {
  let server: Server
  let baseUrl: string
  const puts: unknown[] = []
  let stored = SettingsSchema.parse({ timeZone: 'Asia/Tokyo', twilio: { phoneNumber: '+15551234567' } })
  const view = () => ({ settings: stored, secrets: Object.fromEntries(SECRET_NAMES.map((n) => [n, { set: false }])) })

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += String(chunk)
      if (req.method === 'PUT') {
        const update = JSON.parse(body) as { settings?: unknown }
        puts.push(update)
        // Like the core: the patch is deep-merged over what is stored, then the result is validated.
        if (update.settings) stored = SettingsSchema.parse(merge(stored, update.settings))
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(view()))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('keeps the sections it did not change', async () => {
    const store = createAppStore()
    const api = createApiClient({ controlUrl: baseUrl, token: 't' })
    store.getState().setSettingsView(await api.settings())
    await saveSettings(api, store, { settings: { s3: { autoUpload: true } } })
    expect(puts.at(-1)).toEqual({ settings: { s3: { autoUpload: true } } })
    expect(stored.timeZone).toBe('Asia/Tokyo')
    expect(stored.twilio.phoneNumber).toBe('+15551234567')
    expect(stored.s3.autoUpload).toBe(true)
    expect(store.getState().settingsView?.settings.s3.autoUpload).toBe(true)
    // Secrets alone send no settings at all.
    await saveSettings(api, store, { secrets: { OPENAI_API_KEY: 'x' } })
    expect(puts.at(-1)).toEqual({ secrets: { OPENAI_API_KEY: 'x' } })
  })
})
