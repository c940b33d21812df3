// Agents: engines that cannot run are shown with the reason; a profile is created, saved and offered in the dialer.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { controlApi, RESULTS_DIR, startConsole, type ConsoleSession } from './support/console.js'
import type { ServeHandle } from './support/serve.js'

describe('console: agents', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 900 } })
    ;({ server, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  const api = async (path: string) => (await controlApi(server, path)).json() as Promise<unknown>

  it('creates a cascade profile with turn-taking settings and offers it for calls', async () => {
    await page.goto(server.consoleUrl)
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Agents' }).click()
    await page.getByTestId('agent-editor').waitFor()
    // No keys: engines that need one are listed, disabled, with the reason.
    const openai = page.locator('.engine', { hasText: 'OpenAI Realtime' })
    expect(await openai.locator('.engine-reason').textContent()).toMatch(/\w+/)

    await page.getByTestId('new-agent').click()
    await page.getByTestId('agent-name').fill('Bookings desk')
    await page.getByRole('radio', { name: 'Cascade (VAD → STT → LLM → TTS)' }).check()
    await page.getByTestId('agent-prompt').fill('You take table bookings. Ask for the time and party size.')
    await page.getByRole('combobox', { name: 'VAD method' }).selectOption('webrtc')
    await page.getByRole('slider', { name: 'End-of-turn silence' }).fill('800')
    await page.getByRole('checkbox', { name: 'Detect answering machines on outbound calls' }).check()
    await page.getByRole('combobox', { name: 'When a machine answers' }).selectOption('hangup')
    await page.getByTestId('agent-name').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(RESULTS_DIR, 'console-agents.png') })
    await page.getByRole('button', { name: 'Save' }).click()
    const outcome = page
      .getByRole('status')
      .filter({ hasText: 'Saved' })
      .or(page.getByTestId('agent-editor').getByRole('alert'))
    await outcome.waitFor()
    expect(await outcome.textContent()).toContain('Saved')

    const { profiles } = (await api('/api/profiles')) as {
      profiles: {
        name: string
        mode: string
        settings: { vad?: { method: string; silenceMs: number }; openai?: { instructions: string } }
        amd: { enabled: boolean; onMachine: string }
      }[]
    }
    expect(profiles).toHaveLength(1)
    expect(profiles[0]).toMatchObject({
      name: 'Bookings desk',
      mode: 'cascade',
      amd: { enabled: true, onMachine: 'hangup' }
    })
    expect(profiles[0]!.settings.vad).toMatchObject({ method: 'webrtc', silenceMs: 800 })
    expect(profiles[0]!.settings.openai?.instructions).toContain('table bookings')

    await page.locator('body').press('1')
    await page.getByRole('button', { name: 'Don’t show again' }).click()
    const profileSelect = page.getByTestId('call-profile')
    await profileSelect.waitFor()
    expect(await profileSelect.locator('option').allTextContents()).toContain(
      'Bookings desk (Cascade (VAD → STT → LLM → TTS))'
    )
  })

  it('saves the default agent into the settings', async () => {
    await page.locator('body').press('3')
    await page.getByRole('button', { name: /^Default agent/ }).click()
    await page.getByRole('radio', { name: 'Echo (offline)' }).check()
    await page.getByRole('slider', { name: 'Speech threshold' }).fill('0.7')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor()
    const view = (await api('/api/settings')) as {
      settings: { defaultMode: string; vad: { threshold: number; silenceMs: number } }
    }
    expect(view.settings.defaultMode).toBe('echo')
    expect(view.settings.vad.threshold).toBeCloseTo(0.7)
    expect(view.settings.vad.silenceMs).toBe(500)
  })
})
