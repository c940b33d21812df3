// The console's layout; features plug in here as they are built (dialer, live call, history, settings).
import { LinkBadge, OfflineBanner } from './components/LinkStatus.js'
import { EventLog } from './features/event-log/EventLog.js'
import { HealthPanel } from './features/health/HealthPanel.js'

export function App() {
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
        <HealthPanel />
        <EventLog />
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
