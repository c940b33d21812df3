// E.164 as the user types: normalise to `+digits`, group for display, and say what is wrong in plain words.
import { isE164 } from '../../../../shared/telephony.js'

/** Country calling codes of one and two digits (ITU-T E.164 assignments); all others have three. */
const ONE_DIGIT = new Set(['1', '7'])
const TWO_DIGIT = new Set(
  '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'.split(
    ' '
  )
)

/**
 * What the user typed → `+digits`. Spaces, dashes, dots and brackets go; `00` (the international prefix) becomes
 * `+`; a number typed without `+` gets one, since an E.164 number always starts with its country code.
 */
export function normalizePhone(input: string): string {
  let s = input.trim()
  if (s.startsWith('00')) s = '+' + s.slice(2)
  const digits = s.replace(/\D/g, '')
  return digits || s.startsWith('+') ? '+' + digits : ''
}

/** The country calling code at the start of a normalised number ('' when too short to tell). */
export function countryCode(e164: string): string {
  const d = e164.replace(/^\+/, '')
  if (d.length >= 1 && ONE_DIGIT.has(d[0]!)) return d[0]!
  if (d.length >= 2 && TWO_DIGIT.has(d.slice(0, 2))) return d.slice(0, 2)
  return d.length >= 3 ? d.slice(0, 3) : ''
}

/** `+15551234567` → `+1 555 123 4567`; other countries in groups of three or four after the code. */
export function formatPhone(e164: string): string {
  const d = e164.replace(/^\+/, '')
  if (!d) return e164.startsWith('+') ? '+' : ''
  const cc = countryCode(e164)
  if (!cc) return '+' + d
  const rest = d.slice(cc.length)
  if (cc === '1') return ['+1', rest.slice(0, 3), rest.slice(3, 6), rest.slice(6)].filter(Boolean).join(' ')
  const groups: string[] = []
  let i = 0
  while (i < rest.length) {
    const left = rest.length - i
    const size = left === 4 ? 4 : Math.min(3, left)
    groups.push(rest.slice(i, i + size))
    i += size
  }
  return ['+' + cc, ...groups].join(' ')
}

export type PhoneCheck = { ok: true; e164: string } | { ok: false; message: string }

/** Whether a number can be dialled, and if not, why. */
export function checkPhone(input: string): PhoneCheck {
  const e164 = normalizePhone(input)
  const digits = e164.slice(1)
  if (!digits) return { ok: false, message: 'Enter a number with its country code, e.g. +1 555 123 4567' }
  if (digits.startsWith('0')) return { ok: false, message: 'A country code never starts with 0' }
  if (digits.length > 15) return { ok: false, message: 'Too long: E.164 numbers have at most 15 digits' }
  if (digits.startsWith('1') && digits.length !== 11) {
    return { ok: false, message: `US and Canada numbers have 10 digits after +1 (${digits.length - 1} so far)` }
  }
  if (digits.length < 8) return { ok: false, message: 'Too short for a phone number' }
  return isE164(e164) ? { ok: true, e164 } : { ok: false, message: 'Not an E.164 number' }
}
