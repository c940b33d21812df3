// Recent and saved numbers: a click puts one in the dialer; saved numbers can be removed.
import { useShallow } from 'zustand/react/shallow'
import { appStore, useAppStore } from '../../store/index.js'
import { formatPhone } from './phone-format.js'

export function NumberLists() {
  const { recent, saved } = useAppStore(useShallow((s) => ({ recent: s.recentNumbers, saved: s.savedNumbers })))
  const pick = (n: string) => appStore.getState().setDialNumber(n)
  if (recent.length === 0 && saved.length === 0) return null
  return (
    <div className="number-lists">
      {saved.length > 0 && (
        <div>
          <h3 id="saved-numbers-title">Saved</h3>
          <ul className="numbers" aria-labelledby="saved-numbers-title" data-testid="saved-numbers">
            {saved.map((n) => (
              <li key={n.number}>
                <button type="button" className="btn-link" onClick={() => pick(n.number)}>
                  {n.label !== n.number && <span>{n.label} </span>}
                  <code>{formatPhone(n.number)}</code>
                </button>
                <button
                  type="button"
                  className="btn-icon"
                  aria-label={`Remove ${n.label}`}
                  onClick={() => appStore.getState().removeSaved(n.number)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {recent.length > 0 && (
        <div>
          <h3 id="recent-numbers-title">Recent</h3>
          <ul className="numbers" aria-labelledby="recent-numbers-title" data-testid="recent-numbers">
            {recent.map((n) => (
              <li key={n}>
                <button type="button" className="btn-link" onClick={() => pick(n)}>
                  <code>{formatPhone(n)}</code>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}
