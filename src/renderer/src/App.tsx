// The console's layout; features plug in here as they are built (dialer, live call, history, settings).
import { LinkBadge, OfflineBanner } from './components/LinkStatus.js'
import { EventLog } from './features/event-log/EventLog.js'
import { HealthPanel } from './features/health/HealthPanel.js'
import { CallEvents } from './features/live-call/CallEvents.js'
import { LiveCall } from './features/live-call/LiveCall.js'
import { Transcript } from './features/live-call/Transcript.js'
import { LoopbackButton } from './features/loopback/LoopbackButton.js'
import { useMemo } from 'react'
import { useConsole } from './console-context.js'
import { startLoopback } from './features/loopback/loopback-controller.js'
import { useShortcuts } from './hooks/use-shortcuts.js'
import { appStore, useAppStore } from './store/index.js'

export function App() {
  const focusCallId = useAppStore((s) => s.focusCallId)
  const { api, connection } = useConsole()
  const actions = useMemo(() => ({ startLoopback: () => void startLoopback(connection, appStore), bookmark: () => {} }), [connection])
  useShortcuts(api, appStore, actions)
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <h1>Callbench</h1>
        <LinkBadge />
      </header>
      <OfflineBanner />
      <main id="main" className="app-main" tabIndex={-1}>
        <div className="column">
          <section className="card">
            <LoopbackButton />
          </section>
          {focusCallId && <LiveCall callId={focusCallId} />}
          <HealthPanel />
        </div>
        <div className="column">
          {focusCallId && <Transcript callId={focusCallId} />}
          {focusCallId && <CallEvents callId={focusCallId} />}
          <EventLog />
        </div>
      </main>
    </div>
  )
}

/** Shown in a browser opened without the `#token=` the `callbench serve` Console line carries. */
export function MissingToken() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>Callbench</h1>
      </header>
      <main id="main" className="app-main app-main-single">
        <section className="card" role="alert">
          <h2>No access token</h2>
          <p>
            Open the <strong>Console</strong> link that <code>callbench serve</code> printed; it ends in{' '}
            <code>#token=…</code>.
          </p>
        </section>
      </main>
    </div>
  )
}
