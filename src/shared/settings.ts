/** Settings and secrets: the schema both the core and the console use. */
import { z } from 'zod'
import { AGENT_MODES } from './modes.js'

export const VAD_METHODS = ['silero', 'webrtc', 'energy'] as const
export type VadMethod = (typeof VAD_METHODS)[number]

/** Turn-taking for the engines whose turns our bridge decides (echo, cascade). */
export const VadSettingsSchema = z.object({
  method: z.enum(VAD_METHODS).default('silero'),
  /** Speech probability threshold, 0–1. */
  threshold: z.number().min(0).max(1).default(0.5),
  /** Speech needed before a turn (and a barge-in) starts, ms. */
  minSpeechMs: z.number().int().min(0).max(2000).default(64),
  /** End-of-turn silence, ms. */
  silenceMs: z.number().int().min(100).max(5000).default(500),
  /** Audio kept before the detected onset, ms. */
  preSpeechPadMs: z.number().int().min(0).max(2000).default(300),
  /**
   * Cascade: silence after which the reply is prepared (transcript, LLM, first TTS audio) while the end-of-turn
   * silence runs on; it plays when the turn ends and is dropped if the caller goes on (an LLM request spent).
   * 0, or not under `silenceMs`: off.
   */
  earlyReplyMs: z.number().int().min(0).max(5000).default(200)
})
export type VadSettings = z.infer<typeof VadSettingsSchema>

/** ElevenLabs voice settings (PROTOCOLS §5.4). */
export const VoiceSettingsSchema = z.object({
  stability: z.number().min(0).max(1).default(0.5),
  similarityBoost: z.number().min(0).max(1).default(0.8),
  style: z.number().min(0).max(1).default(0),
  speakerBoost: z.boolean().default(true),
  speed: z.number().min(0.7).max(1.2).default(1)
})
export type VoiceSettings = z.infer<typeof VoiceSettingsSchema>

/**
 * Voice settings where every field may be left out (it then keeps its current value), each still checked:
 * stability, similarity boost and style in [0, 1], speed in [0.7, 1.2], speaker boost a boolean.
 */
export const VoiceSettingsPatchSchema = z
  .object({
    stability: VoiceSettingsSchema.shape.stability.unwrap(),
    similarityBoost: VoiceSettingsSchema.shape.similarityBoost.unwrap(),
    style: VoiceSettingsSchema.shape.style.unwrap(),
    speakerBoost: VoiceSettingsSchema.shape.speakerBoost.unwrap(),
    speed: VoiceSettingsSchema.shape.speed.unwrap()
  })
  .partial()
  .strict()
export type VoiceSettingsPatch = z.infer<typeof VoiceSettingsPatchSchema>

export const OpenAiTurnDetectionSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('server_vad'),
    threshold: z.number().min(0).max(1).default(0.5),
    prefixPaddingMs: z.number().int().min(0).max(2000).default(300),
    silenceMs: z.number().int().min(100).max(5000).default(500)
  }),
  z.object({
    type: z.literal('semantic_vad'),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).default('auto')
  })
])

/**
 * Prices used for the live cost estimate of a call. Defaults are public list prices (USD, 2025) and only an
 * estimate: plans, regions, volume discounts and taxes change what is actually billed.
 */
export const CostRatesSchema = z.object({
  /** Twilio voice, per minute (billed per started minute); loopback calls have none. US outbound local. */
  telephonyPerMin: z.number().min(0).default(0.014),
  /** Twilio Media Streams, per minute of stream (billed per started minute). */
  mediaStreamPerMin: z.number().min(0).default(0.004),
  /** OpenAI Realtime (gpt-realtime), per million tokens. */
  openaiAudioInPer1M: z.number().min(0).default(32),
  openaiAudioOutPer1M: z.number().min(0).default(64),
  openaiTextInPer1M: z.number().min(0).default(4),
  openaiTextOutPer1M: z.number().min(0).default(16),
  /** Cached input (audio or text) of the Realtime model, per million tokens. */
  openaiCachedInPer1M: z.number().min(0).default(0.4),
  /** ElevenLabs Agents, per minute of conversation. */
  elevenlabsPerMin: z.number().min(0).default(0.1),
  /** Text to speech (cascade, hybrid), per 1000 characters sent. */
  ttsPer1kChars: z.number().min(0).default(0.05),
  /** Speech to text (cascade's Scribe, the Realtime caller transcription), per minute of audio. */
  sttPerMin: z.number().min(0).default(0.0067),
  /** The cascade's chat model (gpt-4o-mini), per million tokens. */
  llmInPer1M: z.number().min(0).default(0.15),
  llmOutPer1M: z.number().min(0).default(0.6),
  /** ISO 4217 code the rates are in; shown, never converted. */
  currency: z.string().min(1).max(8).default('USD')
})
export type CostRates = z.infer<typeof CostRatesSchema>

