/**
 * Config fields for `defineLayer` beyond plain JSON values: an activation, an initializer, a
 * regularizer, a constraint (the factory takes the value or its name, the config saves its
 * JSON, loading decodes it back), and JSON values with a default and a check. The built-in
 * layers are defined with these, so a user's layer gets the same options the same way.
 */

import * as E from 'fp-ts/lib/Either.js'
import {
  type Activation,
  type ActivationName,
  activationFromConfig,
  activationToConfig,
  getActivation,
} from './activations.js'
import {
  type Constraint,
  type ConstraintName,
  constraintFromConfig,
  constraintToConfig,
  getConstraint,
} from './constraints.js'
import type { EarlierValues, Field, FieldType } from './define.js'
import {
  getInitializer,
  type Initializer,
  type InitializerName,
  initializerFromConfig,
  initializerToConfig,
} from './initializers.js'
import { show } from './internal/config.js'
import { type BaseField, type FieldValue, fieldChecks } from './internal/fieldTypes.js'
import type { Json } from './layer.js'
import { type Regularizer, regularizerFromConfig, regularizerToConfig } from './regularizers.js'

// ---------------------------------------------------------------------------------------
// Types

// ---------------------------------------------------------------------------------------
// Constructors

/**
 * A config field from its four functions (see {@link Field}): for option types the ready-made
 * fields do not cover.
 *
 * @param f - `{ optional, fromOption, fromJson, toJson, absent? }`
 * @returns the same field, typed
 * @example
 * ```ts
 * import { defineLayer, field } from '@purenn/layers'
 * import { mul } from '@purenn/tensor'
 * // a factor given as a fraction string ('1/3') or a number, saved as a number
 * const factor = field({
 *   optional: false,
 *   fromOption: (v: string | number) => (typeof v === 'number' ? v : Number(v.split('/')[0]) / Number(v.split('/')[1])),
 *   fromJson: (j) => j as number,
 *   toJson: (v: number) => v,
 * })
 * const scale = defineLayer({ kind: 'Scale', config: { factor }, build: ({ factor }) => ({ apply: (_p, _s, x) => mul(x, factor) }) })
 * console.log(scale({ factor: '1/4' }).config) // { factor: 0.25 }
 * ```
 * @category Custom layers
 */
export const field = <In, Val, const Opt extends boolean>(f: Field<In, Val, Opt>): Field<In, Val, Opt> => f

/**
 * A JSON value field with a default that is saved in the config (Keras saves every
 * argument), and an optional check: `check(value)` returns what is wrong (`'must be in [0,
 * 1)'`), or `undefined`.
 *
 * @param type - the JSON type: `'number'`, `'integer'`, `'string'`, `'boolean'`, `'number[]'` or `'json'`
 * @param opts - `default` (without it the field is required) and `check`
 * @returns the field
 * @example
 * ```ts
 * import { defineLayer, jsonField } from '@purenn/layers'
 * import { mul } from '@purenn/tensor'
 * const scale = defineLayer({
 *   kind: 'Scale',
 *   config: { factor: jsonField('number', { default: 1, check: (f) => (f > 0 ? undefined : `must be positive, got ${f}`) }) },
 *   build: ({ factor }) => ({ apply: (_p, _s, x) => mul(x, factor) }),
 * })
 * console.log(scale({}).config) // { factor: 1 }
 * try { scale({ factor: -1 }) } catch (e) { console.log((e as Error).message) } // Scale config: factor must be positive, got -1
 * ```
 * @category Custom layers
 */
export function jsonField<F extends FieldType, const D extends FieldValue<F>>(
  type: F,
  opts: { readonly default: D; readonly check?: (value: FieldValue<F>) => string | undefined },
): Field<FieldValue<F>, FieldValue<F>, true>
export function jsonField<F extends FieldType>(
  type: F,
  opts?: { readonly check?: (value: FieldValue<F>) => string | undefined },
): Field<FieldValue<F>, FieldValue<F>, false>
export function jsonField<F extends FieldType>(
  type: F,
  opts: {
    readonly default?: FieldValue<F>
    readonly check?: (value: FieldValue<F>) => string | undefined
  } = {},
): Field<FieldValue<F>, FieldValue<F>, boolean> {
  const base = (type.endsWith('?') ? type.slice(0, -1) : type) as BaseField
  const [expected, ok] = fieldChecks[base]
  const read = (u: unknown, path: string): FieldValue<F> => {
    if (!ok(u)) throw new Error(`${path}: expected ${expected}, got ${show(u)}`)
    const problem = opts.check?.(u as FieldValue<F>)
    if (problem !== undefined) throw new Error(`${path} ${problem}`)
    return u as FieldValue<F>
  }
  const d = opts.default
  return {
    optional: d !== undefined,
    fromOption: read,
    fromJson: read,
    toJson: (v) => v as Json,
    ...(d === undefined ? {} : { absent: () => d }),
  }
}

/** Turns a decoder's `Either` into a value or a thrown `Error`. */
const orThrow = <A>(r: E.Either<string, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left)
  return r.right
}

