// The call's cost estimate: a running total on the live call, the breakdown on hover or when opened.
import { formatCost, formatQuantity, type CallCost, type CostItem } from '../../../../shared/cost.js'
import { useAppStore } from '../../store/index.js'

/** One line per service: what was used and the amount; the rate on hover, or as a column where there is room. */
export function CostBreakdown({ cost, showRates = false }: { cost: CallCost; showRates?: boolean }) {
  if (cost.items.length === 0) return <p className="muted">Nothing billable so far.</p>
  const rateOf = (item: CostItem) =>
    `${formatCost(item.rate, cost.currency)}/${item.per === 1 ? item.unit : `${perLabel(item.per)} ${item.unit}`}`
  return (
    <table className="cost-breakdown" aria-label="Cost breakdown">
      <tbody>
        {cost.items.map((item) => (
          <tr key={item.key} data-key={item.key} title={showRates ? undefined : rateOf(item)}>
            <th scope="row">{item.label}</th>
            <td>{formatQuantity(item)}</td>
            {showRates && <td className="muted">{rateOf(item)}</td>}
            <td className="num">{formatCost(item.amount, cost.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function perLabel(per: number): string {
  return per === 1e6 ? '1M' : per === 1000 ? '1k' : String(per)
}

/** The hover text: the breakdown on one line each. */
export function costTitle(cost: CallCost): string {
  return cost.items.map((i) => `${i.label}: ${formatQuantity(i)} = ${formatCost(i.amount, cost.currency)}`).join('\n')
}

/** The live call's running estimate (call.cost events, at most once a second). */
export function CostLine({ callId }: { callId: string }) {
  const cost = useAppStore((s) => s.costs[callId])
  if (!cost) return null
  return (
    <details className="cost-line" data-testid="call-cost" data-total={cost.total}>
      <summary title={costTitle(cost) || 'Nothing billable so far'}>
        Estimated cost <strong>{formatCost(cost.total, cost.currency)}</strong>
      </summary>
      <CostBreakdown cost={cost} />
      <p className="muted">An estimate from the rates in Settings, not a bill.</p>
    </details>
  )
}
