/**
 * Checks of hyperparameters at construction time: a bad value throws at once with the
 * transformation's name, the option and the value, never later inside a training step.
 */

/** Throws a RangeError unless `value` is a finite number > 0. */
export const positive = (op: string, name: string, value: number): number => {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${op}: ${name} must be a finite number > 0, got ${value}`)
  return value
}

/** Throws a RangeError unless `value` is a finite number ≥ 0. */
export const nonNegative = (op: string, name: string, value: number): number => {
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${op}: ${name} must be a finite number >= 0, got ${value}`)
  return value
}

/** Throws a RangeError unless `0 ≤ value < 1` (decay rates such as β1, β2, ρ, momentum). */
export const unitInterval = (op: string, name: string, value: number): number => {
  if (!(value >= 0 && value < 1)) throw new RangeError(`${op}: ${name} must be in [0, 1), got ${value}`)
  return value
}

/** Throws a RangeError unless `value` is a finite number. */
export const finite = (op: string, name: string, value: number): number => {
  if (!Number.isFinite(value)) throw new RangeError(`${op}: ${name} must be a finite number, got ${value}`)
  return value
}
