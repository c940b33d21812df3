/** Structured logging: static messages, values in fields, secrets redacted; mirrored onto the events stream. */
import type { EventHub } from './events/hub.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }
const SECRET_FIELD = /(token|secret|key|password|authorization|signature)/i
const SECRET_VALUE = /(sk-[A-Za-z0-9_-]{8,}|AC[0-9a-f]{32}|SK[0-9a-f]{32}|AKIA[0-9A-Z]{16})/g

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(fields: LogFields): Logger
}

export interface LoggerOptions {
  /** Lowest level written to stderr. Default `info`; `CALLBENCH_LOG=debug|warn|error|silent` overrides. */
  level?: LogLevel | 'silent'
  hub?: EventHub
  write?: (line: string) => void
}

/** Replaces secret-looking fields and values; errors become `{code, message}`. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {}
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k) && typeof v === 'string') out[k] = v ? '[redacted]' : ''
    else if (typeof v === 'string') out[k] = v.replace(SECRET_VALUE, '[redacted]')
    else if (v instanceof Error) {
      const code = (v as { code?: unknown }).code
      out[k] = { name: v.name, code, message: v.message.replace(SECRET_VALUE, '[redacted]') }
    } else out[k] = v
  }
  return out
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const envLevel = process.env.CALLBENCH_LOG as LogLevel | 'silent' | undefined
  const level = opts.level ?? envLevel ?? 'info'
  const min = level === 'silent' ? Infinity : LEVEL_ORDER[level]
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    const merged = redact({ ...base, ...fields })
    if (LEVEL_ORDER[lvl] >= min) {
      write(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...merged }))
    }
    if (lvl !== 'debug') opts.hub?.publish({ type: 'log', level: lvl, msg, fields: merged, atMs: Date.now() })
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields })
  }
}
