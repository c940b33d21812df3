// A loopback call from the console: fake microphone (speech fixtures) → Media Stream → echo agent → played back.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './support/chromium.js'
import { meterAbove, numberAbove } from './support/page-values.js'
import { startServe, type ServeHandle } from './support/serve.js'
import { writeSpeechWav } from './support/speech-wav.js'

const RESULTS_DIR = join(import.meta.dirname, '..', 'test-results')

describe('console: loopback call', () => {
  let server: ServeHandle
  let browser: Browser
  let page: Page
  let tmp: string

  beforeAll(async () => {
    await mkdir(RESULTS_DIR, { recursive: true })
    tmp = await mkdtemp(join(tmpdir(), 'callbench-e2e-wav-'))
    const wav = join(tmp, 'speech.wav')
    await writeSpeechWav(wav)
    server = await startServe()
    browser = await launchChromium({ fakeMedia: true, fakeAudioFile: wav })
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await rm(tmp, { recursive: true, force: true })
  })

  it('streams the microphone to the echo agent, moves both meters and plays the echo back', async () => {
    await page.goto(server.consoleUrl)
    await page.getByTestId('link-status').filter({ hasText: 'Online' }).waitFor()
    await page.getByRole('button', { name: 'Call the agent (loopback)' }).click()
    await page.getByTestId('call-state').filter({ hasText: 'Active' }).waitFor({ timeout: 20_000 })

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
    const res = await fetch(`${server.controlUrl}/api/calls/${callId}/live`, {
      headers: { authorization: `Bearer ${server.token}` }
    })
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

    await page.keyboard.press('Escape')
    await page.getByTestId('call-state').filter({ hasText: 'Ended' }).waitFor({ timeout: 10_000 })
    const ended = await fetch(`${server.controlUrl}/api/calls/${callId}`, {
      headers: { authorization: `Bearer ${server.token}` }
    })
    const detail = (await ended.json()) as { call: { endReason?: string } }
    expect(detail.call.endReason).toBe('caller_hangup')
  })
})
