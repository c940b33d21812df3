// Settings: keys (never shown back), cost rates, tunnel, uploads and time zone; and diagnostics (health, event log).
import type { ReactNode } from 'react'
import { EventLog } from '../event-log/EventLog.js'
import { HealthPanel } from '../health/HealthPanel.js'
import { CostsSection } from './CostsSection.js'
import { KeysSection } from './KeysSection.js'
import { StorageSection } from './StorageSection.js'
import { TunnelSection } from './TunnelSection.js'

function Card({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  )
}

export function SettingsView() {
  return (
    <div className="settings-view">
      <div className="column">
        <Card id="keys-title" title="Keys">
          <p className="muted">
            Keys are stored by the core and never sent back to this window: you see whether each is set, not what it is.
          </p>
          <KeysSection />
        </Card>
        <Card id="costs-title" title="Cost estimate">
          <CostsSection />
        </Card>
      </div>
      <div className="column">
        <Card id="tunnel-title" title="Tunnel">
          <TunnelSection />
        </Card>
        <Card id="storage-title" title="Uploads and time">
          <StorageSection />
        </Card>
        <HealthPanel />
        <EventLog />
      </div>
    </div>
  )
}
