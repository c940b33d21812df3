// The four views of the window; switching never reloads the page (keys 1–4 do the same).
import { appStore, useAppStore } from '../store/index.js'
import type { View } from '../store/ui-slice.js'

const VIEWS: readonly { view: View; label: string; key: string }[] = [
  { view: 'call', label: 'Call', key: '1' },
  { view: 'history', label: 'History', key: '2' },
  { view: 'agents', label: 'Agents', key: '3' },
  { view: 'settings', label: 'Settings', key: '4' }
]

export function NavTabs() {
  const current = useAppStore((s) => s.view)
  return (
    <nav className="nav-tabs" aria-label="Views">
      {VIEWS.map(({ view, label, key }) => (
        <button
          key={view}
          type="button"
          className="nav-tab"
          aria-current={current === view ? 'page' : undefined}
          aria-keyshortcuts={key}
          onClick={() => appStore.getState().setView(view)}
        >
          {label}
        </button>
      ))}
    </nav>
  )
}
