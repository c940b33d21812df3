// The console under test: `callbench serve`, Chromium with the standard flags and one page, started and closed
// together; and the steps many specs take on it (start a loopback call, hang up with Esc, ask the control API).
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './chromium.js'
import { startServe, type ServeHandle, type ServeOptions } from './serve.js'
import { writeSpeechWav, type SpeechWavOptions } from './speech-wav.js'

/** Where the specs write screenshots and reports; startConsole creates it. */
export const RESULTS_DIR = join(import.meta.dirname, '..', '..', 'test-results')

export interface ConsoleOptions {
  /** The page's viewport, px. */
  viewport: { width: number; height: number }
  /** How `callbench serve` runs (fakes, environment). */
  serve?: ServeOptions
  /**
   * Chromium's fake microphone: `'tone'` (its own beep), or `'speech'`: the speech fixtures written to a WAV laid
   * out by `speechWav`. Default none (no microphone granted).
   */
  microphone?: 'tone' | 'speech'
  /** With `microphone: 'speech'`: silence after each clip, rounds (see SpeechWavOptions). */
  speechWav?: SpeechWavOptions
  /** Let the page download files. */
  acceptDownloads?: boolean
}

export interface ConsoleSession {
  server: ServeHandle
  browser: Browser
  /** A page on a fresh context, not yet navigated: the spec opens `server.consoleUrl` itself. */
  page: Page
  /** Closes the browser, stops the core and removes the microphone's WAV; safe after a partial start. */
  close(): Promise<void>
}

/** Starts the core, then Chromium (with the fake microphone asked for), then one page. */
export async function startConsole(opts: ConsoleOptions): Promise<ConsoleSession> {
  const started: Partial<ConsoleSession> & { wavDir?: string } = {}
  const close = async () => {
    await started.browser?.close()
    await started.server?.stop()
    if (started.wavDir) await rm(started.wavDir, { recursive: true, force: true })
  }
  try {
    await mkdir(RESULTS_DIR, { recursive: true })
    let fakeAudioFile: string | undefined
    if (opts.microphone === 'speech') {
      started.wavDir = await mkdtemp(join(tmpdir(), 'callbench-e2e-wav-'))
      fakeAudioFile = join(started.wavDir, 'speech.wav')
      await writeSpeechWav(fakeAudioFile, opts.speechWav)
    }
    const server = (started.server = await startServe(opts.serve))
    const browser = (started.browser = await launchChromium({
      fakeMedia: opts.microphone !== undefined,
      ...(fakeAudioFile ? { fakeAudioFile } : {})
    }))
    const page = await browser.newPage({
      viewport: opts.viewport,
      ...(opts.acceptDownloads ? { acceptDownloads: true } : {})
    })
    return { server, browser, page, close }
  } catch (err) {
    await close()
    throw err
  }
}

/**
 * Starts a loopback call with the "Call the agent (loopback)" button, on `engine` when given (picked in the dialer
 * once it is there), and waits until the call shows Active.
 */
export async function startLoopbackCall(page: Page, opts: { engine?: string } = {}): Promise<void> {
  if (opts.engine) {
    await page.getByTestId('dialer').waitFor()
    await page.getByTestId('call-engine').selectOption(opts.engine)
  }
  await page.getByRole('button', { name: 'Call the agent (loopback)' }).click()
  await page.getByTestId('call-state').filter({ hasText: 'Active' }).waitFor({ timeout: 20_000 })
}

/** Hangs up with Esc and waits until the call shows Ended. */
export async function hangUpWithEscape(page: Page): Promise<void> {
  await page.keyboard.press('Escape')
  await page.getByTestId('call-state').filter({ hasText: 'Ended' }).waitFor({ timeout: 10_000 })
}

/** A request to the core's control API with the session's token (a GET unless `init` says otherwise). */
export function controlApi(
  server: ServeHandle,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<Response> {
  return fetch(`${server.controlUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${server.token}`, ...init.headers }
  })
}
