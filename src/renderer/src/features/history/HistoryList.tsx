// The history list: filters, the table, paging; refetches as filters change and when a call ends.
import { useEffect, useState } from 'react'
import type { CallList } from '../../../../shared/api.js'
import { useConsole } from '../../console-context.js'
import { appStore, useAppStore } from '../../store/index.js'
import { HistoryFiltersBar } from './HistoryFiltersBar.js'
import { toQuery } from './history-query.js'
import { HistoryTable } from './HistoryTable.js'

const PAGE_SIZE = 50
/** Typing in a filter waits this long before asking the core. */
const DEBOUNCE_MS = 250

export function HistoryList() {
  const { api } = useConsole()
  const filters = useAppStore((s) => s.historyFilters)
  const page = useAppStore((s) => s.historyPage)
  const timeZone = useAppStore((s) => s.settingsView?.settings.timeZone ?? '')
  const endedCalls = useAppStore((s) => Object.values(s.calls).filter((c) => c.state === 'ended').length)
  const [list, setList] = useState<CallList | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    const abort = new AbortController()
    const timer = setTimeout(() => {
      api.calls(toQuery(filters, page, PAGE_SIZE, timeZone), abort.signal).then(
        (l) => {
          setList(l)
          setError(null)
        },
        (err: unknown) => {
          if (!abort.signal.aborted) setError(err instanceof Error ? err.message : 'History could not be loaded')
        }
      )
    }, DEBOUNCE_MS)
    return () => {
      clearTimeout(timer)
      abort.abort()
    }
  }, [api, filters, page, timeZone, endedCalls])

  const pages = list ? Math.max(1, Math.ceil(list.total / PAGE_SIZE)) : 1
  return (
    <section className="card history" aria-labelledby="history-title">
      <header className="card-header">
        <h2 id="history-title">History</h2>
        <span className="muted" data-testid="history-total" aria-live="polite">
          {list ? `${list.total} call${list.total === 1 ? '' : 's'}` : 'Loading…'}
        </span>
      </header>
      <HistoryFiltersBar value={filters} onChange={(f) => appStore.getState().setHistoryFilters(f)} />
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {list && list.calls.length > 0 && <HistoryTable calls={list.calls} timeZone={timeZone} />}
      {list && list.calls.length === 0 && <p className="muted">No calls match.</p>}
      {pages > 1 && (
        <nav className="pager" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => appStore.getState().setHistoryPage(page - 1)}>
            Newer
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => appStore.getState().setHistoryPage(page + 1)}>
            Older
          </button>
        </nav>
      )}
    </section>
  )
}