export const SettingsSchema = z.object({
  defaultMode: z.enum(AGENT_MODES).default('echo'),
  vad: VadSettingsSchema.prefault({}),
  voice: z.object({ voiceId: z.string().default(''), settings: VoiceSettingsSchema.prefault({}) }).prefault({}),
  openai: z
    .object({
      realtimeModel: z.string().default('gpt-realtime'),
      llmModel: z.string().default('gpt-4o-mini'),
      voice: z.string().default('marin'),
      instructions: z.string().default('You are a friendly voice agent on a phone call. Keep answers short.'),
      greeting: z.string().default(''),
      turnDetection: OpenAiTurnDetectionSchema.prefault({ type: 'server_vad' }),
      /** Sampling temperature of the cascade's and Gather's chat model, 0–2. */
      temperature: z.number().min(0).max(2).default(0.7),
      /** Longest Realtime session, minutes: the agent wraps up before it and hangs up at it (the service allows about 60). */
      maxSessionMinutes: z.number().min(1).max(60).default(58),
      /** No event from the Realtime service for this long while a reply is due fails the call, ms. */
      stallTimeoutMs: z.number().int().min(1000).max(60_000).default(8000)
    })
    .prefault({}),
  /** The TwiML `<Gather input="speech">` fallback (no media stream). */
  gather: z
    .object({
      /** Silence that ends the caller's speech, s; 0 = Twilio's 'auto'. */
      speechTimeoutS: z.number().int().min(0).max(10).default(0),
      /** Transcripts Twilio is less sure of than this (0–1) are asked again. */
      minConfidence: z.number().min(0).max(1).default(0.3),
      /** Twilio speech recognition language. */
      language: z.string().max(16).default('en-US')
    })
    .prefault({}),
  elevenlabs: z
    .object({
      agentId: z.string().default(''),
      /** Per-conversation overrides of the agent's own prompt, first message and language; empty = the agent's. */
      prompt: z.string().max(20_000).default(''),
      firstMessage: z.string().max(2_000).default(''),
      language: z.string().max(16).default('')
    })
    .prefault({}),
  twilio: z.object({ phoneNumber: z.string().default(''), provisioning: z.boolean().default(false) }).prefault({}),
  s3: z
    .object({
      bucket: z.string().default(''),
      prefix: z.string().default('callbench'),
      region: z.string().default('us-east-1'),
      endpoint: z.string().default(''),
      forcePathStyle: z.boolean().default(false),
      autoUpload: z.boolean().default(false)
    })
    .prefault({}),
  /** IANA time zone for display; empty = the system's. */
  timeZone: z.string().default(''),
  /** Rates of the per-call cost estimate. */
  costs: CostRatesSchema.prefault({})
})
export type Settings = z.infer<typeof SettingsSchema>

/** Any part of the settings, at any depth: what PUT /api/settings takes and deep-merges over the current ones. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T
export type SettingsPatch = DeepPartial<Settings>

/**
 * A settings patch is only checked to be an object here: it is validated after it is merged over the current
 * settings, so that fields it leaves out keep their values (a zod partial would fill them with defaults).
 */
export const SettingsPatchSchema = z.custom<SettingsPatch>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'settings must be an object'
)

/** Secrets, by environment variable name. Write-only through the API. */
export const SECRET_NAMES = [
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_API_KEY_SID',
  'TWILIO_API_KEY_SECRET',
  'OPENAI_API_KEY',
  'ELEVENLABS_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN'
] as const
export type SecretName = (typeof SECRET_NAMES)[number]

/** Non-secret configuration read from the environment. */
export const ENV_CONFIG_NAMES = [
  'TWILIO_PHONE_NUMBER',
  'TWILIO_TWIML_APP_SID',
  'OPENAI_BASE_URL',
  'ELEVENLABS_BASE_URL',
  'ELEVENLABS_AGENT_ID',
  'AWS_REGION',
  'AWS_ENDPOINT_URL_S3',
  'S3_BUCKET',
  'S3_PREFIX',
  'CLOUDFLARED_PATH',
  /** Re-points the Twilio REST API (a regional proxy, or a local fake in tests). */
  'TWILIO_API_BASE_URL',
  /**
   * `1`: the public listener accepts unsigned requests from this machine, and only while nothing is exposed (no
   * tunnel, no public URL). For poking at webhooks by hand; off by default, when every request must be signed.
   */
  'CALLBENCH_UNSIGNED_LOOPBACK'
] as const
export type EnvConfigName = (typeof ENV_CONFIG_NAMES)[number]

/** How a secret is shown to the console: never whole. */
export const MaskedSecretSchema = z.object({ set: z.boolean(), hint: z.string().optional() })
export type MaskedSecret = z.infer<typeof MaskedSecretSchema>
