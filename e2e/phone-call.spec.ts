// A phone call from the dialer through the fake Twilio: placed over REST, moving through Twilio's states, the echo
// agent on the Media Stream, and hung up from the console with Esc.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSpeechClips, speechOf } from '../test/fakes/twilio-media-sim.js'
import { controlApi, RESULTS_DIR, startConsole, type ConsoleSession } from './support/console.js'
import { meterAbove } from './support/page-values.js'
import { E2E_TWILIO_NUMBER, type ServeHandle } from './support/serve.js'
const CALLEE = '+15550102030'

describe('console: phone call through the fake Twilio', () => {
  let ui: ConsoleSession
  let server: ServeHandle
  let page: Page

  beforeAll(async () => {
    ui = await startConsole({ viewport: { width: 1280, height: 900 }, serve: { twilio: true } })
    ;({ server, page } = ui)
  })

  afterAll(async () => {
    await ui?.close()
  })

  it('dials with Enter, follows the call through its states, and hangs up with Esc', async () => {
    const twilio = server.twilio!
    await page.goto(server.consoleUrl)
    // Twilio keys are set: no first-run card, the dialer is there.
    await page.getByTestId('dialer').waitFor()
    await page.getByRole('radio', { name: 'Phone call' }).check()
    const number = page.getByTestId('dial-number')
    await number.pressSequentially('15550102030')
    expect(await number.inputValue()).toBe('+1 555 010 2030')
    await page.getByText('Enter to call').waitFor()

    const created = twilio.waitForRequest((r) => r.method === 'POST' && r.path.endsWith('/Calls.json'))
    await number.press('Enter')
    const create = await created
    expect(create.params).toMatchObject({ To: CALLEE, From: E2E_TWILIO_NUMBER })
    const callSid = [...twilio.calls.values()].find((c) => c.to === CALLEE)!.sid

    const [clip] = loadSpeechClips()
    const running = twilio.runCall(callSid, {
      stayOnLine: true,
      caller: [
        { kind: 'silence', durationMs: 1000 },
        speechOf(clip!),
        { kind: 'waitForAgent', timeoutMs: 8000, until: 'done' }
      ]
    })

    await page.getByTestId('call-state').filter({ hasText: 'Active' }).waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('live-call').textContent()).toContain('+15550102030')
    // The caller's speech and the agent's echo of it, as the meters showed them.
    const [agentDbfs, callerDbfs] = await Promise.all([
      meterAbove(page, 'Agent level', -60),
      meterAbove(page, 'Caller level', -60)
    ])
    expect(agentDbfs).toBeGreaterThan(-60)
    expect(callerDbfs).toBeGreaterThan(-60)
    await page.locator('[data-testid="transcript"] li[data-role="caller"]').first().waitFor({ timeout: 20_000 })
    await page.getByTestId('latency-badge').first().waitFor()
    await running
    await page.screenshot({ path: join(RESULTS_DIR, 'console-phone-call.png') })

    // Twilio's progress, as the status callbacks reported it, is on the call's event list.
    const statuses = await page
      .locator('[data-testid="call-events"] li[data-kind="twilio.status"] .ce-detail')
      .allTextContents()
    expect(statuses).toEqual(expect.arrayContaining(['initiated', 'ringing', 'in-progress']))
    expect(statuses.indexOf('ringing')).toBeLessThan(statuses.indexOf('in-progress'))

    await page.locator('body').press('Escape')
    await page.getByTestId('call-state').filter({ hasText: 'Ended' }).waitFor({ timeout: 10_000 })
    const ended = await twilio.whenEnded(callSid)
    expect(ended.status).toBe('completed')
    expect(twilio.requestsTo('POST', `/Calls/${callSid}.json`).some((r) => r.params.Status === 'completed')).toBe(true)
    await page
      .locator('[data-testid="call-events"] li[data-kind="twilio.status"] .ce-detail', { hasText: 'completed' })
      .waitFor()

    // The number is remembered for the next one-click test call.
    await page.getByTestId('recent-numbers').getByText('+1 555 010 2030').waitFor()
    expect(await page.getByTestId('test-call').textContent()).toBe('Test call +1 555 010 2030')
  })

  it('shows the answering-machine verdict with its timing, and the operator overrides it from the keyboard', async () => {
    const twilio = server.twilio!
    const res = await controlApi(server, '/api/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: CALLEE, mode: 'echo', machineDetection: 'enable' })
    })
    const { callId, callSid } = (await res.json()) as { callId: string; callSid: string }
    const live = page.locator(`[data-testid="live-call"][data-call-id="${callId}"]`)
    await live.waitFor()
    // The verdict while the echo greeting plays.
    await twilio.runCall(callSid, {
      answeredBy: 'machine_start',
      amdAfterMs: 500,
      machineDetectionMs: 2200,
      stayOnLine: true
    })
    const badge = live.getByTestId('amd-badge')
    await badge.filter({ hasText: 'AMD: Machine' }).waitFor({ timeout: 10_000 })
    expect(await live.getByTestId('amd-timing').textContent()).toMatch(
      /^decided in 2\.2 s · \d+\.\d s into the greeting/
    )

    // Keyboard: Tab reaches the override buttons in order; Enter on "Human" tells the core a person answered.
    const human = live.getByTestId('amd-human')
    await human.focus()
    await page.keyboard.press('Enter')
    await live.getByTestId('amd-outcome').filter({ hasText: 'you said human' }).waitFor()
    expect(await human.getAttribute('aria-pressed')).toBe('true')
    await page.keyboard.press('Tab')
    expect(await live.getByTestId('amd-voicemail').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true)
    await page.screenshot({ path: join(RESULTS_DIR, 'console-amd.png') })
    expect(twilio.calls.get(callSid)!.status).toBe('in-progress')

    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    await live.getByTestId('call-state').filter({ hasText: 'Ended' }).waitFor({ timeout: 10_000 })
    expect(twilio.requestsTo('POST', `/Calls/${callSid}.json`).map((r) => r.params)).toEqual([{ Status: 'completed' }])
  })
})
