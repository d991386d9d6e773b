import {
  add,
  greaterEqual,
  type Key,
  minimum,
  mul,
  relu,
  ShapeError,
  type Tensor,
  uniform,
  where,
} from '@purenn/tensor'
import { type Constraint, type ConstraintName, constraintToConfig } from './constraints.js'
import { type DefinedLayer, defineLayer } from './define.js'
import { constraintField, field, initializerField, jsonField, regularizerField } from './fields.js'
import type { Initializer, InitializerName } from './initializers.js'
import { constrainOf, penaltyOf } from './internal/fields.js'
import { type Empty, empty, type NameOption } from './layer.js'
import type { Regularizer } from './regularizers.js'

// ---------------------------------------------------------------------------------------
// PReLU

/**
 * Options of {@link prelu}, named as Keras' `PReLU` arguments in camelCase.
 * @category Layers
 */
export interface PReluOptions extends NameOption {
  /** Initializer of the slopes. Default `'zeros'` (Keras): the layer starts as a ReLU. */
  readonly alphaInitializer?: InitializerName | Initializer
  /** Penalty on the slopes added to the loss. */
  readonly alphaRegularizer?: Regularizer
  /** Projection of the slopes after each optimizer update (e.g. `'nonNeg'`). */
  readonly alphaConstraint?: ConstraintName | Constraint
  /**
   * Axes along which one slope is shared, counted as Keras does with the batch axis as 0:
   * for images `[h, w, c]`, `sharedAxes: [1, 2]` gives one slope per channel. Default none:
   * one slope per input element (per unit after a dense layer).
   */
  readonly sharedAxes?: readonly number[]
}

/**
 * Params of a PReLU layer: the learned negative slopes `alpha`.
 * @category Layers
 */
export type PReluParams = { readonly alpha: Tensor }

const readSharedAxes = (u: unknown, path: string): readonly number[] => {
  if (!Array.isArray(u) || !u.every((a) => Number.isInteger(a) && a >= 1))
    throw new Error(`${path} must be an array of axes ≥ 1 (the batch axis is 0), got ${JSON.stringify(u)}`)
  return u
}

const preluSchema = {
  alphaInitializer: initializerField('zeros'),
  alphaRegularizer: regularizerField(),
  // saved as null when there is none, as Keras' `alpha_constraint: None`
  alphaConstraint: {
    ...constraintField(),
    toJson: (c: Constraint | undefined) => (c === undefined ? null : constraintToConfig(c)),
  },
  sharedAxes: field({
    optional: true,
    fromOption: (axes: readonly number[], path: string) => readSharedAxes(axes, path),
    // null (Keras' `shared_axes: None`) is no shared axis
    fromJson: (j, path) => (j === null ? [] : readSharedAxes(j, path)),
    toJson: (axes: readonly number[]) => [...axes],
    absent: (): readonly number[] => [],
  }),
} as const

// the options prelu takes are the schema's
const _preluOptions: (o: PReluOptions) => unknown = (o) => prelu(o)

/**
 * Parametric ReLU (Keras' `PReLU`): $f(x) = x$ for $x \ge 0$, $\alpha x$ otherwise, with the slope
 * $\alpha$ learned per unit (or per channel with `sharedAxes`).
 *
 * @remarks
 * $f(x) = \max(0, x) + \alpha \min(0, x)$; $\partial f / \partial x = 1$ for $x > 0$, $\alpha$ for $x < 0$;
 * $\partial f / \partial \alpha = \min(0, x)$, summed over the batch and the shared axes. He et al. (2015),
 * "Delving Deep into Rectifiers", where PReLU and He initialization were introduced
 * together. The slopes have shape `inputShape` with the shared axes set to 1; they start at
 * `alphaInitializer` (zeros, as Keras: a plain ReLU). Pair with He initialization.
 *
 * @param opts - see {@link PReluOptions}
 * @returns the layer
 * @throws Error on an unknown option, or (at `init`) a shared axis outside `1..rank`
 * @example
 * ```ts
 * import { initializers, prelu } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = prelu({ alphaInitializer: initializers.constant(0.25) })
 * const { params, state } = layer.init(key(0), [2])
 * console.log(params.alpha.shape, layer.apply(params, state, tensor([[-4, 2]]), { training: false }).y.toString()) // [ 2 ] tensor([[-1, 2]])
 * ```
 * @category Layers
 */
