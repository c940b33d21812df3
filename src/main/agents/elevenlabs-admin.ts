/** ElevenLabs agents from the console: check an agent's audio formats, create or update one from settings. */
import type { ElevenLabs } from '@elevenlabs/elevenlabs-js'
import type { ElevenLabsAgentCheck, ElevenLabsAgentUpsertResult } from '../../shared/voices.js'
import type { Settings } from '../../shared/settings.js'
import { elevenLabsError, type ElevenLabsConnection } from '../speech/elevenlabs-client.js'
import { DEFAULT_VOICE_ID } from '../speech/elevenlabs-tts.js'
import { END_CALL_TOOL, ULAW_8000, audioFormatOf } from './elevenlabs-protocol.js'

/** Tag on agents Callbench made: only those are updated in place, never an agent someone else set up. */
export const CALLBENCH_AGENT_TAG = 'callbench'

/** What an agent uses when its config names no format (the service's default). */
const SERVICE_DEFAULT_FORMAT = 'pcm_16000'

/** Reads an agent's audio formats and says whether Twilio audio can go straight through. */
export async function checkAgent(conn: ElevenLabsConnection, agentId: string): Promise<ElevenLabsAgentCheck> {
  let agent: ElevenLabs.GetAgentResponseModel
  try {
    agent = await conn.client.conversationalAi.agents.get(agentId)
  } catch (err) {
    throw elevenLabsError(err, `agent '${agentId}'`, 'agentId')
  }
  const inputFormat = agent.conversationConfig.asr?.userInputAudioFormat ?? SERVICE_DEFAULT_FORMAT
  const outputFormat = agent.conversationConfig.tts?.agentOutputAudioFormat ?? SERVICE_DEFAULT_FORMAT
  const passThrough = inputFormat === ULAW_8000 && outputFormat === ULAW_8000
  const convertible = audioFormatOf(inputFormat) !== undefined && audioFormatOf(outputFormat) !== undefined
  const warnings: string[] = []
  if (!convertible) warnings.push(`Formats ${inputFormat}/${outputFormat} cannot be converted: calls will be refused. Set both to ${ULAW_8000}.`)
  else if (!passThrough) warnings.push(`Formats ${inputFormat}/${outputFormat} are resampled on every frame. Set both to ${ULAW_8000} for Twilio.`)
  return { agentId: agent.agentId, name: agent.name, inputFormat, outputFormat, passThrough, convertible, warnings }
}

/**
 * Creates an agent from settings (prompt, first message, language, voice, μ-law 8 kHz both ways, an `end_call`
 * client tool, overrides allowed), or updates the agent settings name when Callbench made it.
 */
export async function upsertAgent(conn: ElevenLabsConnection, settings: Settings, name?: string): Promise<ElevenLabsAgentUpsertResult> {
  const config = conversationConfigFor(settings)
  const platformSettings: ElevenLabs.AgentPlatformSettingsRequestModel = {
    overrides: {
      conversationConfigOverride: {
        agent: { prompt: { prompt: true }, firstMessage: true, language: true },
        tts: { voiceId: true, stability: true, speed: true, similarityBoost: true }
      }
    }
  }
  const existingId = settings.elevenlabs.agentId
  if (existingId && (await isOurs(conn, existingId))) {
    try {
      await conn.client.conversationalAi.agents.update(existingId, {
        conversationConfig: config,
        platformSettings,
        ...(name ? { name } : {})
      })
    } catch (err) {
      throw elevenLabsError(err, `agent '${existingId}'`, 'agentId')
    }
    return { agentId: existingId, created: false }
  }
  try {
    const res = await conn.client.conversationalAi.agents.create({
      name: name ?? 'Callbench agent',
      conversationConfig: config,
      platformSettings,
      tags: [CALLBENCH_AGENT_TAG]
    })
    return { agentId: res.agentId, created: true }
  } catch (err) {
    throw elevenLabsError(err, 'the new agent')
  }
}

async function isOurs(conn: ElevenLabsConnection, agentId: string): Promise<boolean> {
  try {
    const agent = await conn.client.conversationalAi.agents.get(agentId)
    return agent.tags?.includes(CALLBENCH_AGENT_TAG) ?? false
  } catch (err) {
    const e = elevenLabsError(err, `agent '${agentId}'`, 'agentId')
    if (e.code === 'not_found') return false
    throw e
  }
}

function conversationConfigFor(settings: Settings): ElevenLabs.ConversationalConfig {
  const el = settings.elevenlabs
  const language = el.language || 'en'
  const firstMessage = el.firstMessage || settings.openai.greeting
  const voice = settings.voice
  return {
    agent: {
      language,
      ...(firstMessage ? { firstMessage } : {}),
      prompt: {
        prompt: el.prompt || settings.openai.instructions,
        tools: [
          {
            type: 'client',
            name: END_CALL_TOOL,
            description: 'Hang up the phone call once the conversation is over and you have said goodbye.',
            expectsResponse: true
          }
        ]
      }
    },
    asr: { userInputAudioFormat: ULAW_8000 },
    tts: {
      // English agents use the v2 models, other languages v2.5 (PROTOCOLS.md §5.3).
      modelId: language === 'en' ? 'eleven_flash_v2' : 'eleven_flash_v2_5',
      voiceId: voice.voiceId || DEFAULT_VOICE_ID,
      agentOutputAudioFormat: ULAW_8000,
      stability: voice.settings.stability,
      similarityBoost: voice.settings.similarityBoost,
      speed: voice.settings.speed
    }
  }
}
