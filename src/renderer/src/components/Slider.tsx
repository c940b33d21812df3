// A labelled range input with its value shown beside it.
import { useId } from 'react'

export interface SliderProps {
  label: string
  value: number
  min: number
  max: number
  step: number
  onChange(value: number): void
  /** How the value is shown; default two decimals. */
  format?: (value: number) => string
  hint?: string
}

export function Slider({ label, value, min, max, step, onChange, format = (v) => v.toFixed(2), hint }: SliderProps) {
  const id = useId()
  return (
    <div className="slider">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
        aria-valuetext={format(value)}
      />
      <output htmlFor={id}>{format(value)}</output>
      {hint && <span className="slider-hint">{hint}</span>}
    </div>
  )
}
