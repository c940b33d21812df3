// "Call the agent (loopback)": a call from this window's microphone to the agent, no Twilio involved.
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { hangupLoopback, startLoopback, type StartLoopbackOptions } from './loopback-controller.js'

export function LoopbackButton({ options, className }: { options?: StartLoopbackOptions; className?: string }) {
  const { connection } = useConsole()
  const status = useAppStore((s) => s.loopback.status)
  const busy = status === 'starting' || status === 'active'
  if (busy) {
    return (
      <button
        type="button"
        className={`btn-danger ${className ?? ''}`}
        onClick={hangupLoopback}
        data-testid="loopback-hangup"
      >
        Hang up loopback
      </button>
    )
  }
  return (
    <button
      type="button"
      className={`btn-primary ${className ?? ''}`}
      onClick={() => startLoopback(connection, appStore, options)}
      data-testid="loopback-call"
    >
      Call the agent (loopback)
    </button>
  )
}
