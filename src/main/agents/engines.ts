/** Engine registry: each engine registers a factory by mode; the call session asks for one per call. */
import type { AgentMode } from '../../shared/modes.js'
import type { Settings } from '../../shared/settings.js'
import { CallbenchError } from '../../shared/errors.js'
import type { Logger } from '../log.js'
import type { SecretStore } from '../settings/secrets.js'
import type { Agent, CallContext } from './agent.js'

/** What an engine gets to build its agent for one call. */
export interface AgentDeps {
  /** Settings snapshot for this call (profile overrides already applied). */
  settings: Settings
  secrets: SecretStore
  /** Non-secret configuration: OPENAI_BASE_URL, ELEVENLABS_BASE_URL, … */
  config: (name: string) => string | undefined
  log: Logger
  /** Folder holding shipped prompts (`prompts/*.ulaw`). */
  resourcesDir: string
}

export interface EngineDefinition {
  mode: AgentMode
  /** Why the engine cannot run now (missing key…), or undefined when it can. */
  unavailable(deps: Pick<AgentDeps, 'secrets' | 'config' | 'settings'>): Promise<string | undefined>
  /**
   * For engines that answer Twilio calls without a media stream (Gather): why a phone call cannot use it now.
   * The console's engine list uses this instead of `unavailable` when it is set.
   */
  phoneUnavailable?(deps: Pick<AgentDeps, 'secrets' | 'config' | 'settings'>): Promise<string | undefined>
  create(deps: AgentDeps, call: CallContext): Agent
}

const engines = new Map<AgentMode, EngineDefinition>()

export function registerEngine(def: EngineDefinition): void {
  engines.set(def.mode, def)
}

export function getEngine(mode: AgentMode): EngineDefinition {
  const def = engines.get(mode)
  if (!def) throw new CallbenchError('unsupported', `Engine '${mode}' is not available in this build`)
  return def
}

export function listEngines(): EngineDefinition[] {
  return [...engines.values()]
}
