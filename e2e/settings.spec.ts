// Settings: a key typed in is saved, reported as set, and never shown back: not in the page, not in any input,
// not in any response the console receives.
import { join } from 'node:path'
import type { Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { controlApi, RESULTS_DIR, startConsole, type ConsoleSession } from './support/console.js'
import { E2E_TWILIO_NUMBER, type ServeHandle } from './support/serve.js'
const SECRET = 'sk-e2e-never-shown-0123456789wxyz'
const SECRET_TAIL = SECRET.slice(-4)

interface InputGlobals {
  document: { querySelectorAll(s: string): ArrayLike<{ value: string }>; documentElement: { outerHTML: string } }
}

describe('console: settings', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page
  const bodies: string[] = []

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 900 } })
    ;({ server, page } = ui)
    page.on('response', (res) => {
      if (res.url().includes('/api/'))
        void res.text().then(
          (t) => bodies.push(t),
          () => {}
        )
    })
    page.on('websocket', (ws) => ws.on('framereceived', (f) => bodies.push(String(f.payload))))
  })

  afterAll(async () => {
    await ui?.close()
  })

  /** Everything the page shows or holds in its fields. */
  const pageText = () =>
    page.evaluate(() => {
      const g = globalThis as unknown as InputGlobals
      const values = Array.from(g.document.querySelectorAll('input, textarea')).map((i) => i.value)
      return [g.document.documentElement.outerHTML, ...values].join('\n')
    })

  it('saves a key, says it is set, and never shows it back', async () => {
    await page.goto(server.consoleUrl)
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Settings' }).click()
    const field = page.getByTestId('secret-OPENAI_API_KEY')
    await field.waitFor()
    expect(await field.getAttribute('type')).toBe('password')
    await field.fill(SECRET)
    await page.getByRole('button', { name: 'Save OpenAI keys' }).click()
    await page.locator('[data-secret="OPENAI_API_KEY"] .secret-set').waitFor()
    expect(await page.locator('[data-secret="OPENAI_API_KEY"] .secret-status').textContent()).toBe(
      `Set (…${SECRET_TAIL})`
    )
    expect(await field.inputValue()).toBe('')
    await page.screenshot({ path: join(RESULTS_DIR, 'console-settings.png') })

    // The core has it: the engines that needed only this key are available now, and health says OpenAI is on.
    const engines = (await (await controlApi(server, '/api/engines')).json()) as { mode: string; available: boolean }[]
    expect(engines.find((e) => e.mode === 'openai-realtime')?.available).toBe(true)
    await page.getByTestId('status-bar').locator('.svc-on', { hasText: 'OpenAI' }).waitFor()

    expect(await pageText()).not.toContain(SECRET)
    await page.reload()
    await page.locator('body').press('4')
    await page.locator('[data-secret="OPENAI_API_KEY"] .secret-set').waitFor()
    expect(await pageText()).not.toContain(SECRET)
    expect(bodies.length).toBeGreaterThan(3)
    for (const body of bodies) expect(body).not.toContain(SECRET)
  })

  it('removes a key', async () => {
    await page.getByRole('button', { name: 'Remove API key' }).first().click()
    await page.locator('[data-secret="OPENAI_API_KEY"] .secret-status').filter({ hasText: 'Not set' }).waitFor()
  })

  it('fills the uploads form when the settings arrive after the view opened', async () => {
    // The settings read is held until the Settings view is on screen, as with a core slow to answer.
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const hold = async (route: Route) => {
      if (route.request().method() === 'GET') await held
      await route.continue()
    }
    await page.route('**/api/settings', hold)
    try {
      const asked = page.waitForRequest((r) => r.url().endsWith('/api/settings') && r.method() === 'GET')
      await page.reload()
      await asked
      await page.locator('body').press('4')
      const uploads = page.getByRole('region', { name: 'Uploads and time' })
      await uploads.getByText('Loading…').waitFor()
      release()
      await uploads.getByTestId('time-zone').waitFor()
      expect(await uploads.getByTestId('auto-upload').isChecked()).toBe(false)
    } finally {
      release()
      await page.unroute('**/api/settings', hold)
    }
  })

  it('saves the time zone and auto-upload', async () => {
    const saved = () =>
      page.waitForResponse((r) => r.url().endsWith('/api/settings') && r.request().method() === 'PUT' && r.ok())
    await Promise.all([saved(), page.getByTestId('time-zone').selectOption('Asia/Tokyo')])
    await page.getByTestId('auto-upload').check()
    await Promise.all([saved(), page.getByRole('button', { name: 'Save uploads' }).click()])
    const view = (await (await controlApi(server, '/api/settings')).json()) as {
      settings: { timeZone: string; s3: { autoUpload: boolean } }
    }
    expect(view.settings.timeZone).toBe('Asia/Tokyo')
    expect(view.settings.s3.autoUpload).toBe(true)
    expect(await page.getByTestId('time-zone').inputValue()).toBe('Asia/Tokyo')
  })
})

describe('console: settings, test connection', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 1100 }, serve: { twilio: true } })
    ;({ server, page } = ui)
    server.twilio!.addNumber(E2E_TWILIO_NUMBER)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('tests each service from its key group and says exactly what is wrong, inline', async () => {
    await page.goto(server.consoleUrl)
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Settings' }).click()

    await page.getByRole('button', { name: 'Test Twilio connection' }).click()
    const twilio = page.getByTestId('test-twilio').getByRole('status')
    await twilio.waitFor()
    expect(await page.getByTestId('test-twilio-message').textContent()).toBe(
      `Connected to Twilio “Callbench test account”; ${E2E_TWILIO_NUMBER} is on the account`
    )
    expect(server.twilio!.requestsTo('GET', `/Accounts/${server.twilio!.accountSid}.json`)).toHaveLength(1)

    // Keyboard: the S3 test is a button like any other; no bucket is set, and it says so.
    const s3 = page.getByRole('button', { name: 'Test S3 connection' })
    await s3.focus()
    await page.keyboard.press('Enter')
    await page.getByTestId('test-s3').getByRole('alert').waitFor()
    expect(await page.getByTestId('test-s3-message').textContent()).toBe('No S3 bucket is set')

    await page.getByRole('button', { name: 'Test OpenAI connection' }).click()
    await page.getByTestId('test-openai').getByRole('alert').waitFor()
    expect(await page.getByTestId('test-openai-message').textContent()).toBe(
      'OpenAI is not configured: set the API key'
    )
    await page.getByRole('heading', { name: 'Keys' }).scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(RESULTS_DIR, 'console-settings-test-connection.png') })
  })
})
