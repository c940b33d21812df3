// First run with no keys: what works now (a loopback call to the echo agent, one click away) and what each key unlocks.
import { appStore } from '../../store/index.js'
import { LoopbackButton } from '../loopback/LoopbackButton.js'

const UNLOCKS: readonly { key: string; unlocks: string }[] = [
  {
    key: 'Twilio account SID and auth token',
    unlocks: 'phone calls to any number, inbound calls, and recordings on Twilio'
  },
  { key: 'Twilio API key and secret', unlocks: 'calls from this app (the browser softphone)' },
  { key: 'OpenAI API key', unlocks: 'the OpenAI Realtime engine, and the LLM of the cascade and hybrid engines' },
  {
    key: 'ElevenLabs API key',
    unlocks: 'the ElevenLabs Agent engine, voices and previews, speaking into calls, the cascade’s STT and TTS'
  },
  { key: 'AWS keys and an S3 bucket', unlocks: 'pushing recordings and transcripts to S3' }
]

export function FirstRun() {
  return (
    <section className="card first-run" aria-labelledby="first-run-title" data-testid="first-run">
      <h2 id="first-run-title">Welcome to Callbench</h2>
      <p>
        <strong>Works now, with no keys:</strong> a loopback call from this window’s microphone to the offline echo
        agent. Speak, pause, and hear yourself back; the meters, transcript and turn latency work as on a real call.
      </p>
      <p>
        <LoopbackButton />
      </p>
      <h3>Each key unlocks more</h3>
      <ul className="unlocks">
        {UNLOCKS.map((u) => (
          <li key={u.key}>
            <strong>{u.key}</strong>: {u.unlocks}
          </li>
        ))}
      </ul>
      <div className="toolbar">
        <button type="button" onClick={() => appStore.getState().setView('settings')}>
          Add keys in Settings
        </button>
        <button type="button" className="btn-link" onClick={() => appStore.getState().dismissFirstRun()}>
          Don’t show again
        </button>
      </div>
    </section>
  )
}
