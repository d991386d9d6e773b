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
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import {
  type Constraint,
  type ConstraintName,
  constraintFromConfig,
  constraintToConfig,
  getConstraint,
} from './constraints.js'
import {
  getInitializer,
  type Initializer,
  type InitializerName,
  initializerFromConfig,
  initializerToConfig,
} from './initializers.js'
import { checkOptions, decodeWith } from './internal/config.js'
import { type Empty, empty, type Json, type Layer, type NameOption } from './layer.js'
import { type Regularizer, regularizerFromConfig, regularizerToConfig } from './regularizers.js'

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
export const prelu = (opts: PReluOptions = {}): Layer<PReluParams, Empty> => {
  checkOptions('prelu', opts, [
    'alphaInitializer',
    'alphaRegularizer',
    'alphaConstraint',
    'sharedAxes',
    'name',
  ])
  const init = getInitializer(opts.alphaInitializer ?? 'zeros')
  const { alphaRegularizer } = opts
  const alphaConstraint = opts.alphaConstraint === undefined ? undefined : getConstraint(opts.alphaConstraint)
  const sharedAxes = opts.sharedAxes ?? []
  if (!Array.isArray(sharedAxes) || !sharedAxes.every((a) => Number.isInteger(a) && a >= 1))
    throw new Error(
      `prelu: sharedAxes must be an array of axes ≥ 1 (the batch axis is 0), got ${JSON.stringify(sharedAxes)}`,
    )
  const config: { [key: string]: Json } = {
    alphaInitializer: initializerToConfig(init),
    alphaRegularizer: alphaRegularizer === undefined ? null : regularizerToConfig(alphaRegularizer),
    alphaConstraint: alphaConstraint === undefined ? null : constraintToConfig(alphaConstraint),
    sharedAxes: [...sharedAxes],
  }
  if (opts.name !== undefined) config.name = opts.name
  const layer: Layer<PReluParams, Empty> = {
    kind: 'PReLU',
    config,
    init: (key, inputShape) => {
      const bad = sharedAxes.find((a) => a > inputShape.length)
      if (bad !== undefined)
        throw new ShapeError(
          `prelu: shared axis ${bad} is outside the input of shape (None, ${inputShape.join(', ')})`,
        )
      const shape = inputShape.map((d, i) => (sharedAxes.includes(i + 1) ? 1 : d))
      return { params: { alpha: init.init(key, shape) }, state: empty, outputShape: inputShape }
    },
    apply: ({ alpha }, state, x) => ({ y: add(relu(x), mul(alpha, minimum(x, 0))), state }),
  }
  return {
    ...layer,
    ...(alphaRegularizer === undefined
      ? {}
      : { penalty: (p: PReluParams) => alphaRegularizer.penalty(p.alpha) }),
    ...(alphaConstraint === undefined
      ? {}
      : { constrain: (p: PReluParams) => ({ alpha: alphaConstraint.project(p.alpha) }) }),
  }
}

const PReluConfig = t.intersection([
  t.type({ alphaInitializer: t.unknown }),
  t.partial({
    alphaRegularizer: t.unknown,
    alphaConstraint: t.unknown,
    sharedAxes: t.union([t.null, t.array(t.Integer)]),
    name: t.string,
  }),
])

/** Rebuilds a PReLU layer from its `config`. @internal */
export const preluFromConfig = (u: unknown): E.Either<string, Layer<PReluParams, Empty>> =>
  pipe(
    decodeWith(PReluConfig, 'PReLU config')(u),
    E.chain((c) =>
      pipe(
        E.Do,
        E.bind('alphaInitializer', () => initializerFromConfig(c.alphaInitializer, 'alphaInitializer')),
        E.bind('alphaRegularizer', () =>
          c.alphaRegularizer == null
            ? E.right(undefined)
            : regularizerFromConfig(c.alphaRegularizer, 'alphaRegularizer'),
        ),
        E.bind('alphaConstraint', () =>
          c.alphaConstraint == null
            ? E.right(undefined)
            : constraintFromConfig(c.alphaConstraint, 'alphaConstraint'),
        ),
        E.chain((d) =>
          E.tryCatch(
            () =>
              prelu({
                alphaInitializer: d.alphaInitializer,
                ...(d.alphaRegularizer ? { alphaRegularizer: d.alphaRegularizer } : {}),
                ...(d.alphaConstraint ? { alphaConstraint: d.alphaConstraint } : {}),
                ...(c.sharedAxes ? { sharedAxes: c.sharedAxes } : {}),
                ...(c.name !== undefined ? { name: c.name } : {}),
              }),
            (e) => `PReLU config: ${(e as Error).message}`,
          ),
        ),
      ),
    ),
  )

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
export const rrelu = (opts: RReluOptions = {}): Layer<Empty, Empty> => {
  checkOptions('rrelu', opts, ['lower', 'upper', 'name'])
  const lower = opts.lower ?? 1 / 8
  const upper = opts.upper ?? 1 / 3
  const problem = rreluProblem(lower, upper)
  if (problem !== undefined) throw new Error(`rrelu: ${problem}`)
  const mean = (lower + upper) / 2
  const config: { [key: string]: Json } = { lower, upper }
  if (opts.name !== undefined) config.name = opts.name
  return {
    kind: 'RReLU',
    config,
    init: (_key, inputShape) => ({ params: empty, state: empty, outputShape: inputShape }),
    apply: (_params, state, x, o) => {
      if (!o.training || lower === upper) return { y: where(greaterEqual(x, 0), x, mul(x, mean)), state }
      if (o.key === undefined)
        throw new Error('rrelu: training mode needs a key (pass { training: true, key })')
      return { y: where(greaterEqual(x, 0), x, mul(x, slopes(o.key, x, lower, upper))), state }
    },
  }
}

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

/** Rebuilds an RReLU layer from its `config`. @internal */
export const rreluFromConfig = (u: unknown): E.Either<string, Layer<Empty, Empty>> =>
  pipe(
    decodeWith(
      t.intersection([t.type({ lower: t.number, upper: t.number }), t.partial({ name: t.string })]),
      'RReLU config',
    )(u),
    E.chain((c) => {
      const problem = rreluProblem(c.lower, c.upper)
      if (problem !== undefined) return E.left(`RReLU config: ${problem}`)
      return E.right(rrelu(c.name === undefined ? { lower: c.lower, upper: c.upper } : c))
    }),
  )
