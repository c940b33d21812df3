/** Registers the engines built into this app, one line each. */
import { registerEngine } from './engines.js'
import { echoEngine } from './echo.js'
import { openAiRealtimeEngine } from './openai-realtime.js'

export function registerBuiltinEngines(): void {
  registerEngine(echoEngine)
  registerEngine(openAiRealtimeEngine)
}
