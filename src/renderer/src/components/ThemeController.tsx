// Puts the chosen theme on <html data-theme>, following the system's preference when the choice is "system".
import { useEffect } from 'react'
import { appStore, useAppStore } from '../store/index.js'

export function ThemeController() {
  const theme = useAppStore((s) => s.theme)
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)')
    const apply = () => {
      const resolved = theme === 'system' ? (query.matches ? 'dark' : 'light') : theme
      document.documentElement.dataset.theme = resolved
      appStore.getState().setResolvedTheme(resolved)
    }
    apply()
    query.addEventListener('change', apply)
    return () => query.removeEventListener('change', apply)
  }, [theme])
  return null
}
