import {
  add,
  mean,
  mul,
  ones,
  reshape,
  rsqrt,
  ShapeError,
  square,
  sub,
  type Tensor,
  zeros,
} from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { jsonField } from './fields.js'
import { axisField } from './internal/axisField.js'
import type { Empty, NameOption } from './layer.js'

/**
 * Options of {@link layerNormalization}, named as Keras' `LayerNormalization` arguments.
 * @category Layers
 */
export interface LayerNormalizationOptions extends NameOption {
  /**
   * The axis, or axes, normalized over (counted with the batch axis, as Keras): one mean and
   * variance per sample over these axes, and one gamma and beta per position along them.
   * Default −1.
   */
  readonly axis?: number | readonly number[]
  /** Added to the variance before the square root. Default 1e-3. */
  readonly epsilon?: number
  /** Whether to learn an offset `beta`. Default true. */
  readonly center?: boolean
  /** Whether to learn a scale `gamma`. Default true. */
  readonly scale?: boolean
}

const schema = {
  axis: axisField(),
  epsilon: jsonField('number', { default: 1e-3 }),
  center: jsonField('boolean', { default: true }),
  scale: jsonField('boolean', { default: true }),
} as const

/**
 * Params of a layer-normalization layer: `gamma` (with `scale`) and `beta` (with `center`),
 * of the shape of the normalized axes.
 * @category Layers
 */
export type LayerNormalizationParams = { readonly gamma?: Tensor; readonly beta?: Tensor }

/**
 * Layer normalization (Keras' `LayerNormalization`): standardizes each sample over `axis`,
 * then scales by `gamma` and shifts by `beta`. The same in training and inference.
 *
 * @remarks
 * Ba, Kiros & Hinton (2016), "Layer Normalization". Per sample, over the axes in `axis`:
 * `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased), `y = gamma·(x − μ)/sqrt(σ² + ε) + beta`.
 * Unlike batch normalization there are no moving statistics and no state: the statistics
 * never mix samples. Params `gamma` (ones) and `beta` (zeros) of shape
 * `[input_shape[a] for a in axis]`, as Keras; parameter count 2 per position. Built from
 * primitive ops, so its gradient (and second derivative) comes from the tape.
 *
 * @param opts - `{ axis = -1, epsilon = 1e-3, center = true, scale = true, name? }`
 * @returns the layer
 * @throws Error when `epsilon` is negative or an axis is not an integer; ShapeError at
 * `init` when an axis is the batch axis or out of range.
 * @example
 * ```ts
 * import { layerNormalization } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = layerNormalization({ epsilon: 0 })
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, tensor([[1, 3], [10, 30]]), { training: false }).y.toString()) // tensor([[-1, 1], [-1, 1]])
 * ```
 * @category Layers
 */
export const layerNormalization: DefinedLayer<
  'LayerNormalization',
  typeof schema,
  LayerNormalizationParams,
  Empty
> = defineLayer({
  kind: 'LayerNormalization',
  fn: 'layerNormalization',
  config: schema,
  build: ({ axis, epsilon, center, scale }) => {
    const problem = checkOptions(axis, epsilon)
    if (problem !== undefined) throw new Error(problem)
    return {
      init: (_key, inputShape) => {
        const axes = normAxes(axis, inputShape.length + 1)
        const shape = axes.map((a) => inputShape[a - 1]!)
        return {
          params: { ...(scale ? { gamma: ones(shape) } : {}), ...(center ? { beta: zeros(shape) } : {}) },
          state: {},
          outputShape: inputShape,
        }
      },
      apply: (params, _state, x) => {
        const axes = normAxes(axis, x.shape.length)
        const bShape = x.shape.map((d, i) => (i === 0 || !axes.includes(i) ? 1 : d))
        const mu = mean(x, axes, true)
        const d = sub(x, mu)
        let y = mul(d, rsqrt(add(mean(square(d), axes, true), epsilon)))
        if (params.gamma !== undefined) y = mul(y, reshape(params.gamma, bShape))
        if (params.beta !== undefined) y = add(y, reshape(params.beta, bShape))
        return y
      },
    }
  },
})

// ---------------------------------------------------------------------------------------
// helpers

const checkOptions = (axis: number | readonly number[], epsilon: number): string | undefined => {
  const list = typeof axis === 'number' ? [axis] : axis
  if (list.length === 0) return 'axis must name at least one axis, got []'
  if (!list.every(Number.isInteger))
    return `axis must be an integer or a list of integers, got ${JSON.stringify(axis)}`
  if (!(epsilon >= 0 && Number.isFinite(epsilon)))
    return `epsilon must be a finite number ≥ 0, got ${epsilon}`
  return undefined
}

/** The normalized axes against `rank` (batch axis included), sorted; throws on a bad one. */
const normAxes = (axis: number | readonly number[], rank: number): number[] => {
  const list = typeof axis === 'number' ? [axis] : axis
  const out = list.map((a) => {
    if (a < -rank || a >= rank)
      throw new ShapeError(
        `layerNormalization: axis ${a} is out of range for an input of rank ${rank} (batch axis included)`,
      )
    const n = a < 0 ? a + rank : a
    if (n === 0)
      throw new ShapeError(`layerNormalization: axis ${a} is the batch axis; normalize over feature axes`)
    return n
  })
  const sorted = [...new Set(out)].sort((p, q) => p - q)
  if (sorted.length !== out.length)
    throw new ShapeError(`layerNormalization: repeated axis in ${JSON.stringify(axis)}`)
  return sorted
}
