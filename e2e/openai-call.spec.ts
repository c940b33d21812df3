// A loopback call on the OpenAI Realtime engine (the fake service): transcript lines from both sides as they form,
// and the caller barging into a long reply, marked on the agent line it cut.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  hangUpWithEscape,
  RESULTS_DIR,
  startConsole,
  startLoopbackCall,
  type ConsoleSession
} from './support/console.js'
import { numberAbove } from './support/page-values.js'
import type { ServeHandle } from './support/serve.js'
const AGENT_TEXT = 'Let me check that for you, it will take a moment.'

describe('console: OpenAI Realtime call', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({
      viewport: { width: 1280, height: 900 },
      serve: { openai: { replyDurationMs: 6000, replyText: AGENT_TEXT, callerText: 'What time is it?' } },
      microphone: 'speech',
      // Speech, then 3 s of silence: a 6 s reply is still playing when the next line starts.
      speechWav: { gapMs: 3000 }
    })
    ;({ server, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('shows both sides of the transcript and marks the barge-in on the agent line', async () => {
    await page.goto(server.consoleUrl)
    await startLoopbackCall(page, { engine: 'openai-realtime' })
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
    await hangUpWithEscape(page)
  })
})
