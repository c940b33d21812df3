/** Local fakes of the remote engines a benchmark mode needs, and the environment that points the server at them. */
import { FakeElevenLabs } from '../test/fakes/elevenlabs.js'
import { FakeOpenAiChat } from '../test/fakes/openai-chat.js'
import { FakeRealtimeServer } from '../test/fakes/openai-realtime.js'

export interface EngineFakes {
  /** Environment for the `callbench serve` child (keys and base URLs of the fakes). */
  env: Record<string, string>
  close(): Promise<void>
  /** The OpenAI Realtime fake, for the figures only its own send times give (bench/openai-realtime.ts). */
  realtime?: FakeRealtimeServer
}

export const BENCH_MODES = ['echo', 'openai-realtime', 'elevenlabs', 'cascade', 'hybrid'] as const
export type BenchMode = (typeof BENCH_MODES)[number]

export function isBenchMode(value: string): value is BenchMode {
  return (BENCH_MODES as readonly string[]).includes(value)
}

async function elevenLabs(silenceMs: number): Promise<{ fake: FakeElevenLabs; env: Record<string, string> }> {
  // Per-call recording in the fakes would grow without bound over a long run.
  const fake = await FakeElevenLabs.start({ pingIntervalMs: 0, endOfTurnSilenceMs: silenceMs })
  const agent = fake.addAgent({
    input: 'ulaw_8000',
    output: 'ulaw_8000',
    firstMessage: 'Hello, this is the benchmark agent.'
  })
  return {
    fake,
    env: { ELEVENLABS_API_KEY: fake.apiKey, ELEVENLABS_BASE_URL: fake.url, ELEVENLABS_AGENT_ID: agent.agentId }
  }
}

export async function startEngineFakes(mode: BenchMode, silenceMs: number): Promise<EngineFakes> {
  switch (mode) {
    case 'echo':
      return { env: {}, close: async () => {} }
    case 'openai-realtime': {
      const rt = await FakeRealtimeServer.start({ logAppends: false, recordAudio: false })
      return { env: { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: rt.baseUrl }, close: () => rt.close(), realtime: rt }
    }
    case 'elevenlabs': {
      const el = await elevenLabs(silenceMs)
      return { env: el.env, close: () => el.fake.stop() }
    }
    case 'cascade': {
      const el = await elevenLabs(silenceMs)
      const chat = await FakeOpenAiChat.start()
      return {
        env: { ...el.env, OPENAI_API_KEY: chat.apiKey, OPENAI_BASE_URL: chat.url },
        close: async () => {
          await Promise.all([el.fake.stop(), chat.stop()])
        }
      }
    }
    case 'hybrid': {
      const el = await elevenLabs(silenceMs)
      const rt = await FakeRealtimeServer.start({ logAppends: false, recordAudio: false })
      return {
        env: { ...el.env, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: rt.baseUrl },
        close: async () => {
          await Promise.all([el.fake.stop(), rt.close()])
        }
      }
    }
  }
}
