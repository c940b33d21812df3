// A 12-key phone keypad; each press reports its digit (typing the digits works too).
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const
const LETTERS: Record<string, string> = {
  '2': 'ABC',
  '3': 'DEF',
  '4': 'GHI',
  '5': 'JKL',
  '6': 'MNO',
  '7': 'PQRS',
  '8': 'TUV',
  '9': 'WXYZ',
  '0': '+'
}

export function Keypad({
  onDigit,
  label,
  disabled
}: {
  onDigit: (digit: string) => void
  label: string
  disabled?: boolean
}) {
  return (
    <div className="keypad" role="group" aria-label={label}>
      {KEYS.map((k) => (
        <button
          key={k}
          type="button"
          className="key"
          onClick={() => onDigit(k)}
          disabled={disabled}
          aria-label={k === '*' ? 'star' : k === '#' ? 'pound' : k}
        >
          <span className="key-digit">{k}</span>
          <span className="key-letters" aria-hidden="true">
            {LETTERS[k] ?? ''}
          </span>
        </button>
      ))}
    </div>
  )
}
