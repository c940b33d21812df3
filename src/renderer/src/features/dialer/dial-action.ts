// Lets the Enter shortcut reach whichever dialer panel is shown, without the shortcut knowing the panels.

let handler: (() => void) | null = null

/** The shown panel registers what Enter does; returns the unregister function. */
export function setDialHandler(fn: () => void): () => void {
  handler = fn
  return () => {
    if (handler === fn) handler = null
  }
}

/** Runs the shown panel's dial action; false when no panel is shown. */
export function dial(): boolean {
  if (!handler) return false
  handler()
  return true
}
