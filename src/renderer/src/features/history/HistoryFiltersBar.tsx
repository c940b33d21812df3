// Search and filters of the history: transcript words, number, direction, engine, outcome, dates.
import { AGENT_MODE_LABELS, AGENT_MODES } from '../../../../shared/modes.js'
import { CALL_OUTCOMES } from '../../../../shared/calls.js'
import { OUTCOME_LABELS } from './call-format.js'
import { EMPTY_FILTERS, type HistoryFilters } from './history-query.js'

export function HistoryFiltersBar({ value, onChange }: { value: HistoryFilters; onChange(f: HistoryFilters): void }) {
  const set = (patch: Partial<HistoryFilters>) => onChange({ ...value, ...patch })
  return (
    <form className="history-filters" role="search" aria-label="Filter calls" onSubmit={(e) => e.preventDefault()}>
      <label className="field">
        <span>Search transcripts</span>
        <input
          type="search"
          value={value.q}
          onChange={(e) => set({ q: e.target.value })}
          placeholder="Words said on the call"
          data-testid="history-search"
        />
      </label>
      <label className="field">
        <span>Number</span>
        <input
          type="search"
          inputMode="tel"
          value={value.number}
          onChange={(e) => set({ number: e.target.value })}
          placeholder="Digits"
        />
      </label>
      <label className="field">
        <span>Direction</span>
        <select
          value={value.direction}
          onChange={(e) => set({ direction: e.target.value as HistoryFilters['direction'] })}
        >
          <option value="">Any</option>
          <option value="inbound">Inbound</option>
          <option value="outbound">Outbound</option>
          <option value="loopback">Loopback</option>
        </select>
      </label>
      <label className="field">
        <span>Engine</span>
        <select value={value.mode} onChange={(e) => set({ mode: e.target.value as HistoryFilters['mode'] })}>
          <option value="">Any</option>
          {AGENT_MODES.map((m) => (
            <option key={m} value={m}>
              {AGENT_MODE_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Outcome</span>
        <select value={value.outcome} onChange={(e) => set({ outcome: e.target.value as HistoryFilters['outcome'] })}>
          <option value="">Any</option>
          {CALL_OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {OUTCOME_LABELS[o]}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>From</span>
        <input type="date" value={value.fromDate} onChange={(e) => set({ fromDate: e.target.value })} />
      </label>
      <label className="field">
        <span>To</span>
        <input type="date" value={value.toDate} onChange={(e) => set({ toDate: e.target.value })} />
      </label>
      <button type="button" className="btn-link" onClick={() => onChange(EMPTY_FILTERS)}>
        Clear filters
      </button>
    </form>
  )
}
