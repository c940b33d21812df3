// The top bar: name, views, theme, help.
import { appStore } from '../store/index.js'
import { LinkBadge } from './LinkStatus.js'
import { NavTabs } from './NavTabs.js'
import { ThemePicker } from './ThemePicker.js'

export function AppHeader() {
  return (
    <header className="app-header">
      <h1>Callbench</h1>
      <NavTabs />
      <div className="toolbar">
        <ThemePicker />
        <button
          type="button"
          aria-keyshortcuts="?"
          aria-label="Keyboard shortcuts"
          onClick={() => appStore.getState().setHelpOpen(true)}
        >
          ?
        </button>
        <LinkBadge />
      </div>
    </header>
  )
}
