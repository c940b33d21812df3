// One key, write-only: shows whether it is set (and its last characters, as the core masks them), never its value.
import { useId } from 'react'
import type { MaskedSecret, SecretName } from '../../../../shared/settings.js'

export interface SecretFieldProps {
  name: SecretName
  label: string
  masked: MaskedSecret | undefined
  /** What the user typed, not yet saved ('' = unchanged). */
  value: string
  onChange(value: string): void
  onRemove(): void
}

export function SecretField({ name, label, masked, value, onChange, onRemove }: SecretFieldProps) {
  const id = useId()
  const statusId = `${id}-status`
  return (
    <div className="secret-field" data-secret={name}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={masked?.set ? 'Saved; type to replace' : 'Not set'}
        aria-describedby={statusId}
        data-testid={`secret-${name}`}
      />
      <span id={statusId} className={masked?.set ? 'secret-status secret-set' : 'secret-status'}>
        {masked?.set ? `Set${masked.hint ? ` (${masked.hint})` : ''}` : 'Not set'}
      </span>
      {masked?.set && (
        <button type="button" className="btn-link" onClick={onRemove} aria-label={`Remove ${label}`}>
          Remove
        </button>
      )}
    </div>
  )
}
