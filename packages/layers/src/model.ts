import { type Key, type Tensor, type Tree, type TreeOf, tree } from '@purenn/tensor'
import { isSequentialLayer, trainableFlags } from './internal/walk.js'
import type { AnyLayer, Applied, Layer, Shape } from './layer.js'
import type { Sequential } from './sequential.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * The params type of a layer type: `DenseParams` for a dense layer, `Children` (a record of
 * the children's params by name) for a sequential.
 *
 * @example
 * ```ts
 * import { dense, type ParamsOf } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const layer = dense({ units: 2 })
 * const params: ParamsOf<typeof layer> = layer.init(key(0), [3]).params
 * console.log(params.kernel.shape) // [ 3, 2 ]
 * ```
 * @category Models
 */
export type ParamsOf<L extends AnyLayer> = L extends Layer<infer P, infer _S> ? P : Tree

/**
 * The state type of a layer type (batch-norm moving statistics; empty trees elsewhere).
 *
 * @example
 * ```ts
 * import { batchNormalization, type StateOf } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const layer = batchNormalization()
 * const state: StateOf<typeof layer> = layer.init(key(0), [3]).state
 * console.log(state.movingVariance.toString()) // tensor([1, 1, 1])
 * ```
 * @category Models
 */
export type StateOf<L extends AnyLayer> = L extends Layer<infer _P, infer S> ? S : Tree

/**
 * A model as a value: an architecture (usually a {@link sequential}), its params and state,
 * which params are trainable, and the shape of one input.
 *
 * @remarks
 * Nothing here is mutable: training returns a new `Model`, and functions that derive a model
 * from another ({@link popLayer}, {@link append}, {@link freeze}, {@link setWeights}, ...)
 * return new values that may share tensors with the old one, which is safe because tensors
 * are immutable too. So "model B reuses model A's layers" can never change A, unlike Keras
 * where layers are objects holding mutable variables.
 *
 * - `params`: trainable values (kernels, biases, gamma, beta), keyed by layer name.
 * - `state`: non-trainable values (batch-norm moving statistics), same keys.
 * - `trainable`: a tree of booleans with the structure of `params`; `false` leaves are
 *   frozen (`freeze`), and the optimizer leaves them unchanged (Optax's `masked`).
 * - `inputShape`: one input's shape without the batch axis (Keras' `input_shape`).
 *
 * @typeParam L - the architecture's type
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
 * console.log(Object.keys(model.params), model.trainable) // [ 'dense' ] { dense: { kernel: true, bias: true } }
 * ```
 * @category Models
 */
export interface Model<L extends AnyLayer = AnyLayer> {
  /** The architecture: a pure `init`/`apply` pair plus its JSON config. */
  readonly layer: L
  /** Trainable values, a tree keyed by layer name. */
  readonly params: ParamsOf<L>
  /** Non-trainable values (moving statistics), same keys as `params`. */
  readonly state: StateOf<L>
  /** One boolean per tensor of `params`: false for frozen weights. */
  readonly trainable: TreeOf<boolean>
  /** Shape of one input, without the batch axis. */
  readonly inputShape: Shape
}

/**
 * Options of {@link initModel}.
 *
 * @example
 * ```ts
 * import { dense, type InitModelOptions, initModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const opts: InitModelOptions = { key: key(0), inputShape: [4] }
 * console.log(initModel(dense({ units: 1 }), opts).inputShape) // [ 4 ]
 * ```
 * @category Models
 */
export interface InitModelOptions {
  /** The PRNG key the initial weights are drawn from: same key, same weights. */
  readonly key: Key
  /**
   * Shape of one input without the batch axis. Defaults to the shape declared with
   * `sequential(layers, { inputShape })`; required for any other layer.
   */
  readonly inputShape?: Shape
}

/**
 * Options of {@link applyModel}.
 *
 * @example
 * ```ts
 * import { type ApplyModelOptions } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const mcInference: ApplyModelOptions = { training: false, dropout: true, key: key(1) }
 * console.log(mcInference.dropout) // true
 * ```
 * @category Models
 */
export interface ApplyModelOptions {
  /** Training mode (batch statistics, dropout on). Default false, as `predict`. */
  readonly training?: boolean
  /** PRNG key for dropout layers; needed when units are dropped. */
  readonly key?: Key
  /** Whether dropout layers drop units; defaults to `training` (see `ApplyOptions`). */
  readonly dropout?: boolean
}

/**
 * Parameter counts, as the footer of Keras' `model.summary()`.
 *
 * @example
 * ```ts
 * import { countParams, dense, initModel, type ParamCount } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const c: ParamCount = countParams(initModel(dense({ units: 300 }), { key: key(0), inputShape: [784] }))
 * console.log(c.total, c.trainable, c.nonTrainable) // 235500 235500 0
 * ```
 * @category Models
 */
export interface ParamCount {
  /** All scalars of params and state. */
  readonly total: number
  /** Scalars of the params whose mask is true. */
  readonly trainable: number
  /** The others: state (moving statistics) plus frozen params. */
  readonly nonTrainable: number
}

