// The call's cost estimate: a running total on the live call, the breakdown on hover or when opened.
import { formatCost, formatQuantity, type CallCost } from '../../../../shared/cost.js'
import { useAppStore } from '../../store/index.js'

/** One line per service: what was used, the rate, the amount. */
export function CostBreakdown({ cost }: { cost: CallCost }) {
  if (cost.items.length === 0) return <p className="muted">Nothing billable so far.</p>
  return (
    <table className="cost-breakdown" aria-label="Cost breakdown">
      <tbody>
        {cost.items.map((item) => (
          <tr key={item.key} data-key={item.key}>
            <th scope="row">{item.label}</th>
            <td>{formatQuantity(item)}</td>
            <td className="muted">
              {formatCost(item.rate, cost.currency)}/{item.per === 1 ? item.unit : `${perLabel(item.per)} ${item.unit}`}
            </td>
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
