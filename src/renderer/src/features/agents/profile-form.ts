// The agent editor's model: a full draft of what an agent runs with, from a profile over the settings, and back.
import type { AmdPolicy, Profile, ProfileInput, ProfileSettings } from '../../../../shared/profiles.js'
import type { AgentMode } from '../../../../shared/modes.js'
import type { SettingsUpdate } from '../../../../shared/api.js'
import type { Settings } from '../../../../shared/settings.js'

/** Everything the editor shows, every field filled (the profile's value, else the settings'). */
export interface AgentDraft {
  name: string
  mode: AgentMode
  openai: Settings['openai']
  elevenlabs: Settings['elevenlabs']
  gather: Settings['gather']
  voice: Settings['voice']
  vad: Settings['vad']
  amd: AmdPolicy
}

/** The parts of the editor an engine uses. */
export interface Sections {
  /** Realtime model, turn detection (OpenAI decides turns). */
  realtime: boolean
  /** The chat model (cascade, Gather). */
  llm: boolean
  /** OpenAI's own voices (speech to speech). */
  openaiVoice: boolean
  /** Instructions and first message for an OpenAI-driven agent. */
  openaiPrompt: boolean
  /** The ElevenLabs agent id and its prompt, first message, language overrides. */
  elevenlabsAgent: boolean
  /** ElevenLabs TTS voice and its settings. */
  voice: boolean
  /** Our VAD decides the turns. */
  vad: boolean
  gather: boolean
}

export function sectionsFor(mode: AgentMode): Sections {
  const none: Sections = {
    realtime: false,
    llm: false,
    openaiVoice: false,
    openaiPrompt: false,
    elevenlabsAgent: false,
    voice: false,
    vad: false,
    gather: false
  }
  switch (mode) {
    case 'echo':
      return { ...none, vad: true }
    case 'openai-realtime':
      return { ...none, realtime: true, openaiVoice: true, openaiPrompt: true }
    case 'hybrid':
      return { ...none, realtime: true, openaiPrompt: true, voice: true }
    case 'cascade':
      return { ...none, llm: true, openaiPrompt: true, voice: true, vad: true }
    case 'elevenlabs':
      return { ...none, elevenlabsAgent: true }
    case 'gather':
      return { ...none, llm: true, openaiPrompt: true, gather: true }
  }
}

export const DEFAULT_AMD: AmdPolicy = { enabled: false, onMachine: 'continue', message: '', timeoutS: 30 }

/** The draft of a profile (its overrides over the settings), or of the default agent (the settings) when null. */
export function draftFrom(settings: Settings, profile: Profile | null): AgentDraft {
  const o: ProfileSettings = profile?.settings ?? {}
  return {
    name: profile?.name ?? 'Default agent',
    mode: profile?.mode ?? settings.defaultMode,
    openai: { ...settings.openai, ...o.openai } as Settings['openai'],
    elevenlabs: { ...settings.elevenlabs, ...o.elevenlabs },
    gather: { ...settings.gather, ...o.gather },
    voice: {
      voiceId: o.voice?.voiceId ?? settings.voice.voiceId,
      settings: { ...settings.voice.settings, ...o.voice?.settings }
    },
    vad: { ...settings.vad, ...o.vad },
    amd: { ...DEFAULT_AMD, ...profile?.amd }
  }
}

/** What a profile stores: the sections its engine uses, as shown (so later changes to the settings do not move it). */
export function profileInputFrom(d: AgentDraft): ProfileInput {
  const s = sectionsFor(d.mode)
  const settings: ProfileSettings = {}
  const openai: NonNullable<ProfileSettings['openai']> = {}
  if (s.realtime) {
    openai.realtimeModel = d.openai.realtimeModel
    openai.turnDetection = d.openai.turnDetection
  }
  if (s.llm) {
    openai.llmModel = d.openai.llmModel
    openai.temperature = d.openai.temperature
  }
  if (s.openaiVoice) openai.voice = d.openai.voice
  if (s.openaiPrompt) {
    openai.instructions = d.openai.instructions
    openai.greeting = d.openai.greeting
  }
  if (Object.keys(openai).length) settings.openai = openai
  if (s.elevenlabsAgent) settings.elevenlabs = { ...d.elevenlabs }
  if (s.voice) settings.voice = { voiceId: d.voice.voiceId, settings: { ...d.voice.settings } }
  if (s.vad) settings.vad = { ...d.vad }
  if (s.gather) settings.gather = { ...d.gather }
  return { name: d.name.trim(), mode: d.mode, settings, amd: { ...d.amd } }
}

/** The default agent is the settings themselves: whole sections, so the server's defaults never fill a gap. */
export function settingsUpdateFrom(d: AgentDraft): SettingsUpdate {
  return {
    settings: {
      defaultMode: d.mode,
      openai: d.openai,
      elevenlabs: d.elevenlabs,
      gather: d.gather,
      voice: d.voice,
      vad: d.vad
    }
  }
}

/** OpenAI Realtime's built-in voices. */
export const OPENAI_VOICES = [
  'alloy',
  'ash',
  'ballad',
  'coral',
  'echo',
  'sage',
  'shimmer',
  'verse',
  'marin',
  'cedar'
] as const
