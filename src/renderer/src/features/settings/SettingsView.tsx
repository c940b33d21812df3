// Settings: keys (never shown back), tunnel, data, uploads, time zone; and diagnostics (health, event log).
import { EventLog } from '../event-log/EventLog.js'
import { HealthPanel } from '../health/HealthPanel.js'

export function SettingsView() {
  return (
    <div className="settings-view">
      <div className="column">
        <HealthPanel />
      </div>
      <div className="column">
        <EventLog />
      </div>
    </div>
  )
}
