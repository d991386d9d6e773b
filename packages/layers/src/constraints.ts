import { add, clip, div, greaterEqual, mul, sqrt, square, sum, type Tensor, where } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeAt, FiniteNumber } from './internal/config.js'
import type { Json } from './layer.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * The names of the built-in weight constraints (Keras' `keras.constraints`, camelCase).
 * @example
 * ```ts
 * import { type ConstraintName, getConstraint } from '@purenn/layers'
 * const name: ConstraintName = 'nonNeg'
 * console.log(getConstraint(name).name) // nonNeg
 * ```
 * @category Constraints
 */
export type ConstraintName = 'maxNorm' | 'nonNeg' | 'unitNorm' | 'minMaxNorm'

/**
 * A weight constraint as a value: a projection applied to a weight after every optimizer
 * update (`dense({ kernelConstraint: maxNorm(1) })`), as Keras' `kernel_constraint`.
 *
 * @remarks
 * `project(w)` returns the constrained weight (a new tensor). It is *not* part of the loss
 * and no gradient flows through it: the training step of `@purenn/train` calls the model's
 * `constrain` on the params right after `applyUpdates`, Keras' place for it (projected
 * gradient descent). `name` and `config` are what {@link constraintToConfig} saves.
 *
 * @example
 * ```ts
 * import { nonNeg } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(nonNeg().project(tensor([-1, 2])).toString()) // tensor([0, 2])
 * ```
 * @category Constraints
 */
export interface Constraint {
  /** Which constraint. */
  readonly name: ConstraintName
  /** Its parameters as plain JSON (`{ maxValue, axis }` for `maxNorm`, `{}` for `nonNeg`). */
  readonly config: { readonly [k: string]: Json }
  /** The projection: the constrained weight. */
  readonly project: (w: Tensor) => Tensor
}

/**
 * Options of {@link maxNorm} and {@link unitNorm}.
 * @category Constraints
 */
export interface NormAxisOptions {
  /**
   * The axis (or axes) along which norms are computed. Default 0, as Keras: for a dense
   * kernel `[n_in, units]` that is the norm of each unit's incoming weight vector.
   */
  readonly axis?: number | readonly number[]
}

/**
 * Options of {@link minMaxNorm}.
 * @category Constraints
 */
export interface MinMaxNormOptions extends NormAxisOptions {
  /** The smallest norm allowed. Default 0. */
  readonly minValue?: number
  /** The largest norm allowed. Default 1. */
  readonly maxValue?: number
  /** How far to move toward the clipped norm each step, in [0, 1]. Default 1 (all the way). */
  readonly rate?: number
}

// ---------------------------------------------------------------------------------------
// Constructors

/** Keras' `backend.epsilon()`, added to the norms before dividing. */
const EPSILON = 1e-7

const checkNumber = (fn: string, field: string, v: unknown, min = -Infinity): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new RangeError(
      `${fn}: ${field} must be a finite number${min === -Infinity ? '' : ` ≥ ${min}`}, got ${String(v)}`,
    )
  return v
}

const checkAxis = (fn: string, axis: unknown): number | readonly number[] => {
  const ok = (a: unknown) => Number.isInteger(a)
  if (ok(axis)) return axis as number
  if (Array.isArray(axis) && axis.length > 0 && axis.every(ok)) return Object.freeze([...axis]) as number[]
  throw new RangeError(`${fn}: axis must be an integer or a non-empty array of integers, got ${String(axis)}`)
}

const axisJson = (axis: number | readonly number[]): Json => (typeof axis === 'number' ? axis : [...axis])

const norms = (w: Tensor, axis: number | readonly number[]): Tensor => sqrt(sum(square(w), axis, true))

const make = (
  name: ConstraintName,
  project: (w: Tensor) => Tensor,
  config: { [k: string]: Json } = {},
): Constraint => Object.freeze({ name, config: Object.freeze(config), project })

