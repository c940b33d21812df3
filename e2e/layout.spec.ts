// The one-window console: first run with no keys, views without reloads, keyboard (?, 1–4, T, Esc), themes.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hangUpWithEscape, RESULTS_DIR, startConsole, type ConsoleSession } from './support/console.js'
import { bodyBackground, documentTheme } from './support/page-values.js'
import type { ServeHandle } from './support/serve.js'

describe('console: layout and keyboard', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 800 }, microphone: 'tone' })
    ;({ server, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('greets a first run with no keys: loopback works now, each key says what it unlocks', async () => {
    await page.goto(server.consoleUrl)
    const firstRun = page.getByTestId('first-run')
    await firstRun.waitFor()
    const text = await firstRun.textContent()
    expect(text).toContain('Works now, with no keys')
    for (const key of ['Twilio account SID', 'OpenAI API key', 'ElevenLabs API key', 'S3 bucket'])
      expect(text).toContain(key)
    expect(await firstRun.getByRole('button', { name: 'Call the agent (loopback)' }).isEnabled()).toBe(true)
    await page.getByTestId('status-bar').filter({ hasText: 'Tunnel: off' }).waitFor()
    expect(await page.getByTestId('status-active-calls').textContent()).toBe('Active calls: 0')
    await page.screenshot({ path: join(RESULTS_DIR, 'console-first-run.png') })
  })

  it('switches views with the tabs and the number keys, without reloading', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __marker: number }).__marker = 42))
    const nav = page.getByRole('navigation', { name: 'Views' })
    await nav.getByRole('button', { name: 'History' }).click()
    expect(await nav.getByRole('button', { name: 'History' }).getAttribute('aria-current')).toBe('page')
    await page.keyboard.press('3')
    expect(await page.locator('main').getAttribute('data-view')).toBe('agents')
    await page.keyboard.press('4')
    expect(await page.locator('main').getAttribute('data-view')).toBe('settings')
    await page.keyboard.press('1')
    expect(await page.locator('main').getAttribute('data-view')).toBe('call')
    expect(await page.evaluate(() => (globalThis as unknown as { __marker?: number }).__marker)).toBe(42)
  })

  it('opens the shortcut help with ? and closes it with Esc', async () => {
    await page.keyboard.press('?')
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    await help.waitFor()
    const text = await help.textContent()
    for (const key of ['Enter', 'Esc', '?']) expect(text).toContain(key)
    await page.screenshot({ path: join(RESULTS_DIR, 'console-help.png') })
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'detached' })
  })

  it('has light and dark themes (T toggles, the picker follows)', async () => {
    const theme = () => documentTheme(page)
    const before = await theme()
    await page.keyboard.press('t')
    const after = await theme()
    expect(after).not.toBe(before)
    expect(['light', 'dark']).toContain(after)
    await page.screenshot({ path: join(RESULTS_DIR, `console-first-run-${after}.png`) })
    await page.getByRole('combobox', { name: 'Theme' }).selectOption('dark')
    expect(await theme()).toBe('dark')
    expect(await bodyBackground(page)).toBe('rgb(17, 20, 24)')
    await page.getByRole('combobox', { name: 'Theme' }).selectOption('system')
  })

  it('starts a loopback call from the first run in one click and hangs up with Esc', async () => {
    await page.getByTestId('first-run').getByRole('button', { name: 'Call the agent (loopback)' }).click()
    await page.getByTestId('call-state').filter({ hasText: 'Active' }).waitFor({ timeout: 20_000 })
    await page.getByTestId('status-active-calls').filter({ hasText: 'Active calls: 1' }).waitFor()
    await page.locator('body').press('Escape')
    await page.getByTestId('call-state').filter({ hasText: 'Ended' }).waitFor({ timeout: 10_000 })
  })

  it('dials the loopback with Enter from the dialer once the first run is put away', async () => {
    await page.getByRole('button', { name: 'Don’t show again' }).click()
    await page.getByTestId('dialer').waitFor()
    await page.getByRole('radio', { name: 'Loopback' }).check()
    await page.locator('body').focus()
    await page.keyboard.press('Enter')
    await page.getByTestId('call-state').filter({ hasText: 'Active' }).waitFor({ timeout: 20_000 })
    await page.screenshot({ path: join(RESULTS_DIR, 'console-call-view.png') })
    await hangUpWithEscape(page)
  })
})
