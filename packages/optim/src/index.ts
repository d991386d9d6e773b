/**
 * Optimizers as composable gradient transformations, Optax style, with Keras' numbers.
 *
 * @remarks
 * A {@link GradientTransformation} is a pair of pure functions, `init(params)` and
 * `update(grads, state, params)`; an optimizer is a {@link chain} of them, for example
 * `adam({ clipNorm: 1 })` is `chain(clipGradients({ clipNorm: 1 }), scaleByAdam(),
 * scaleByLearningRate(0.001))`. Freezing is {@link masked}. Learning rates may be
 * {@link Schedule}s. The optimizers (`sgd`, `rmsprop`, `adam`, `adamw`, `nadam`, `adagrad`)
 * take Keras' options with Keras' defaults and compute Keras' formulas. Each of them also
 * has its whole step as one pass per parameter, `applyStep`, bitwise the same as `update`
 * then {@link applyUpdates}; {@link updateAndApply} takes it where there is one.
 *
 * @packageDocumentation
 */

export * from './adam.js'
export * from './adamax.js'
export * from './alias.js'
export * from './clip.js'
export * from './decay.js'
export * from './fused.js'
export * from './mask.js'
export * from './momentum.js'
export * from './named.js'
export * from './rms.js'
export * from './scale.js'
export * from './schedules.js'
export * from './slots.js'
export * from './transform.js'
