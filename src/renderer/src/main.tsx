// Console entry: finds the control API, wires the API client and the events link to the store, renders.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App, MissingToken } from './App.js'
import { createApiClient } from './api/client.js'
import { loadAll } from './api/load.js'
import { eventsUrl, resolveConnection } from './api/connection.js'
import { EventsConnection } from './api/events.js'
import { ConsoleContext, type ConsoleServices } from './console-context.js'
import { loadHealth } from './features/health/load-health.js'
import { appStore } from './store/index.js'
import './styles.css'

/** Health is event-driven; this slow poll only catches changes no event announces (e.g. a secret set by the CLI). */
const HEALTH_POLL_MS = 30_000

const root = createRoot(document.getElementById('root')!)
const connection = resolveConnection(window)

if (connection === null) {
  root.render(
    <StrictMode>
      <MissingToken />
    </StrictMode>
  )
} else {
  const api = createApiClient(connection)
  const refreshHealth = () => loadHealth(api, appStore)
  const events = new EventsConnection({
    url: eventsUrl(connection),
    store: appStore,
    onResync: () => {
      void refreshHealth()
      void loadAll(api, appStore)
    }
  })
  const services: ConsoleServices = { connection, api, events, refreshHealth }

  events.start()
  setInterval(() => {
    if (appStore.getState().link.status === 'online') void refreshHealth()
  }, HEALTH_POLL_MS)

  root.render(
    <StrictMode>
      <ConsoleContext.Provider value={services}>
        <App />
      </ConsoleContext.Provider>
    </StrictMode>
  )
}
