// Launches the system Chromium for the e2e specs, with a clear message when it is not installed.
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Where Debian puts Chromium; `CHROMIUM_PATH` overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run'
]

/** Microphone specs: Chromium grants getUserMedia and feeds a synthetic tone instead of a real device. */
export const FAKE_MEDIA_ARGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']

export interface LaunchOptions {
  /** Grant the microphone and feed a fake device (a tone, or `fakeAudioFile`). */
  fakeMedia?: boolean
  /** A WAV file Chromium loops as the fake microphone (with `fakeMedia`). */
  fakeAudioFile?: string
  args?: string[]
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH)`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      ...ARGS,
      ...(opts.fakeMedia ? FAKE_MEDIA_ARGS : []),
      ...(opts.fakeMedia && opts.fakeAudioFile ? [`--use-file-for-fake-audio-capture=${opts.fakeAudioFile}`] : []),
      // Audio starts without a gesture in tests (a click starts it in real use).
      '--autoplay-policy=no-user-gesture-required',
      ...(opts.args ?? [])
    ]
  })
}
