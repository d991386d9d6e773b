// Options shared by the convolution and pooling layers: pairs of positive integers given as
// a number or a pair (Keras' `kernel_size=3` or `(3, 3)`), and the padding.
import type { Padding } from '@purenn/tensor'
import * as t from 'io-ts'

/** A pair of integers. */
export type Pair = readonly [number, number]

/** `n` or `[a, b]` as a pair of positive integers; throws naming the layer and the option. */
export const toPair = (layer: string, what: string, v: number | Pair): [number, number] => {
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v
  if (!Array.isArray(p) && typeof v !== 'number')
    throw new Error(
      `${layer}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`,
    )
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 1))
    throw new Error(
      `${layer}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`,
    )
  return [p[0]!, p[1]!]
}

/** Checks a padding option. */
export const toPadding = (layer: string, v: Padding | undefined): Padding => {
  const p = v ?? 'valid'
  if (p !== 'valid' && p !== 'same')
    throw new Error(`${layer}: padding must be 'valid' or 'same', got ${JSON.stringify(v)}`)
  return p
}

/** io-ts codec of a pair as stored in a config. */
export const PairC = t.tuple([t.number, t.number])

/** io-ts codec of a padding. */
export const PaddingC = t.keyof({ valid: null, same: null })
