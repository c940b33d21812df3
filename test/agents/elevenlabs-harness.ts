/** Shared setup for the ElevenLabs engine tests: deps pointed at the fake, caller audio, event capture. */
import { performance } from 'node:perf_hooks'
import { SettingsSchema, type SecretName, type Settings } from '../../src/shared/settings.js'
import type { AgentDeps } from '../../src/main/agents/engines.js'
import type { Agent, AgentEvents, CallContext } from '../../src/main/agents/agent.js'
import { createLogger } from '../../src/main/log.js'
import type { SecretStore } from '../../src/main/settings/secrets.js'
import type { FakeElevenLabs } from '../fakes/elevenlabs.js'

export function secretsWith(values: Partial<Record<SecretName, string>>): SecretStore {
  return {
    get: async (name) => values[name],
    set: async (name, value) => void (values[name] = value),
    delete: async (name) => void delete values[name],
    list: async () => Object.keys(values) as SecretName[]
  }
}

export function depsFor(fake: FakeElevenLabs, settings: Partial<Settings> = {}, config: Record<string, string> = {}): AgentDeps {
  return {
    settings: SettingsSchema.parse(settings),
    secrets: secretsWith({ ELEVENLABS_API_KEY: fake.apiKey }),
    config: (name) => ({ ELEVENLABS_BASE_URL: fake.url, ...config })[name],
    log: createLogger({ level: 'silent' }),
    resourcesDir: ''
  }
}

export function callContext(extra: Partial<CallContext> = {}): CallContext {
  const t0 = performance.now()
  return {
    callId: 'call-1',
    direction: 'inbound',
    mode: 'elevenlabs',
    from: '+15550001111',
    to: '+15550002222',
    customParameters: {},
    clock: () => performance.now() - t0,
    ...extra
  }
}

/** 20 ms μ-law frames of a loud 440 Hz tone (speech to the fake's VAD) or of silence. */
export function ulawFrames(kind: 'tone' | 'silence', count: number): Uint8Array[] {
  const frames: Uint8Array[] = []
  let phase = 0
  for (let f = 0; f < count; f++) {
    const frame = new Uint8Array(160)
    for (let i = 0; i < 160; i++) {
      frame[i] = kind === 'silence' ? 0xff : encode(Math.round(8000 * Math.sin(phase)))
      phase += (2 * Math.PI * 440) / 8000
    }
    frames.push(frame)
  }
  return frames
}

function encode(sample: number): number {
  let s = Math.max(-32635, Math.min(32635, sample))
  const sign = s < 0 ? 0x80 : 0
  if (sign) s = -s
  s += 0x84
  let exponent = 7
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; exponent--, mask >>= 1);
  return ~(sign | (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)) & 0xff
}

export type Captured = { [K in keyof AgentEvents]: { name: K; args: AgentEvents[K] } }[keyof AgentEvents]

/** Records every event an agent emits, in order. */
export function capture(agent: Agent): Captured[] {
  const seen: Captured[] = []
  const names: Array<keyof AgentEvents> = ['audio', 'audioEnd', 'interrupt', 'transcript', 'turn', 'event', 'error', 'failed', 'hangup']
  for (const name of names) {
    agent.on(name, ((...args: unknown[]) => seen.push({ name, args } as Captured)) as never)
  }
  return seen
}

/** Resolves the first time `agent` emits `name` with arguments that satisfy `pred`. */
export function once<K extends keyof AgentEvents>(agent: Agent, name: K, pred: (...args: AgentEvents[K]) => boolean = () => true): Promise<AgentEvents[K]> {
  return new Promise((resolve) => {
    const listener = (...args: AgentEvents[K]) => {
      if (!pred(...args)) return
      agent.off(name, listener as never)
      resolve(args)
    }
    agent.on(name, listener as never)
  })
}

/** Polls a condition on the event loop (no fixed sleeps standing in for events). */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = performance.now()
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}