// ---------------------------------------------------------------------------------------
// Constructors

/**
 * Creates a model: draws the architecture's initial params and state from `key`, and marks
 * every param trainable.
 *
 * @remarks
 * The input shape comes from `opts.inputShape` or from the sequential's declared one (Keras
 * builds a model when it knows its input shape; here that happens once, explicitly).
 *
 * @param layer - the architecture
 * @param opts - `{ key, inputShape? }`
 * @returns the new model
 * @throws Error when no input shape is known, or when it differs from the declared one.
 * @example
 * ```ts
 * import { dense, flatten, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const arch = sequential([flatten(), dense({ units: 10, activation: 'softmax' })], { inputShape: [28, 28] })
 * const model = initModel(arch, { key: key(42) })
 * console.log(model.inputShape, model.params.dense.kernel.shape) // [ 28, 28 ] [ 784, 10 ]
 * ```
 * @category Models
 */
export const initModel = <L extends AnyLayer>(layer: L, opts: InitModelOptions): Model<L> => {
  const declared = isSequentialLayer(layer) ? layer.inputShape : undefined
  const inputShape = opts.inputShape ?? declared
  if (inputShape === undefined)
    throw new Error(
      `initModel: no input shape for this ${layer.kind}: pass { inputShape } or declare it with sequential(layers, { inputShape })`,
    )
  if (declared !== undefined && opts.inputShape !== undefined && declared.join(',') !== inputShape.join(','))
    throw new Error(
      `initModel: inputShape [${inputShape.join(',')}] differs from the sequential's declared input shape [${declared.join(',')}]`,
    )
  const { params, state } = layer.init(opts.key, inputShape)
  return {
    layer,
    params,
    state,
    trainable: tree.map(params as Tree, () => true),
    inputShape: [...inputShape],
  }
}

// ---------------------------------------------------------------------------------------
// Combinators

/**
 * Runs a model on a batch: `layer.apply` with the model's params, state and trainable mask.
 *
 * @remarks
 * Inference by default (`training: false`): batch norm uses its moving statistics and
 * dropout is off, as Keras' `predict`. With `training: true`, batch norm uses batch
 * statistics and returns updated moving statistics in `state` (put them back with
 * `{ ...model, state }`); frozen batch-norm layers stay in inference mode.
 *
 * @param model - the model
 * @param x - a batch, batch axis first
 * @param opts - `{ training?, key?, dropout? }`
 * @returns the output `y` and the new `state`
 * @example
 * ```ts
 * import { applyModel, dense, initModel } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const model = initModel(dense({ units: 2, kernelInitializer: 'ones' }), { key: key(0), inputShape: [3] })
 * console.log(applyModel(model, ones([1, 3])).y.toString()) // tensor([[3, 3]])
 * ```
 * @category Models
 */
export const applyModel = <L extends AnyLayer>(
  model: Model<L>,
  x: Tensor,
  opts: ApplyModelOptions = {},
): Applied<StateOf<L>> =>
  model.layer.apply(model.params, model.state, x, {
    training: opts.training ?? false,
    trainable: model.trainable,
    ...(opts.key === undefined ? {} : { key: opts.key }),
    ...(opts.dropout === undefined ? {} : { dropout: opts.dropout }),
  })

/**
 * Counts a model's parameters as Keras does: all scalars, trainable ones, and the others.
 *
 * @remarks
 * `total = Σ size(params) + Σ size(state)`; `trainable` counts the params whose mask is true;
 * `nonTrainable = total − trainable` (moving statistics plus frozen params). For the
 * chapter's batch-norm model: 271,346 = 268,978 + 2,368.
 *
 * @param model - the model
 * @returns `{ total, trainable, nonTrainable }`
 * @example
 * ```ts
 * import { batchNormalization, countParams, dense, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([batchNormalization(), dense({ units: 10 })], { inputShape: [784] }), { key: key(0) })
 * console.log(countParams(model)) // { total: 10986, trainable: 9418, nonTrainable: 1568 }
 * ```
 * @category Models
 */
export const countParams = (model: Model): ParamCount => {
  const stateCount = tree.count(model.state)
  const params = tree.leaves(model.params)
  const flags = trainableFlags(model.params, model.trainable)
  const all = params.reduce((s, t) => s + t.size, 0)
  const trainable = params.reduce((s, t, i) => s + (flags[i] ? t.size : 0), 0)
  return { total: all + stateCount, trainable, nonTrainable: all + stateCount - trainable }
}

/**
 * Whether a model's architecture is a {@link sequential}, whose children can be listed,
 * sliced and extended.
 *
 * @param layer - any layer
 * @returns true for layers made by `sequential` (and rebuilt from a `Sequential` config)
 * @example
 * ```ts
 * import { dense, isSequential, sequential } from '@purenn/layers'
 * console.log(isSequential(sequential([dense({ units: 1 })])), isSequential(dense({ units: 1 }))) // true false
 * ```
 * @category Models
 */
export const isSequential = (layer: AnyLayer): layer is Sequential => isSequentialLayer(layer)
