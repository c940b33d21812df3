/** Builds the SQL of the history query (filters, paging, transcript full-text search) from the parsed query string. */
import type { CallListFilter } from '../../shared/records.js'

export interface BuiltQuery {
  where: string
  params: Array<string | number>
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DAY_MS = 86_400_000

/**
 * An FTS5 MATCH expression from user text: every word quoted (so FTS syntax in the input is inert) and
 * prefix-matched, all required. Undefined when the text has no word at all.
 */
export function ftsExpression(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}]+/gu)
  if (!words || words.length === 0) return undefined
  return words
    .slice(0, 16)
    .map((w) => `"${w}"*`)
    .join(' ')
}

export function digitsOf(value: string | undefined | null): string {
  return value ? value.replace(/\D+/g, '') : ''
}

export function buildHistoryWhere(f: Omit<CallListFilter, 'page' | 'pageSize'>): BuiltQuery {
  const clauses: string[] = []
  const params: Array<string | number> = []
  if (f.from) {
    clauses.push('c.started_at_ms >= ?')
    params.push(Date.parse(f.from))
  }
  if (f.to) {
    const toMs = Date.parse(f.to) + (DATE_ONLY.test(f.to) ? DAY_MS : 0)
    clauses.push('c.started_at_ms < ?')
    params.push(toMs)
  }
  if (f.direction) {
    clauses.push('c.direction = ?')
    params.push(f.direction)
  }
  const digits = digitsOf(f.number)
  if (digits) {
    // Digits only, so no LIKE wildcard can come from the input.
    clauses.push('(c.from_digits LIKE ? OR c.to_digits LIKE ?)')
    params.push(`%${digits}%`, `%${digits}%`)
  }
  if (f.mode) {
    clauses.push('c.mode = ?')
    params.push(f.mode)
  }
  if (f.profileId) {
    clauses.push('c.profile_id = ?')
    params.push(f.profileId)
  }
  if (f.outcome) {
    clauses.push('c.outcome = ?')
    params.push(f.outcome)
  }
  const fts = f.q ? ftsExpression(f.q) : undefined
  if (fts) {
    clauses.push(
      'c.id IN (SELECT t.call_id FROM transcript_fts JOIN transcript t ON t.id = transcript_fts.rowid WHERE transcript_fts MATCH ?)'
    )
    params.push(fts)
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params }
}
