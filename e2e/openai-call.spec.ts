// A loopback call on the OpenAI Realtime engine (the fake service): transcript lines from both sides as they form,
// and the caller barging into a long reply, marked on the agent line it cut.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './support/chromium.js'
import { numberAbove } from './support/page-values.js'
import { startServe, type ServeHandle } from './support/serve.js'
import { writeSpeechWav } from './support/speech-wav.js'

const RESULTS_DIR = join(import.meta.dirname, '..', 'test-results')
const AGENT_TEXT = 'Let me check that for you, it will take a moment.'

describe('console: OpenAI Realtime call', () => {
  let server: ServeHandle
  let browser: Browser
  let page: Page
  let tmp: string

  beforeAll(async () => {
    await mkdir(RESULTS_DIR, { recursive: true })
    tmp = await mkdtemp(join(tmpdir(), 'callbench-e2e-openai-'))
    const wav = join(tmp, 'speech.wav')
    // Speech, then 3 s of silence: a 6 s reply is still playing when the next line starts.
    await writeSpeechWav(wav, { gapMs: 3000 })
    server = await startServe({
      openai: { replyDurationMs: 6000, replyText: AGENT_TEXT, callerText: 'What time is it?' }
    })
    browser = await launchChromium({ fakeMedia: true, fakeAudioFile: wav })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await rm(tmp, { recursive: true, force: true })
  })

  it('shows both sides of the transcript and marks the barge-in on the agent line', async () => {
    await page.goto(server.consoleUrl)
    await page.getByTestId('dialer').waitFor()
    await page.getByTestId('call-engine').selectOption('openai-realtime')
    await page.getByRole('button', { name: 'Call the agent (loopback)' }).click()
    await page.getByTestId('call-state').filter({ hasText: 'Active' }).waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('live-call').textContent()).toContain('OpenAI Realtime')

    const transcript = page.getByTestId('transcript')
    await transcript
      .locator('li[data-role="caller"]', { hasText: 'What time is it?' })
      .first()
      .waitFor({ timeout: 30_000 })
    await transcript.locator('li[data-role="agent"]').first().waitFor({ timeout: 30_000 })
    const marker = page.getByTestId('barge-in-marker').first()
    await marker.waitFor({ timeout: 40_000 })
    const cutLine = page.locator('li[data-role="agent"]', { has: marker })
    expect(await cutLine.locator('.tl-text').textContent()).toMatch(/\S/)
    await page.locator('[data-testid="call-events"] li[data-kind="barge_in"]:not(.ce-quiet)').first().waitFor()
    await page.locator('[data-testid="call-events"] li[data-kind="clear"]').first().waitFor()
    await page.getByTestId('latency-badge').first().waitFor()
    await page.screenshot({ path: join(RESULTS_DIR, 'console-openai-call.png') })

    // The running cost estimate: priced from the service's usage, broken down when opened.
    const total = await numberAbove(page, '[data-testid="call-cost"]', 'data-total', 0)
    expect(total).toBeGreaterThan(0)
    await page.getByTestId('call-cost').locator('summary').click()
    await page.locator('[data-testid="call-cost"] tr[data-key="openaiAudioOut"]').waitFor()
    await page.screenshot({ path: join(RESULTS_DIR, 'console-openai-cost.png') })

    // The service saw our truncation at what the window had played.
    const session = server.openai!.sessions[0]!
    expect(session.truncations.length).toBeGreaterThanOrEqual(1)
    await page.keyboard.press('Escape')
    await page.getByTestId('call-state').filter({ hasText: 'Ended' }).waitFor({ timeout: 10_000 })
  })
})
