// Config fields shared by the convolution and pooling layers: pairs of positive integers given
// as a number or a pair (Keras' `kernel_size=3` or `(3, 3)`), saved as a pair, and the padding.
import type { Padding } from '@purenn/tensor'
import type { Field } from '../define.js'
import { field } from '../fields.js'

/** A pair of positive integers, as a field's value. */
export type Pair = [number, number]

/** A window size or step: a positive integer for both axes or a pair, saved as a pair. */
export function pairField(): Field<number | readonly [number, number], Pair, false>
export function pairField(absent: number): Field<number | readonly [number, number], Pair, true>
export function pairField(absent?: number): Field<number | readonly [number, number], Pair, boolean> {
  const read = (v: unknown, path: string): Pair => {
    const p = typeof v === 'number' ? [v, v] : v
    if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 1))
      throw new Error(`${path} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`)
    return [p[0], p[1]]
  }
  return {
    optional: absent !== undefined,
    fromOption: read,
    fromJson: read,
    toJson: (p) => [...p],
    ...(absent === undefined ? {} : { absent: (): Pair => [absent, absent] }),
  }
}

const readPadding = (v: unknown, path: string): Padding => {
  if (v !== 'valid' && v !== 'same')
    throw new Error(`${path} must be 'valid' or 'same', got ${JSON.stringify(v)}`)
  return v
}

/** The padding: `'valid'` (the default, saved) or `'same'`. */
export const paddingField: Field<Padding, Padding, true> = field({
  optional: true,
  fromOption: readPadding,
  fromJson: readPadding,
  toJson: (p: Padding) => p,
  absent: (): Padding => 'valid',
})
