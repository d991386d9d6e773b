/**
 * Fields and hooks shared by the built-in layers: the regularization penalty and the
 * constraint projection of a layer's named weights (the `penalty` and `constrain` of
 * `defineLayer`'s body), and common checks.
 */

import { add, scalar, type Tensor } from '@purenn/tensor'
import type { Constraint } from '../constraints.js'
import type { Field } from '../define.js'
import type { Regularizer } from '../regularizers.js'
import { show } from './config.js'

type Weights = { readonly [name: string]: Tensor | undefined }

/**
 * `{ penalty }` summing each weight's regularizer penalty (in the order given, from a zero
 * scalar; a weight the params lack adds nothing), or `{}` when there is no regularizer.
 */
export const penaltyOf = <P extends Weights>(
  regs: {
    readonly [K in keyof P]?: Regularizer | undefined
  },
): { penalty?: (params: P) => Tensor } => {
  const entries = Object.entries(regs).filter((e): e is [string, Regularizer] => e[1] !== undefined)
  if (entries.length === 0) return {}
  return {
    penalty: (params) =>
      entries.reduce((s, [name, r]) => {
        const w = params[name]
        return w === undefined ? s : add(s, r.penalty(w))
      }, scalar(0)),
  }
}

/** `{ constrain }` projecting each constrained weight the params have, or `{}` when there is no constraint. */
export const constrainOf = <P extends Weights>(
  cons: {
    readonly [K in keyof P]?: Constraint | undefined
  },
): { constrain?: (params: P) => P } => {
  if (Object.values(cons).every((c) => c === undefined)) return {}
  return {
    constrain: (params) =>
      Object.fromEntries(
        Object.entries(params).map(([name, w]) => {
          const c = cons[name]
          return [name, c === undefined || w === undefined ? w : c.project(w)]
        }),
      ) as P,
  }
}

/** A `jsonField` check: a positive integer. */
export const positive = (n: number): string | undefined =>
  Number.isInteger(n) && n > 0 ? undefined : `must be a positive integer, got ${n}`

/** A probability in [0, 1) (dropout rates): any other value, NaN included, is refused naming it. */
const readRate = (u: unknown, path: string): number => {
  if (typeof u === 'number' && u >= 0 && u < 1) return u
  throw new Error(`${path} must be in [0, 1), got ${typeof u === 'number' ? u : show(u)}`)
}

/** The `rate` field of the dropout layers. */
export const rateField: Field<number, number, false> = {
  optional: false,
  fromOption: readRate,
  fromJson: readRate,
  toJson: (r) => r,
}
