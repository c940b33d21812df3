// History after a loopback call: the call is listed, its page plays the recording, a transcript line seeks it,
// the timeline shows the barge-in, a note lands on the timeline, and the transcript exports.
import { readFile } from 'node:fs/promises'
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

interface AudioGlobals {
  document: { querySelector(s: string): { currentTime: number; paused: boolean; duration: number } | null }
}

/** The call page's player state. */
function player(page: Page) {
  return page.evaluate(() => {
    const a = (globalThis as unknown as AudioGlobals).document.querySelector('[data-testid="call-audio"]')
    return a ? { currentTime: a.currentTime, paused: a.paused, duration: a.duration } : null
  })
}

describe('console: history', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 900 }, microphone: 'speech', acceptDownloads: true })
    ;({ server, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('lists a finished loopback call and opens its page', async () => {
    await page.goto(server.consoleUrl)
    await startLoopbackCall(page)
    // Two caller turns, so the transcript has lines and the echo has played.
    await page.locator('[data-testid="transcript"] li[data-role="caller"]').nth(1).waitFor({ timeout: 30_000 })
    await numberAbove(page, '[data-testid="loopback-stats"]', 'data-agent-frames-played', 150)
    await page.getByTestId('bookmark').click()
    await page.getByTestId('note-input').fill('Echo came back')
    await page.getByTestId('note-input').press('Enter')
    await page.locator('[data-testid="call-events"] li[data-kind="note"]').waitFor()
    await hangUpWithEscape(page)

    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'History' }).click()
    await page.getByTestId('history-total').filter({ hasText: '1 call' }).waitFor()
    const row = page.getByTestId('history-table').locator('tbody tr')
    expect(await row.count()).toBe(1)
    const cells = await row.locator('td').allTextContents()
    expect(cells[1]).toBe('This window')
    expect(cells[2]).toBe('Loopback')
    expect(cells[3]).toBe('Echo (offline)')
    expect(Number(cells[6])).toBeGreaterThanOrEqual(2)
    expect(cells[7]).toMatch(/^\d+ ms$/)
    await page.screenshot({ path: join(RESULTS_DIR, 'console-history.png') })

    await row.click()
    await page.getByTestId('call-page').waitFor()
    // The final cost estimate kept in the call log: the echo agent and a loopback call cost nothing.
    const cost = page.getByTestId('call-page-cost')
    await cost.waitFor()
    expect(await cost.getAttribute('data-total')).toBe('0')
    expect(await cost.locator('summary').textContent()).toContain('$0.0000')
  })

  it('plays the recording and seeks to a transcript line', async () => {
    const lines = page.getByTestId('call-transcript').locator('li')
    await lines.nth(1).waitFor()
    await page.waitForFunction(
      () => {
        const a = (globalThis as unknown as AudioGlobals).document.querySelector('[data-testid="call-audio"]')
        return a !== null && Number.isFinite(a.duration) && a.duration > 3
      },
      undefined,
      { timeout: 15_000 }
    )
    const second = await lines.nth(1).locator('time').textContent()
    const [m, s] = second!.split(':').map(Number) as [number, number]
    const lineS = m * 60 + s
    await lines.nth(1).click()
    await page.waitForFunction(
      (target) => {
        const a = (globalThis as unknown as AudioGlobals).document.querySelector('[data-testid="call-audio"]')
        return a !== null && !a.paused && a.currentTime >= target - 0.2
      },
      lineS,
      { timeout: 10_000 }
    )
    const state = await player(page)
    expect(state!.paused).toBe(false)
    expect(state!.currentTime).toBeGreaterThanOrEqual(lineS - 0.2)
    expect(state!.currentTime).toBeLessThan(lineS + 3)

    // The timeline shows the barge-in on the greeting and the note dropped during the call.
    const timeline = page.getByTestId('call-timeline')
    expect(await timeline.locator('[data-kind="note"]').getAttribute('aria-label')).toContain('Echo came back')
    expect(await timeline.locator('[data-kind="reply"]').count()).toBeGreaterThanOrEqual(2)
    await page.screenshot({ path: join(RESULTS_DIR, 'console-call-page.png') })
  })

  it('adds a verdict and exports the transcript', async () => {
    await page.getByRole('textbox', { name: 'Note' }).fill('Greeting cut by the caller, echo fine')
    await page.getByRole('button', { name: 'Pass' }).click()
    await page.getByTestId('call-notes').locator('.verdict-pass').waitFor()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export transcript (.txt)' }).click()
    ])
    const text = await readFile((await download.path())!, 'utf8')
    expect(text).toMatch(/^\[\d\d:\d\d\.\d\] Caller: /m)
  })
})
