// The JSON types a config field can be declared with (`'number'`, `'integer?'`, ...), their
// TypeScript values and their run-time checks: shared by `defineLayer`'s schemas (define.ts)
// and `jsonField` (fields.ts). Not exported from the package.
import type { Json } from '../layer.js'

/** A field type without the `?` that makes it optional. */
export type BaseField = 'number' | 'integer' | 'string' | 'boolean' | 'number[]' | 'json'

/** The value a field of type `F` holds (`'number'` → `number`; `'json'` → any JSON). */
export type FieldValue<F> = F extends 'number' | 'integer'
  ? number
  : F extends 'string'
    ? string
    : F extends 'boolean'
      ? boolean
      : F extends 'number[]'
        ? readonly number[]
        : Json

/** Per type: what a value must be (for messages), and the check. */
export const fieldChecks: { readonly [F in BaseField]: readonly [string, (u: unknown) => boolean] } = {
  number: ['a finite number', (u) => typeof u === 'number' && Number.isFinite(u)],
  integer: ['an integer', (u) => Number.isInteger(u)],
  string: ['a string', (u) => typeof u === 'string'],
  boolean: ['a boolean', (u) => typeof u === 'boolean'],
  'number[]': ['an array of numbers', (u) => Array.isArray(u) && u.every((v) => typeof v === 'number')],
  json: ['a JSON value', (u) => u !== undefined],
}
