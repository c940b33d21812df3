/** POST /api/settings/test: "Test connection" for one service, answered in one sentence that says exactly what is wrong. */
import { performance } from 'node:perf_hooks'
import { ServiceTestRequestSchema, type ServiceCheckOutcome, type ServiceTestResult, type TestableService } from '../../../shared/service-test.js'
import { SECRET_NAMES } from '../../../shared/settings.js'
import type { App } from '../../app.js'
import { checkElevenLabs } from '../../speech/elevenlabs-check.js'
import { checkOpenAi } from '../../speech/openai-check.js'
import { checkS3 } from '../../storage/s3-check.js'
import { checkTwilio } from '../../telephony/twilio-check.js'
import { parseWith, readJson, sendJson } from '../http.js'

const LABELS: Record<TestableService, string> = { twilio: 'Twilio', openai: 'OpenAI', elevenlabs: 'ElevenLabs', s3: 'S3' }

function check(app: App, service: TestableService): Promise<ServiceCheckOutcome> {
  const settings = () => app.settings.get()
  const deps = { secrets: app.secrets, config: app.config, settings }
  switch (service) {
    case 'twilio':
      return checkTwilio({ ...deps, phoneNumber: () => settings().twilio.phoneNumber || app.config('TWILIO_PHONE_NUMBER') })
    case 'openai':
      return checkOpenAi(deps)
    case 'elevenlabs':
      return checkElevenLabs(deps)
    case 's3':
      return checkS3(deps)
  }
}

/** Belt and braces: no configured secret leaves in an answer, whatever a service put in an error. */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('[secret]')
  return out
}

export function registerServiceTests(app: App): void {
  app.controlListener.router.post('/api/settings/test', async ({ req, res }) => {
    const { service } = parseWith(ServiceTestRequestSchema, await readJson(req))
    const startedMs = performance.now()
    let outcome: ServiceCheckOutcome
    try {
      outcome = await check(app, service)
    } catch (err) {
      app.log.warn('service test failed', { service, err: err as Error })
      outcome = { ok: false, message: `The ${LABELS[service]} check could not run` }
    }
    const secrets = (await Promise.all(SECRET_NAMES.map((n) => app.secrets.get(n)))).filter((s): s is string => !!s)
    const result: ServiceTestResult = {
      service,
      ok: outcome.ok,
      message: scrub(outcome.message, secrets),
      ...(outcome.detail ? { detail: scrub(outcome.detail, secrets) } : {}),
      durationMs: Math.round(performance.now() - startedMs)
    }
    app.log.info('service test', { service, ok: result.ok, durationMs: result.durationMs })
    sendJson(res, 200, result)
  })
}
