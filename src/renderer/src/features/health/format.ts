// Display helpers for the health panel.

/** `93784` → `1d 2h 3m 4s`; leading zero units are left out. */
export function formatUptime(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS))
  const days = Math.floor(s / 86_400)
  const hours = Math.floor((s % 86_400) / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  const seconds = s % 60
  const parts: string[] = []
  if (days) parts.push(`${days}d`)
  if (days || hours) parts.push(`${hours}h`)
  if (days || hours || minutes) parts.push(`${minutes}m`)
  parts.push(`${seconds}s`)
  return parts.join(' ')
}
