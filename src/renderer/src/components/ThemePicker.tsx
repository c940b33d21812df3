// System, light or dark (T toggles light and dark).
import { appStore, useAppStore } from '../store/index.js'
import type { Theme } from '../store/ui-slice.js'

export function ThemePicker() {
  const theme = useAppStore((s) => s.theme)
  return (
    <label className="theme-picker">
      <span className="sr-only">Theme</span>
      <select
        value={theme}
        onChange={(e) => appStore.getState().setTheme(e.target.value as Theme)}
        aria-keyshortcuts="T"
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  )
}
