/** Registers the engines built into this app, one line each. */
import { registerEngine } from './engines.js'
import { echoEngine } from './echo.js'
import { cascadeEngine } from './cascade.js'
import { hybridEngine } from './hybrid.js'
import { gatherEngine } from './gather.js'
import { elevenLabsEngine } from './elevenlabs.js'
import { openAiRealtimeEngine } from './openai-realtime.js'

export function registerBuiltinEngines(): void {
  registerEngine(echoEngine)
  registerEngine(cascadeEngine)
  registerEngine(hybridEngine)
  registerEngine(gatherEngine)
  registerEngine(elevenLabsEngine)
  registerEngine(openAiRealtimeEngine)
}