/**
 * Max-norm constraint (Keras' `MaxNorm`): rescales every weight vector whose L2 norm along
 * `axis` exceeds `maxValue` back to norm `maxValue`.
 *
 * @remarks
 * $n = \sqrt{\sum_\mathrm{axis} w^2}$, $w \leftarrow w \operatorname{clip}(n, 0, \mathrm{maxValue}) / (\varepsilon + n)$ with $\varepsilon = 10^{-7}$ (Keras' formula,
 * so a vector inside the ball shrinks by the factor $n / (\varepsilon + n)$, a hair below 1). Srebro &
 * Shraibman (2005); the regularizer of Srivastava et al. (2014) for dropout nets. Keras'
 * defaults: `max_value=2`, `axis=0`.
 *
 * @param maxValue - the largest norm; default 2
 * @param opts - `{ axis }`, default 0
 * @returns the constraint, with `config` `{ maxValue, axis }`
 * @throws RangeError when `maxValue` is negative or not finite, or `axis` is not an integer
 * @example
 * ```ts
 * import { maxNorm } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * // columns of norm 5 and 0.5: the first is scaled to norm 1, the second kept
 * console.log(maxNorm(1).project(tensor([[3, 0.3], [4, 0.4]])).toString()) // tensor([[0.6, 0.3], [0.8, 0.4]])
 * ```
 * @category Constraints
 */
export const maxNorm = (maxValue = 2, opts: NormAxisOptions = {}): Constraint => {
  const m = checkNumber('maxNorm', 'maxValue', maxValue, 0)
  const axis = checkAxis('maxNorm', opts.axis ?? 0)
  return make(
    'maxNorm',
    (w) => {
      const n = norms(w, axis)
      return mul(w, div(clip(n, 0, m), add(n, EPSILON)))
    },
    { maxValue: m, axis: axisJson(axis) },
  )
}

/**
 * Non-negativity constraint (Keras' `NonNeg`): $w \leftarrow w \cdot [w \ge 0]$, negative weights become 0
 * (written `where(w ≥ 0, w, 0)`, so they become +0 where Keras' product gives −0).
 *
 * @returns the constraint, with `config` `{}`
 * @example
 * ```ts
 * import { nonNeg } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(nonNeg().project(tensor([[-0.5, 0], [2, -3]])).toString()) // tensor([[0, 0], [2, 0]])
 * ```
 * @category Constraints
 */
export const nonNeg = (): Constraint => make('nonNeg', (w) => where(greaterEqual(w, 0), w, 0))

/**
 * Unit-norm constraint (Keras' `UnitNorm`): every weight vector along `axis` is divided by
 * its L2 norm.
 *
 * @remarks $w \leftarrow w / \left(\varepsilon + \sqrt{\sum_\mathrm{axis} w^2}\right)$ with $\varepsilon = 10^{-7}$. Keras' default `axis=0`.
 * @param opts - `{ axis }`, default 0
 * @returns the constraint, with `config` `{ axis }`
 * @throws RangeError when `axis` is not an integer
 * @example
 * ```ts
 * import { unitNorm } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(unitNorm({ axis: 1 }).project(tensor([[3, 4]])).toString()) // tensor([[0.6, 0.8]])
 * ```
 * @category Constraints
 */
export const unitNorm = (opts: NormAxisOptions = {}): Constraint => {
  const axis = checkAxis('unitNorm', opts.axis ?? 0)
  return make('unitNorm', (w) => div(w, add(norms(w, axis), EPSILON)), { axis: axisJson(axis) })
}

