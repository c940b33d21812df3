// A loopback call from the console: fake microphone (speech fixtures) → Media Stream → echo agent → played back.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  controlApi,
  hangUpWithEscape,
  RESULTS_DIR,
  startConsole,
  startLoopbackCall,
  type ConsoleSession
} from './support/console.js'
import { meterAbove, numberAbove } from './support/page-values.js'
import type { ServeHandle } from './support/serve.js'

describe('console: loopback call', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 800 }, microphone: 'speech' })
    ;({ server, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('streams the microphone to the echo agent, moves both meters and plays the echo back', async () => {
    await page.goto(server.consoleUrl)
    await page.getByTestId('link-status').filter({ hasText: 'Online' }).waitFor()
    await startLoopbackCall(page)

    const caller = await meterAbove(page, 'Caller level', -60)
    const agent = await meterAbove(page, 'Agent level', -60)
    expect(caller).toBeGreaterThan(-60)
    expect(agent).toBeGreaterThan(-60)

    // An echo turn: the caller's speech ended, and the agent's reply (echo-1) was sent and played in the window.
    await page.locator('[data-testid="call-events"] li[data-kind="reply.start"]').nth(1).waitFor({ timeout: 30_000 })
    await page.locator('[data-testid="transcript"] li[data-role="caller"]').first().waitFor()
    const stats = page.getByTestId('loopback-stats')
    await numberAbove(page, '[data-testid="loopback-stats"]', 'data-agent-frames-played', 100)
    const received = Number(await stats.getAttribute('data-agent-frames'))
    const played = Number(await stats.getAttribute('data-agent-frames-played'))
    const marks = Number(await stats.getAttribute('data-marks-echoed'))
    expect(received).toBeGreaterThan(100)
    expect(played).toBeGreaterThan(100)
    expect(played).toBeLessThanOrEqual(received)
    expect(marks).toBeGreaterThan(0)

    // The server agrees: at least one turn, and the echo went out.
    const callId = await page.getByTestId('live-call').getAttribute('data-call-id')
    const res = await controlApi(server, `/api/calls/${callId}/live`)
    const live = (await res.json()) as {
      turns: unknown[]
      timeline: { kind: string; data?: { replyId?: string } }[]
      stats: Record<string, number>
    }
    expect(live.turns.length).toBeGreaterThanOrEqual(1)
    expect(live.timeline.some((e) => e.kind === 'reply.start' && e.data?.replyId?.startsWith('echo-'))).toBe(true)
    expect(live.stats.marksPlayed).toBeGreaterThan(0)
    expect(live.stats.framesLost).toBe(0)

    // Listen in: the call's audio comes back on its listen socket and plays in the window; the echo costs nothing.
    await page.getByTestId('listen-toggle').click()
    await page.locator('[data-testid="listen-in"][data-state="on"]').waitFor({ timeout: 10_000 })
    await page.getByRole('radio', { name: 'Agent' }).check()
    const heard = await numberAbove(page, '[data-testid="listen-in"]', 'data-frames', 25)
    expect(heard).toBeGreaterThan(25)
    expect(await page.getByTestId('listen-in').getAttribute('data-lost')).toBe('0')
    expect(await page.getByTestId('call-cost').getAttribute('data-total')).toBe('0')
    await page.screenshot({ path: join(RESULTS_DIR, 'loopback-call.png') })

    await hangUpWithEscape(page)
    const ended = await controlApi(server, `/api/calls/${callId}`)
    const detail = (await ended.json()) as { call: { endReason?: string } }
    expect(detail.call.endReason).toBe('caller_hangup')
  })
})
