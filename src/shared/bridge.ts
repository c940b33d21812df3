/** What the Electron preload exposes to the console as `window.callbench`, and how main hands it over. */

/** Desktop-only helpers; absent when the console runs in a plain browser. */
export interface DesktopHelpers {
  /** Opens a native folder picker; resolves to the chosen absolute path, or null when cancelled. */
  chooseFolder(): Promise<string | null>
}

/** `window.callbench` in the Electron window. */
export interface CallbenchBridge {
  /** Base URL of the control API, e.g. `http://127.0.0.1:43123`. */
  readonly controlUrl: string
  /** Per-launch token the control API requires. */
  readonly token: string
  readonly desktop: DesktopHelpers
}

/** Command-line switches main passes to the preload through `webPreferences.additionalArguments`. */
export const BRIDGE_ARGS = {
  controlUrl: '--callbench-control-url=',
  token: '--callbench-token='
} as const

/** IPC channels behind the desktop helpers (the preload wraps each in a named function). */
export const DESKTOP_CHANNELS = {
  chooseFolder: 'callbench:choose-folder'
} as const
