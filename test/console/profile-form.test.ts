// The agent editor's model: a profile drawn over the settings, saved back as the sections its engine uses.
import { describe, expect, it } from 'vitest'
import { ProfileInputSchema } from '../../src/shared/profiles.js'
import { SettingsSchema, SettingsPatchSchema } from '../../src/shared/settings.js'
import {
  draftFrom,
  profileInputFrom,
  sectionsFor,
  settingsUpdateFrom
} from '../../src/renderer/src/features/agents/profile-form.js'

const settings = SettingsSchema.parse({ vad: { threshold: 0.6 }, openai: { instructions: 'Be brief.' } })
const now = new Date().toISOString()

describe('agent drafts', () => {
  it('fills a profile’s gaps from the settings', () => {
    const d = draftFrom(settings, {
      id: 'p1',
      name: 'Bookings',
      mode: 'cascade',
      settings: { vad: { silenceMs: 800 }, voice: { settings: { speed: 1.1 } } },
      amd: { enabled: true, onMachine: 'hangup', message: '', timeoutS: 20 },
      createdAt: now,
      updatedAt: now
    })
    expect(d.vad).toMatchObject({ threshold: 0.6, silenceMs: 800, method: 'silero' })
    expect(d.voice.settings).toMatchObject({ speed: 1.1, stability: 0.5 })
    expect(d.openai.instructions).toBe('Be brief.')
    expect(d.amd).toEqual({ enabled: true, onMachine: 'hangup', message: '', timeoutS: 20 })
  })

  it('saves only the sections the engine uses, in a shape the API accepts', () => {
    const cascade = profileInputFrom({ ...draftFrom(settings, null), name: ' Support ', mode: 'cascade' })
    expect(cascade.name).toBe('Support')
    expect(Object.keys(cascade.settings).sort()).toEqual(['openai', 'vad', 'voice'])
    expect(Object.keys(cascade.settings.openai!).sort()).toEqual([
      'greeting',
      'instructions',
      'llmModel',
      'temperature'
    ])
    expect(ProfileInputSchema.safeParse(cascade).success).toBe(true)

    const realtime = profileInputFrom({ ...draftFrom(settings, null), name: 'RT', mode: 'openai-realtime' })
    expect(Object.keys(realtime.settings)).toEqual(['openai'])
    expect(realtime.settings.openai).toHaveProperty('turnDetection')
    expect(realtime.settings.openai).toHaveProperty('voice')
    expect(ProfileInputSchema.safeParse(realtime).success).toBe(true)

    const eleven = profileInputFrom({ ...draftFrom(settings, null), name: 'EL', mode: 'elevenlabs' })
    expect(Object.keys(eleven.settings)).toEqual(['elevenlabs'])
  })

  it('shows turn-taking where our VAD decides, OpenAI’s where the model does', () => {
    expect(sectionsFor('echo').vad).toBe(true)
    expect(sectionsFor('cascade').vad).toBe(true)
    expect(sectionsFor('openai-realtime').vad).toBe(false)
    expect(sectionsFor('openai-realtime').realtime).toBe(true)
    expect(sectionsFor('hybrid').voice).toBe(true)
  })

  it('saves the default agent as whole settings sections', () => {
    const update = settingsUpdateFrom({ ...draftFrom(settings, null), mode: 'openai-realtime' })
    const parsed = SettingsPatchSchema.parse(update.settings)
    expect(parsed.defaultMode).toBe('openai-realtime')
    expect(parsed.vad).toEqual(settings.vad)
    expect(parsed.openai?.instructions).toBe('Be brief.')
  })
})
