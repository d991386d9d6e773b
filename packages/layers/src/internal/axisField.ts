// The `axis` config field of the normalization layers (batch and layer normalization): one
// axis or a list of them, saved as given, −1 (the last axis) when absent.
import { field } from '../fields.js'

/** The axis option: one axis or a list of them, saved as given. */
const readAxis = (u: unknown, path: string): number | readonly number[] => {
  if (typeof u === 'number' || (Array.isArray(u) && u.every((a) => typeof a === 'number'))) return u
  throw new Error(`${path}: expected a number or an array of numbers, got ${JSON.stringify(u)}`)
}

/** The `axis` field: optional, −1 when absent, a number or an array of numbers. */
export const axisField = () =>
  field({
    optional: true,
    fromOption: readAxis,
    fromJson: readAxis,
    toJson: (a: number | readonly number[]) => (typeof a === 'number' ? a : [...a]),
    absent: () => -1,
  })
