/**
 * purenn: one import for the whole framework. Each package is a namespace:
 * `tensor` (tensors, PRNG keys, autodiff, trees), `layers` (layers as init/apply pairs,
 * initializers, activations, regularizers, losses, metrics, models as values: summary,
 * weights, transfer learning, save/load), `data` (IDX files, Fashion-MNIST, in-memory
 * datasets) and `testing` (fast-check arbitraries, `checkGrads`, `checkLayer`,
 * `checkTransformation` for property tests of one's own code; needs `fast-check`).
 *
 * @example
 * ```ts
 * import { tensor as T } from 'purenn'
 * console.log(T.add(T.tensor([1, 2]), 1).toString()) // tensor([2, 3])
 * ```
 * @example
 * ```ts
 * import { layers as L, tensor as T } from 'purenn'
 * const model = L.initModel(L.dense({ units: 10 }), { key: T.key(0), inputShape: [784] })
 * console.log(L.countParams(model).total) // 7850
 * ```
 * @example
 * ```ts
 * import { tensor as T, testing } from 'purenn'
 * console.log(testing.checkGrads(T.exp, [T.tensor([0, 1])]).checked) // 2
 * ```
 * @packageDocumentation
 */

export * as data from '@purenn/data'
export * as layers from '@purenn/layers'
export * as optim from '@purenn/optim'
export * as tensor from '@purenn/tensor'
export * as testing from '@purenn/testing'
export * as train from '@purenn/train'
