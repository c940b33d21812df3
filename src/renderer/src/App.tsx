// The console's one window: header with the views, the view shown, the status bar, and the help overlay.
import { useMemo } from 'react'
import { AppHeader } from './components/AppHeader.js'
import { HelpOverlay } from './components/HelpOverlay.js'
import { OfflineBanner } from './components/LinkStatus.js'
import { StatusBar } from './components/StatusBar.js'
import { ThemeController } from './components/ThemeController.js'
import { useConsole } from './console-context.js'
import { AgentsView } from './features/agents/AgentsView.js'
import { CallView } from './features/call-view/CallView.js'
import { dial } from './features/dialer/dial-action.js'
import { agentChoice } from './features/dialer/place-call.js'
import { HistoryView } from './features/history/HistoryView.js'
import { startLoopback } from './features/loopback/loopback-controller.js'
import { bookmarkLiveCall } from './features/notes/bookmark.js'
import { SettingsView } from './features/settings/SettingsView.js'
import { useShortcuts } from './hooks/use-shortcuts.js'
import { appStore, useAppStore } from './store/index.js'

export function App() {
  const view = useAppStore((s) => s.view)
  const { api, connection } = useConsole()
  const actions = useMemo(
    () => ({
      startLoopback: () => void startLoopback(connection, appStore, agentChoice(appStore)),
      bookmark: () => bookmarkLiveCall(api, appStore),
      dial: () => {
        appStore.getState().setView('call')
        dial()
      }
    }),
    [api, connection]
  )
  useShortcuts(api, appStore, actions)
  return (
    <div className="app">
      <ThemeController />
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader />
      <OfflineBanner />
      <main id="main" className={`app-main view-${view}`} tabIndex={-1} data-view={view}>
        {view === 'call' && <CallView />}
        {view === 'history' && <HistoryView />}
        {view === 'agents' && <AgentsView />}
        {view === 'settings' && <SettingsView />}
      </main>
      <StatusBar />
      <HelpOverlay />
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
