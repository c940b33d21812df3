/** Agent engines a call can run on. */
export const AGENT_MODES = ['echo', 'openai-realtime', 'elevenlabs', 'cascade', 'hybrid', 'gather'] as const
export type AgentMode = (typeof AGENT_MODES)[number]

/** Human names for the console. */
export const AGENT_MODE_LABELS: Record<AgentMode, string> = {
  echo: 'Echo (offline)',
  'openai-realtime': 'OpenAI Realtime',
  elevenlabs: 'ElevenLabs Agent',
  cascade: 'Cascade (VAD → STT → LLM → TTS)',
  hybrid: 'Hybrid (Realtime text → ElevenLabs voice)',
  gather: 'TwiML Gather fallback'
}

export function isAgentMode(value: unknown): value is AgentMode {
  return typeof value === 'string' && (AGENT_MODES as readonly string[]).includes(value)
}
