import { adagrad, adam, adamax, adamw, nadam, rmsprop, sgd } from './alias.js'
import type { GradientTransformation } from './transform.js'

/**
 * The optimizers {@link getOptimizer} knows by name, as Keras' `optimizer='adam'` strings.
 * @example
 * ```ts
 * import { type OptimizerName, optimizerNames } from '@purenn/optim'
 * const name: OptimizerName = 'nadam'
 * console.log(optimizerNames.includes(name)) // true
 * ```
 * @category Optimizers
 */
export type OptimizerName = 'sgd' | 'rmsprop' | 'adam' | 'adamw' | 'nadam' | 'adagrad' | 'adamax'

const byName: { readonly [N in OptimizerName]: () => GradientTransformation<unknown> } = {
  sgd: () => sgd() as GradientTransformation<unknown>,
  rmsprop: () => rmsprop() as GradientTransformation<unknown>,
  adam: () => adam() as GradientTransformation<unknown>,
  adamw: () => adamw() as GradientTransformation<unknown>,
  nadam: () => nadam() as GradientTransformation<unknown>,
  adagrad: () => adagrad() as GradientTransformation<unknown>,
  adamax: () => adamax() as GradientTransformation<unknown>,
}

/**
 * The names {@link getOptimizer} accepts, in a constant list.
 * @example
 * ```ts
 * import { optimizerNames } from '@purenn/optim'
 * console.log(optimizerNames.join(' ')) // sgd rmsprop adam adamw nadam adagrad adamax
 * ```
 * @category Optimizers
 */
export const optimizerNames: readonly OptimizerName[] = Object.freeze(Object.keys(byName) as OptimizerName[])

/**
 * An optimizer by name with Keras' defaults (`'adam'` is `adam()`: learning rate 0.001, ...),
 * as Keras' `model.compile(optimizer='adam')`; a transformation is returned as is.
 *
 * @remarks
 * Names are Keras' lower-case strings. To set an option, call the function instead
 * (`adam({ learningRate: 0.01 })`). `fit` accepts a name for its `optimizer` option.
 *
 * @param o - a name or a {@link GradientTransformation}
 * @returns the optimizer
 * @throws Error when a string names no optimizer (possible only from untyped code), listing the names
 * @example
 * ```ts
 * import { applyUpdates, getOptimizer } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = getOptimizer('sgd')
 * const params = { w: tensor([1]) }
 * const { updates } = tx.update({ w: tensor([10]) }, tx.init(params), params)
 * console.log(applyUpdates(params, updates).w.toString()) // tensor([0.9])
 * ```
 * @category Optimizers
 */
export const getOptimizer = <S = unknown>(
  o: OptimizerName | GradientTransformation<S>,
): GradientTransformation<S> | GradientTransformation<unknown> => {
  if (typeof o !== 'string') return o
  const build = Object.hasOwn(byName, o) ? byName[o] : undefined
  if (build === undefined)
    throw new Error(
      `getOptimizer: unknown optimizer '${String(o)}', expected one of ${optimizerNames.join(', ')}`,
    )
  return build()
}
