// The console opens with its token, shows the core's health, talks on the events socket, and shows when offline.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RESULTS_DIR, startConsole, type ConsoleSession } from './support/console.js'
import type { ServeHandle } from './support/serve.js'

describe('console: health and events', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1100, height: 640 } })
    ;({ server, browser, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('loads with the token, shows health and receives a pong', async () => {
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8'))
    await page.goto(server.consoleUrl)

    await page.getByTestId('link-status').filter({ hasText: 'Online' }).waitFor()
    // Health and the event log live under Settings → diagnostics.
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Settings' }).click()
    await page.getByTestId('health-version').filter({ hasText: version }).waitFor()
    expect(await page.getByTestId('health-active-calls').textContent()).toBe('0')
    expect(await page.getByTestId('health-uptime').textContent()).toMatch(/^(\d+[dhm] )*\d+s$/)
    // The test core runs with no secrets and no tunnel.
    const services = page.getByRole('list', { name: 'Configured services' })
    expect(await services.locator('.svc-off').count()).toBe(4)
    expect(await services.locator('.svc-on').count()).toBe(0)
    expect(await page.getByTestId('health-panel').textContent()).toContain('Off')
    // The token leaves the address bar once read.
    expect(new URL(page.url()).hash).toBe('')

    // The console pings on connect; a click pings again.
    const pongs = page.locator('[data-testid="event-log"] li[data-type="pong"]')
    await pongs.first().waitFor()
    const before = await pongs.count()
    await page.getByRole('button', { name: 'Ping' }).click()
    await pongs.nth(before).waitFor()
    expect(await page.getByTestId('ping-rtt').textContent()).toMatch(/^last pong \d+ ms$/)

    await page.screenshot({ path: join(RESULTS_DIR, 'console-health.png') })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: join(RESULTS_DIR, 'console-health-dark.png') })
    await page.emulateMedia({ colorScheme: 'light' })
  })

  it('keeps working after a reload (token kept for the tab)', async () => {
    await page.reload()
    await page.getByTestId('link-status').filter({ hasText: 'Online' }).waitFor()
    await page.keyboard.press('4')
    await page.getByTestId('health-version').waitFor()
  })

  it('asks for the token when opened without one', async () => {
    const context = await browser.newContext()
    try {
      const bare = await context.newPage()
      await bare.goto(`${server.controlUrl}/`)
      await bare.getByRole('heading', { name: 'No access token' }).waitFor()
    } finally {
      await context.close()
    }
  })

  it('shows that it is offline when the core goes away', async () => {
    await server.stop()
    await page.getByTestId('offline-banner').waitFor()
    expect(await page.getByTestId('link-status').textContent()).toMatch(/Offline|Connecting/)
    await page.screenshot({ path: join(RESULTS_DIR, 'console-offline.png') })
  })
})