/**
 * Min-max-norm constraint (Keras' `MinMaxNorm`): moves the L2 norm of every weight vector
 * along `axis` into `[minValue, maxValue]`, by a fraction `rate` of the way.
 *
 * @remarks
 * $n = \sqrt{\sum_\mathrm{axis} w^2}$, $d = \mathrm{rate} \operatorname{clip}(n, \mathrm{minValue}, \mathrm{maxValue}) + (1 - \mathrm{rate})\, n$,
 * $w \leftarrow w d / (\varepsilon + n)$ with $\varepsilon = 10^{-7}$. Keras' defaults: `min_value=0`, `max_value=1`, `rate=1`,
 * `axis=0`.
 *
 * @param opts - `{ minValue, maxValue, rate, axis }`
 * @returns the constraint, with `config` `{ minValue, maxValue, rate, axis }`
 * @throws RangeError when a value is not finite, `minValue > maxValue`, or `rate` is outside [0, 1]
 * @example
 * ```ts
 * import { minMaxNorm } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * // a column of norm 0.5 is pushed up to norm 2
 * console.log(minMaxNorm({ minValue: 2, maxValue: 3 }).project(tensor([[0.3], [0.4]])).toString()) // tensor([[1.2], [1.6]])
 * ```
 * @category Constraints
 */
export const minMaxNorm = (opts: MinMaxNormOptions = {}): Constraint => {
  const lo = checkNumber('minMaxNorm', 'minValue', opts.minValue ?? 0, 0)
  const hi = checkNumber('minMaxNorm', 'maxValue', opts.maxValue ?? 1, 0)
  const rate = checkNumber('minMaxNorm', 'rate', opts.rate ?? 1, 0)
  if (lo > hi) throw new RangeError(`minMaxNorm: minValue ${lo} is larger than maxValue ${hi}`)
  if (rate > 1) throw new RangeError(`minMaxNorm: rate must be in [0, 1], got ${rate}`)
  const axis = checkAxis('minMaxNorm', opts.axis ?? 0)
  return make(
    'minMaxNorm',
    (w) => {
      const n = norms(w, axis)
      const d = rate === 1 ? clip(n, lo, hi) : add(mul(clip(n, lo, hi), rate), mul(n, 1 - rate))
      return mul(w, div(d, add(n, EPSILON)))
    },
    { minValue: lo, maxValue: hi, rate, axis: axisJson(axis) },
  )
}

/**
 * The constraints under one name (Keras' `keras.constraints`).
 * @example
 * ```ts
 * import { constraints } from '@purenn/layers'
 * console.log(constraints.maxNorm(3).config) // { maxValue: 3, axis: 0 }
 * ```
 * @category Constraints
 */
export const constraints = Object.freeze({ maxNorm, nonNeg, unitNorm, minMaxNorm })

const byName: { readonly [N in ConstraintName]: () => Constraint } = {
  maxNorm: () => maxNorm(),
  nonNeg,
  unitNorm: () => unitNorm(),
  minMaxNorm: () => minMaxNorm(),
}
const names = Object.keys(byName) as ConstraintName[]
const namesText = names.map((n) => `'${n}'`).join(' | ')

/**
 * The constraint a name stands for (with Keras' defaults); a constraint value is returned
 * as is.
 * @param c - a name or a {@link Constraint}
 * @returns the constraint
 * @throws Error when `c` names no constraint (possible only from untyped code)
 * @example
 * ```ts
 * import { getConstraint } from '@purenn/layers'
 * console.log(getConstraint('maxNorm').config) // { maxValue: 2, axis: 0 }
 * ```
 * @category Constraints
 */
export const getConstraint = (c: ConstraintName | Constraint): Constraint => {
  if (typeof c !== 'string') {
    if (c === null || typeof c !== 'object' || typeof c.project !== 'function')
      throw new Error(`getConstraint: expected a constraint name or value, got ${String(c)}`)
    return c
  }
  const build = Object.hasOwn(byName, c) ? byName[c] : undefined
  if (build === undefined)
    throw new Error(`getConstraint: unknown constraint '${String(c)}', expected one of ${namesText}`)
  return build()
}

// ---------------------------------------------------------------------------------------
// Config (plain JSON) and its decoding

