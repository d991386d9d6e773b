import {
  div,
  maximum,
  mean as meanOp,
  ShapeError,
  sqrt,
  sub,
  type Tensor,
  tensor,
  variance as varianceOp,
} from '@purenn/tensor'
import { type DefinedLayer, defineLayer, type Field } from './define.js'
import { field, jsonField } from './fields.js'
import { checkOptions } from './internal/config.js'
import { type Empty, empty, type Layer, type NameOption } from './layer.js'

/**
 * Options of {@link normalization}, as Keras' `Normalization`.
 * @category Layers
 */
export interface NormalizationOptions extends NameOption {
  /** The feature axis, counted without the batch axis' offset as Keras: −1 (the last). Default −1. */
  readonly axis?: number
  /** The mean of each feature, as {@link adaptNormalization} computes it. */
  readonly mean: readonly number[]
  /** The variance of each feature (population variance, ddof 0). */
  readonly variance: readonly number[]
}

/**
 * The state of a normalization layer: the mean and variance it standardizes with (not
 * trained, saved with the weights).
 * @category Layers
 */
export type NormalizationState = { readonly mean: Tensor; readonly variance: Tensor }

/** Keras' `backend.epsilon()`: the smallest standard deviation divided by. */
const EPSILON = 1e-7

/** Per-feature statistics: a non-empty array of finite numbers (non-negative for a variance), copied. */
const statistics = (nonNegative: boolean): Field<readonly number[], readonly number[], false> => {
  const read = (u: unknown, path: string): readonly number[] => {
    if (!Array.isArray(u) || u.length === 0 || !u.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new Error(`${path} must be a non-empty array of finite numbers`)
    const neg = nonNegative ? u.findIndex((v) => v < 0) : -1
    if (neg >= 0) throw new Error(`${path}[${neg}] = ${u[neg]} is negative`)
    return [...u]
  }
  return field({ optional: false, fromOption: read, fromJson: read, toJson: (v) => v })
}

const normalizationSchema = {
  axis: jsonField('integer', { default: -1 }),
  mean: statistics(false),
  variance: statistics(true),
} as const

/**
 * Feature-wise standardization (Keras' `Normalization`): $y = (x - \mathrm{mean}) / \max(\sqrt{\mathrm{variance}}, \varepsilon)$
 * per feature, $\varepsilon = 10^{-7}$.
 *
 * @remarks
 * The chapter standardizes the inputs of a SELU network and Keras does it with a
 * `Normalization` layer adapted to the training set. Here adapting is a function of the data,
 * {@link adaptNormalization}, that returns the layer with the statistics in its config; the
 * layer keeps them in its state (non-trainable, saved with the weights). No params.
 *
 * @param opts - `{ mean, variance, axis?, name? }`
 * @returns the layer
 * @throws Error when `mean` and `variance` differ in length, a variance is negative, or the
 * input's feature axis has another size (at `init`)
 * @example
 * ```ts
 * import { normalization } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = normalization({ mean: [1, 10], variance: [4, 100] })
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, tensor([[3, 0]]), { training: false }).y.toString()) // tensor([[1, -1]])
 * ```
 * @category Layers
 */
export const normalization: DefinedLayer<
  'Normalization',
  typeof normalizationSchema,
  Empty,
  NormalizationState
> = defineLayer({
  kind: 'Normalization',
  fn: 'normalization',
  config: normalizationSchema,
  build: ({ axis, mean: m, variance: v }) => {
    if (m.length !== v.length) throw new Error(`mean has ${m.length} values but variance has ${v.length}`)
    return {
      init: (_key, inputShape) => {
        const a = axis < 0 ? inputShape.length + axis : axis
        if (a < 0 || a >= inputShape.length)
          throw new ShapeError(
            `normalization: axis ${axis} is outside the input of shape (None, ${inputShape.join(', ')})`,
          )
        if (inputShape[a] !== m.length)
          throw new ShapeError(
            `normalization: the input has ${inputShape[a]} features on axis ${axis}, the statistics ${m.length}`,
          )
        const shape = inputShape.map((d, i) => (i === a ? d : 1))
        return {
          params: empty,
          state: { mean: tensor(m, shape), variance: tensor(v, shape) },
          outputShape: inputShape,
        }
      },
      apply: (_params, state: NormalizationState, x) =>
        div(sub(x, state.mean), maximum(sqrt(state.variance), EPSILON)),
    }
  },
})

// the options a `normalization` takes are the schema's
const _options: (o: NormalizationOptions) => unknown = normalization

/**
 * Options of {@link adaptNormalization}.
 * @category Layers
 */
export interface AdaptNormalizationOptions extends NameOption {
  /** The feature axis of `x` without its batch axis (−1: the last). Default −1. */
  readonly axis?: number
}

/**
 * A {@link normalization} layer adapted to data: the mean and (population) variance of each
 * feature of `x` over every other axis, as Keras' `Normalization.adapt(x)`.
 *
 * @param x - the data, batch axis first (e.g. the training inputs)
 * @param opts - `{ axis?, name? }`
 * @returns the layer, its statistics in its config
 * @example
 * ```ts
 * import { adaptNormalization } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const x = tensor([[1, 10], [3, 30]])
 * const layer = adaptNormalization(x)
 * console.log(layer.config.mean, layer.config.variance) // [ 2, 20 ] [ 1, 100 ]
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, x, { training: false }).y.toString()) // tensor([[-1, -1], [1, 1]])
 * ```
 * @category Layers
 */
export const adaptNormalization = (
  x: Tensor,
  opts: AdaptNormalizationOptions = {},
): Layer<Empty, NormalizationState> => {
  checkOptions('adaptNormalization', opts, ['axis', 'name'])
  const axis = opts.axis ?? -1
  const rank = x.shape.length
  if (rank < 2)
    throw new ShapeError(
      `adaptNormalization: x needs a batch axis and a feature axis, got shape [${x.shape.join(', ')}]`,
    )
  const a = axis < 0 ? rank + axis : axis + 1
  if (a < 1 || a >= rank)
    throw new ShapeError(
      `adaptNormalization: axis ${axis} is outside the features of shape [${x.shape.join(', ')}]`,
    )
  const others = x.shape.map((_, i) => i).filter((i) => i !== a)
  const m = meanOp(x, others)
  const v = varianceOp(x, others)
  return normalization({
    axis,
    mean: Array.from(m.data),
    variance: Array.from(v.data),
    ...(opts.name === undefined ? {} : { name: opts.name }),
  })
}
