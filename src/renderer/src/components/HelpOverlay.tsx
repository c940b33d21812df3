// The keyboard shortcuts, in a modal dialog (? opens it, Esc closes it).
import { useEffect, useRef } from 'react'
import { SHORTCUTS } from '../hooks/use-shortcuts.js'
import { appStore, useAppStore } from '../store/index.js'

export function HelpOverlay() {
  const open = useAppStore((s) => s.helpOpen)
  const dialogRef = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!open) return
    const previous = document.activeElement as HTMLElement | null
    dialogRef.current?.focus()
    return () => previous?.focus?.()
  }, [open])
  if (!open) return null
  const close = () => appStore.getState().setHelpOpen(false)
  return (
    <div className="overlay" onClick={close}>
      <div
        ref={dialogRef}
        className="dialog card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="help-title"
        tabIndex={-1}
        onClick={(e) => e.stopPropagation()}
        data-testid="help-overlay"
      >
        <header className="card-header">
          <h2 id="help-title">Keyboard shortcuts</h2>
          <button type="button" onClick={close}>
            Close
          </button>
        </header>
        <dl className="shortcuts">
          {SHORTCUTS.map((s) => (
            <div key={s.keys} className="shortcut">
              <dt>
                <kbd>{s.keys}</kbd>
              </dt>
              <dd>{s.description}</dd>
            </div>
          ))}
        </dl>
      </div>
    </div>
  )
}