export const prelu: DefinedLayer<'PReLU', typeof preluSchema, PReluParams, Empty> = defineLayer({
  kind: 'PReLU',
  fn: 'prelu',
  config: preluSchema,
  build: ({ alphaInitializer, alphaRegularizer, alphaConstraint, sharedAxes }) => ({
    init: (key, inputShape) => {
      const bad = sharedAxes.find((a) => a > inputShape.length)
      if (bad !== undefined)
        throw new ShapeError(
          `prelu: shared axis ${bad} is outside the input of shape (None, ${inputShape.join(', ')})`,
        )
      const shape = inputShape.map((d, i) => (sharedAxes.includes(i + 1) ? 1 : d))
      return { params: { alpha: alphaInitializer.init(key, shape) }, state: empty, outputShape: inputShape }
    },
    apply: ({ alpha }: PReluParams, _state, x) => add(relu(x), mul(alpha, minimum(x, 0))),
    ...penaltyOf<PReluParams>({ alpha: alphaRegularizer }),
    ...constrainOf<PReluParams>({ alpha: alphaConstraint }),
  }),
})

// ---------------------------------------------------------------------------------------
// RReLU

/**
 * Options of {@link rrelu}.
 * @category Layers
 */
export interface RReluOptions extends NameOption {
  /** The smallest random slope. Default 1/8, as PyTorch's `RReLU` and Xu et al. (2015). */
  readonly lower?: number
  /** The largest random slope. Default 1/3. */
  readonly upper?: number
}

const rreluSchema = {
  lower: jsonField('number', { default: 1 / 8 }),
  upper: jsonField('number', { default: 1 / 3 }),
} as const

// the options rrelu takes are the schema's
const _rreluOptions: (o: RReluOptions) => unknown = (o) => rrelu(o)

/**
 * Randomized leaky ReLU: $f(x) = x$ for $x \ge 0$, $a x$ otherwise, where in training `a` is
 * drawn per element from `U(lower, upper)` with the call's key, and at inference `a` is the
 * mean slope `(lower + upper)/2`.
 *
 * @remarks
 * Xu, Wang, Chen & Li (2015), "Empirical Evaluation of Rectified Activations in Convolutional
 * Networks", where RReLU beat ReLU, leaky ReLU and PReLU on small data sets (the random slope
 * acts as a regularizer). Keras has no RReLU layer; the defaults (1/8, 1/3) and the
 * inference rule are PyTorch's `nn.RReLU`. The slopes are drawn with
 * `uniform(key, x.shape, { minval: lower, maxval: upper })`, so the same key gives the same
 * slopes. Gradient: 1 for `x ≥ 0`, `a` otherwise. No params.
 *
 * @param opts - `{ lower, upper, name? }`
 * @returns the layer
 * @throws Error when `0 ≤ lower ≤ upper` fails or on an unknown option; at apply time, when
 * training without a `key`
 * @example
 * ```ts
 * import { rrelu } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = rrelu({ lower: 0.1, upper: 0.3 })
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, tensor([[-1, 2]]), { training: false }).y.toString()) // tensor([[-0.2, 2]])
 * const y = layer.apply(params, state, tensor([[-1, 2]]), { training: true, key: key(1) }).y
 * console.log(y.data[0]! <= -0.1 && y.data[0]! >= -0.3, y.data[1]) // true 2
 * ```
 * @category Layers
 */
export const rrelu: DefinedLayer<'RReLU', typeof rreluSchema, Empty, Empty> = defineLayer({
  kind: 'RReLU',
  fn: 'rrelu',
  config: rreluSchema,
  build: ({ lower, upper }) => {
    const problem = rreluProblem(lower, upper)
    if (problem !== undefined) throw new Error(problem)
    const mean = (lower + upper) / 2
    return {
      apply: (_params, _state, x, o) => {
        if (!o.training || lower === upper) return where(greaterEqual(x, 0), x, mul(x, mean))
        if (o.key === undefined)
          throw new Error('rrelu: training mode needs a key (pass { training: true, key })')
        return where(greaterEqual(x, 0), x, mul(x, slopes(o.key, x, lower, upper)))
      },
    }
  },
})

const slopes = (k: Key, x: Tensor, lower: number, upper: number): Tensor =>
  uniform(k, x.shape, { minval: lower, maxval: upper })

const rreluProblem = (lower: unknown, upper: unknown): string | undefined =>
  typeof lower === 'number' &&
  typeof upper === 'number' &&
  lower >= 0 &&
  lower <= upper &&
  Number.isFinite(upper)
    ? undefined
    : `need finite 0 ≤ lower ≤ upper, got lower=${String(lower)}, upper=${String(upper)}`