/**
 * The plain-JSON config of a constraint: `{ name, ...params }`.
 * @remarks Inverse of {@link constraintFromConfig}.
 * @param c - the constraint
 * @returns the JSON to save
 * @example
 * ```ts
 * import { constraintToConfig, maxNorm } from '@purenn/layers'
 * console.log(constraintToConfig(maxNorm(1))) // { name: 'maxNorm', maxValue: 1, axis: 0 }
 * ```
 * @category Constraints
 */
export const constraintToConfig = (c: Constraint): Json => ({ name: c.name, ...c.config })

const NameC = t.keyof(
  Object.fromEntries(names.map((n) => [n, null])) as { [N in ConstraintName]: null },
  `one of ${namesText}`,
)
const Named = t.type({ name: t.unknown }, 'a constraint name or { name, ...params }')
const Axis = t.union([t.Integer, t.array(t.Integer)], 'an integer or an array of integers')

const paramsOf: { readonly [N in ConstraintName]: readonly string[] } = {
  maxNorm: ['maxValue', 'axis'],
  nonNeg: [],
  unitNorm: ['axis'],
  minMaxNorm: ['minValue', 'maxValue', 'rate', 'axis'],
}

/**
 * Rebuilds a constraint from its plain-JSON config (a saved model), with io-ts: a name
 * (`'nonNeg'`, Keras' defaults) or `{ name, ...params }` as written by
 * {@link constraintToConfig}.
 *
 * @remarks Never throws: a bad config gives a `Left` naming the field
 * (`kernelConstraint.maxValue: expected a finite number, got "2"`); fields a constraint does
 * not take are rejected.
 * @param u - the JSON value
 * @param path - the field being decoded, for messages; default `'constraint'`
 * @returns `Right(constraint)` or `Left(message)`
 * @example
 * ```ts
 * import { constraintFromConfig } from '@purenn/layers'
 * const ok = constraintFromConfig({ name: 'maxNorm', maxValue: 3, axis: 0 })
 * console.log(ok._tag === 'Right' && ok.right.config.maxValue) // 3
 * const bad = constraintFromConfig({ name: 'nonNeg', axis: 0 }, 'kernelConstraint')
 * console.log(bad._tag === 'Left' && bad.left) // kernelConstraint.axis: 'nonNeg' takes no parameters, got a field 'axis'
 * ```
 * @category Constraints
 */
export const constraintFromConfig = (u: unknown, path = 'constraint'): E.Either<string, Constraint> => {
  if (typeof u === 'string') return E.map((n: ConstraintName) => byName[n]())(decodeAt(NameC, u, path))
  const named = decodeAt(Named, u, path)
  if (E.isLeft(named)) return named
  const name = decodeAt(NameC, named.right.name, `${path}.name`)
  if (E.isLeft(name)) return name
  const fields = named.right as { readonly [k: string]: unknown }
  const allowed = paramsOf[name.right]
  const values: { [k: string]: number | readonly number[] } = {}
  for (const k of Object.keys(fields)) {
    if (k === 'name') continue
    if (!allowed.includes(k)) {
      const takes = allowed.length === 0 ? 'no parameters' : `only ${allowed.join(', ')}`
      return E.left(`${path}.${k}: '${name.right}' takes ${takes}, got a field '${k}'`)
    }
    const v =
      k === 'axis'
        ? decodeAt(Axis, fields[k], `${path}.${k}`)
        : decodeAt(FiniteNumber, fields[k], `${path}.${k}`)
    if (E.isLeft(v)) return v
    values[k] = v.right
  }
  return E.tryCatch(
    () => {
      switch (name.right) {
        case 'maxNorm':
          return maxNorm(
            values.maxValue as number | undefined,
            values.axis === undefined ? {} : { axis: values.axis },
          )
        case 'nonNeg':
          return nonNeg()
        case 'unitNorm':
          return unitNorm(values.axis === undefined ? {} : { axis: values.axis })
        case 'minMaxNorm':
          return minMaxNorm(values as MinMaxNormOptions)
      }
    },
    (e) => `${path}: ${(e as Error).message}`,
  )
}
