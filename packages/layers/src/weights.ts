import type { Tensor } from '@purenn/tensor'
import { mapWeights, weightEntries } from './internal/walk.js'
import type { AnyLayer } from './layer.js'
import type { Model } from './model.js'

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`

/**
 * The model's weights as a flat list, in Keras' `get_weights()` order.
 *
 * @remarks
 * Layer by layer (into nested sequentials), params then state: a dense layer gives kernel
 * then bias; a batch-normalization layer gamma, beta, moving mean, moving variance; layers
 * without weights give nothing. The list holds the model's own (immutable) tensors: nothing
 * is copied, and nothing needs to be.
 *
 * @param model - the model
 * @returns the tensors, Keras order
 * @example
 * ```ts
 * import { batchNormalization, dense, getWeights, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 3 }), batchNormalization()], { inputShape: [2] }), { key: key(0) })
 * console.log(getWeights(model).map((w) => w.shape)) // [ [ 2, 3 ], [ 3 ], [ 3 ], [ 3 ], [ 3 ], [ 3 ] ]
 * ```
 * @category Models
 */
export const getWeights = (model: Model): Tensor[] =>
  weightEntries(model.layer, model.params, model.state).map((e) => e.tensor)

/**
 * The names of the model's weights, in {@link getWeights} order: `dense.kernel`,
 * `dense.bias`, `batch_normalization.gamma`, ..., `batch_normalization.movingVariance`.
 *
 * @param model - the model
 * @returns one dotted name per weight (layer name, then the weight's path in its tree)
 * @example
 * ```ts
 * import { dense, initModel, sequential, weightNames } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 3 }), dense({ units: 1 })], { inputShape: [2] }), { key: key(0) })
 * console.log(weightNames(model)) // [ 'dense.kernel', 'dense.bias', 'dense_1.kernel', 'dense_1.bias' ]
 * ```
 * @category Models
 */
export const weightNames = (model: Model): string[] =>
  weightEntries(model.layer, model.params, model.state).map((e) => e.name)

/**
 * A new model whose weights are `weights`, given in {@link getWeights} order (Keras'
 * `set_weights`, without mutation: the original model is unchanged).
 *
 * @remarks
 * Each tensor must have exactly the shape of the weight it replaces; the trainable mask,
 * architecture and input shape are kept. Use it to copy weights between two models of the
 * same architecture: `setWeights(b, getWeights(a))`.
 *
 * @param model - the model whose architecture receives the weights
 * @param weights - one tensor per weight, Keras order
 * @returns the new model
 * @throws Error naming the layer and weight on a shape mismatch
 *   (`setWeights: dense_1.kernel expects [300,100], got [100,300]`), or when the count differs.
 * @example
 * ```ts
 * import { dense, getWeights, initModel, setWeights } from '@purenn/layers'
 * import { key, ones, zeros } from '@purenn/tensor'
 * const model = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
 * const updated = setWeights(model, [ones([3, 2]), zeros([2])])
 * console.log(getWeights(updated)[0]!.toString(), getWeights(model)[0] === model.params.kernel) // tensor([[1, 1], [1, 1], [1, 1]]) true
 * ```
 * @category Models
 */
export const setWeights = <L extends AnyLayer>(model: Model<L>, weights: readonly Tensor[]): Model<L> => {
  const entries = weightEntries(model.layer, model.params, model.state)
  if (entries.length !== weights.length)
    throw new Error(
      `setWeights: the model has ${entries.length} weights (${entries.map((e) => e.name).join(', ')}), got ${weights.length}`,
    )
  entries.forEach((e, i) => {
    const w = weights[i]!
    if (w.shape.length !== e.tensor.shape.length || w.shape.some((d, j) => d !== e.tensor.shape[j]))
      throw new Error(`setWeights: ${e.name} expects ${fmt(e.tensor.shape)}, got ${fmt(w.shape)}`)
  })
  let i = 0
  const { params, state } = mapWeights(model.layer, model.params, model.state, () => weights[i++]!)
  return { ...model, params: params as Model<L>['params'], state: state as Model<L>['state'] }
}
