/** Shows the UTC instants the core stores (ISO 8601) in the user's time zone (settings.timeZone). */

export interface TimeFormatOptions {
  /** IANA zone (`Europe/Paris`); empty or undefined = the system's. An unknown zone falls back to UTC. */
  timeZone?: string | undefined
  /** BCP 47 locale; default the runtime's. */
  locale?: string | undefined
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(kind: 'dateTime' | 'date' | 'time', opts: TimeFormatOptions): Intl.DateTimeFormat {
  const zone = opts.timeZone || undefined
  const key = `${kind}|${zone ?? ''}|${opts.locale ?? ''}`
  let f = formatters.get(key)
  if (f) return f
  const parts: Intl.DateTimeFormatOptions =
    kind === 'date'
      ? { year: 'numeric', month: '2-digit', day: '2-digit' }
      : kind === 'time'
        ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
        : {
            year: 'numeric',
            month: '2-digit',
            day: '2-digit',
            hour: '2-digit',
            minute: '2-digit',
            second: '2-digit',
            hourCycle: 'h23'
          }
  try {
    f = new Intl.DateTimeFormat(opts.locale, { ...parts, ...(zone ? { timeZone: zone } : {}) })
  } catch {
    // An invalid zone in settings must not break the history view.
    f = new Intl.DateTimeFormat(opts.locale, { ...parts, timeZone: 'UTC' })
  }
  formatters.set(key, f)
  return f
}

function toDate(iso: string | number | Date): Date | undefined {
  const d = iso instanceof Date ? iso : new Date(iso)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** Date and time of an instant in the zone, e.g. `03/14/2026, 09:26:53`; '' for an invalid input. */
export function formatDateTime(iso: string | number | Date, opts: TimeFormatOptions = {}): string {
  const d = toDate(iso)
  return d ? formatter('dateTime', opts).format(d) : ''
}

export function formatDate(iso: string | number | Date, opts: TimeFormatOptions = {}): string {
  const d = toDate(iso)
  return d ? formatter('date', opts).format(d) : ''
}

export function formatTime(iso: string | number | Date, opts: TimeFormatOptions = {}): string {
  const d = toDate(iso)
  return d ? formatter('time', opts).format(d) : ''
}

/** A duration as `m:ss` (or `h:mm:ss`), e.g. 65_400 ms → `1:05`. */
export function formatDurationMs(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const ss = String(s).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/**
 * The UTC instant of a wall-clock date and time in a zone (`2026-03-14`, `00:00` in `America/New_York`), for
 * turning the console's date pickers into the `from`/`to` filters of the history query.
 */
export function zonedToUtcIso(date: string, time = '00:00:00', timeZone?: string): string {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number]
  const [h = 0, mi = 0, s = 0] = time.split(':').map(Number)
  const guess = Date.UTC(y, mo - 1, d, h, mi, s)
  if (!timeZone) return new Date(y, mo - 1, d, h, mi, s).toISOString()
  // The zone's offset at the guessed instant, then once more at the corrected one (DST edges).
  let utc = guess - offsetMs(guess, timeZone)
  utc = guess - offsetMs(utc, timeZone)
  return new Date(utc).toISOString()
}

function offsetMs(atMs: number, timeZone: string): number {
  let f: Intl.DateTimeFormat
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
  } catch {
    return 0
  }
  const p: Record<string, number> = {}
  for (const part of f.formatToParts(new Date(atMs))) if (part.type !== 'literal') p[part.type] = Number(part.value)
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!)
  return asUtc - Math.floor(atMs / 1000) * 1000
}