/**
 * An activation field: the factory takes a name (`'relu'`) or an {@link Activation}; `build`
 * gets the activation; the config saves `activationToConfig` of it.
 *
 * @param defaultName - the activation when the option is left out (saved too, as Keras does)
 * @returns the field
 * @example
 * ```ts
 * import { activationField, defineLayer } from '@purenn/layers'
 * const act = defineLayer({
 *   kind: 'Act',
 *   config: { activation: activationField('linear') },
 *   build: ({ activation }) => ({ apply: (_p, _s, x) => activation.fn(x) }),
 * })
 * console.log(act({ activation: 'relu' }).config, act({}).config) // { activation: 'relu' } { activation: 'linear' }
 * ```
 * @category Custom layers
 */
export const activationField = (
  defaultName: ActivationName,
): Field<ActivationName | Activation, Activation, true> => ({
  optional: true,
  fromOption: (a) => getActivation(a),
  fromJson: (j, path) => orThrow(activationFromConfig(j, path)),
  toJson: activationToConfig,
  absent: () => getActivation(defaultName),
})

/**
 * An initializer field: the factory takes a name (`'heNormal'`) or an {@link Initializer};
 * `build` gets the initializer; the config saves its JSON.
 *
 * @param defaultName - the initializer when the option is left out (saved too)
 * @returns the field
 * @example
 * ```ts
 * import { initializerField } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const f = initializerField('zeros')
 * console.log(f.absent!().init(key(0), [2]).toString(), f.toJson(f.fromOption('ones', 'x'))) // tensor([0, 0]) ones
 * ```
 * @category Custom layers
 */
export const initializerField = (
  defaultName: InitializerName,
): Field<InitializerName | Initializer, Initializer, true> => ({
  optional: true,
  fromOption: (i) => getInitializer(i),
  fromJson: (j, path) => orThrow(initializerFromConfig(j, path)),
  toJson: initializerToConfig,
  absent: () => getInitializer(defaultName),
})

/**
 * A regularizer field (optional): `build` gets the {@link Regularizer} or `undefined`; the
 * config saves its JSON, or `null` when there is none (as Keras' `kernel_regularizer: None`).
 *
 * @returns the field
 * @example
 * ```ts
 * import { l2, regularizerField } from '@purenn/layers'
 * const f = regularizerField()
 * console.log(f.toJson(undefined), f.toJson(l2(0.01))) // null { name: 'l2', l2: 0.01 }
 * ```
 * @category Custom layers
 */
export const regularizerField = (): Field<Regularizer, Regularizer | undefined, true> => ({
  optional: true,
  fromOption: (r, path) => {
    if (r === null || typeof r !== 'object' || typeof r.penalty !== 'function')
      throw new Error(`${path}: expected a regularizer (l1, l2, l1l2), got ${show(r)}`)
    return r
  },
  fromJson: (j, path) => (j === null ? undefined : orThrow(regularizerFromConfig(j, path))),
  toJson: (r) => (r === undefined ? null : regularizerToConfig(r)),
  absent: () => undefined,
})

/**
 * A weight-constraint field (optional): the factory takes a name (`'nonNeg'`) or a
 * {@link Constraint}; `build` gets it or `undefined`; the config saves its JSON only when
 * there is one (so configs without constraints stay as they were).
 *
 * @returns the field
 * @example
 * ```ts
 * import { constraintField, maxNorm } from '@purenn/layers'
 * const f = constraintField()
 * console.log(f.toJson(undefined), f.toJson(f.fromOption(maxNorm(2), 'c'))) // undefined { name: 'maxNorm', maxValue: 2, axis: 0 }
 * ```
 * @category Custom layers
 */
export const constraintField = (): Field<ConstraintName | Constraint, Constraint | undefined, true> => ({
  optional: true,
  fromOption: (c) => getConstraint(c),
  fromJson: (j, path) => (j === null ? undefined : orThrow(constraintFromConfig(j, path))),
  toJson: (c) => (c === undefined ? undefined : constraintToConfig(c)),
  absent: () => undefined,
})

/**
 * A field whose default, when the option is left out, is computed from the fields before
 * it in the schema: Keras' pooling `strides`, which default to `poolSize`.
 *
 * @remarks
 * `derive` receives the values of the earlier fields as `build` would (a field's default
 * filled in, a `Field`'s value rather than its option), so list the fields it reads before
 * this one in the schema. The derived value is saved in the config like any default (Keras
 * saves `strides` even when it was left out), so a saved config never depends on the rule.
 * The field is optional whatever `f` is; a value that is given is read by `f` as usual.
 *
 * @param f - the field (its type, its checks, how it is saved)
 * @param derive - the default from the earlier fields' values
 * @returns the field, optional, with the derived default
 * @example
 * ```ts
 * import { defaultFrom, defineLayer, jsonField } from '@purenn/layers'
 * const window = defineLayer({
 *   kind: 'Window',
 *   config: {
 *     size: jsonField('integer', { default: 2 }),
 *     step: defaultFrom(jsonField('integer'), (c: { size: number }) => c.size),
 *   },
 *   build: () => ({ apply: (_p, _s, x) => x }),
 * })
 * console.log(window().config, window({ size: 3 }).config) // { size: 2, step: 2 } { size: 3, step: 3 }
 * console.log(window({ size: 3, step: 1 }).config) // { size: 3, step: 1 }
 * ```
 * @category Custom layers
 */
export const defaultFrom = <In, Val, Earlier extends EarlierValues>(
  f: Field<In, Val, boolean>,
  derive: (earlier: Earlier) => Val,
): Field<In, Val, true> => ({
  ...f,
  optional: true,
  // the earlier fields are checked and filled in by then: `Earlier` names some of them
  absentFrom: (earlier) => derive(earlier as Earlier),
})
