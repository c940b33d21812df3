// The call panel's launcher: how to call (phone, this app, loopback) and which agent answers.
import { useEffect } from 'react'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { LoopbackButton } from '../loopback/LoopbackButton.js'
import { startLoopback } from '../loopback/loopback-controller.js'
import { AppCall } from '../softphone/AppCall.js'
import { AudioDevicePicker } from '../softphone/AudioDevicePicker.js'
import { agentChoice } from './place-call.js'
import { AgentChoice } from './AgentChoice.js'
import { CallWayPicker } from './CallWayPicker.js'
import { setDialHandler } from './dial-action.js'
import { PhoneDialer } from './PhoneDialer.js'

export function Dialer() {
  const way = useAppStore((s) => s.callWay)
  return (
    <section className="card dialer" aria-labelledby="dialer-title" data-testid="dialer">
      <h2 id="dialer-title">Place a call</h2>
      <CallWayPicker />
      <AgentChoice />
      {way === 'phone' && <PhoneDialer />}
      {way === 'app' && <AppCall />}
      {way === 'loopback' && <LoopbackPanel />}
    </section>
  )
}

function LoopbackPanel() {
  const { connection } = useConsole()
  useEffect(() => setDialHandler(() => void startLoopback(connection, appStore, agentChoice(appStore))))
  const choice = useAppStore((s) => `${s.callProfileId}|${s.callMode}`)
  return (
    <div className="loopback-panel">
      <p className="muted">Talk to the agent from this window’s microphone; no phone line or Twilio account needed.</p>
      <AudioDevicePicker />
      <LoopbackButton key={choice} options={agentChoice(appStore)} />
    </div>
  )
}
