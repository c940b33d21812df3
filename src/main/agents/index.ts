/** Registers the engines built into this app, one line each. */
import { registerEngine } from './engines.js'
import { echoEngine } from './echo.js'

export function registerBuiltinEngines(): void {
  registerEngine(echoEngine)
}
