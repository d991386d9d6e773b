import { add, denseOp, ShapeError, scalar, split, type Tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import {
  type Activation,
  type ActivationName,
  activationFromConfig,
  activations,
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
import { type Tagged, tag } from './container.js'
import {
  getInitializer,
  type Initializer,
  type InitializerName,
  initializerFromConfig,
  initializerToConfig,
} from './initializers.js'
import { checkOptions, decodeWith } from './internal/config.js'
import type { Json, Layer, NameOption } from './layer.js'
import { type Regularizer, regularizerFromConfig, regularizerToConfig } from './regularizers.js'

/**
 * Options of {@link dense}, named as Keras' `Dense` arguments in camelCase.
 * @category Layers
 */
export interface DenseOptions extends NameOption {
  /** Number of output units. */
  readonly units: number
  /** Activation applied to `x·W + b`: a name or an {@link Activation}. Default `'linear'`. */
  readonly activation?: ActivationName | Activation
  /** Whether to add a bias vector. Default true (false before a batch-norm layer). */
  readonly useBias?: boolean
  /** Kernel initializer. Default `'glorotUniform'`, as Keras. */
  readonly kernelInitializer?: InitializerName | Initializer
  /** Bias initializer. Default `'zeros'`. */
  readonly biasInitializer?: InitializerName | Initializer
  /** Penalty on the kernel added to the loss (e.g. `l2(0.01)`). */
  readonly kernelRegularizer?: Regularizer
  /** Penalty on the bias added to the loss. */
  readonly biasRegularizer?: Regularizer
  /** Projection of the kernel after each optimizer update (e.g. `maxNorm(1)`). */
  readonly kernelConstraint?: ConstraintName | Constraint
  /** Projection of the bias after each optimizer update. */
  readonly biasConstraint?: ConstraintName | Constraint
}

const denseOptionNames = [
  'units',
  'activation',
  'useBias',
  'kernelInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'biasRegularizer',
  'kernelConstraint',
  'biasConstraint',
  'name',
]

/**
 * Params of a dense layer: `kernel` of shape `[inputs, units]` and, with `useBias`, `bias` of
 * shape `[units]`.
 * @category Layers
 */
export type DenseParams = { readonly kernel: Tensor; readonly bias?: Tensor }

/**
 * A fully connected layer: `y = activation(x·W + b)` over the last axis of `x`.
 *
 * @remarks
 * Params: `kernel` `[n_in, units]` drawn by `kernelInitializer` (Glorot uniform by default:
 * `U(−l, l)`, `l = sqrt(6/(n_in + units))`, Glorot & Bengio 2010) and `bias` `[units]`
 * (zeros). Parameter count `n_in·units + units`. The regularizers' penalties are added to
 * the loss by `fit` through the layer's `penalty`; the constraints project the kernel and
 * the bias after every optimizer update, through the layer's `constrain`. Unknown options
 * throw (a misspelt `kernelConstraints` from JavaScript is not silently ignored). The product, the bias and a linear or ReLU
 * activation run as one fused op with one VJP (`denseOp` of `@purenn/tensor`).
 *
 * @example
 * ```ts
 * import { dense } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const layer = dense({ units: 2, activation: 'relu', kernelInitializer: 'ones' })
 * const { params, state } = layer.init(key(0), [3])
 * console.log(layer.apply(params, state, ones([1, 3]), { training: false }).y.toString()) // tensor([[3, 3]])
 * ```
 * @category Layers
 */
export const dense = <const N extends string = never>(
  opts: DenseOptions & { readonly name?: N },
): Tagged<Layer<DenseParams>, 'Dense', N> => {
  checkOptions('dense', opts, denseOptionNames)
  if (!Number.isInteger(opts.units) || opts.units <= 0)
    throw new Error(`dense: units must be a positive integer, got ${opts.units}`)
  const activation = getActivation(opts.activation)
  const useBias = opts.useBias ?? true
  const kernelInit = getInitializer(opts.kernelInitializer ?? 'glorotUniform')
  const biasInit = getInitializer(opts.biasInitializer ?? 'zeros')
  const { kernelRegularizer, biasRegularizer } = opts
  const kernelConstraint =
    opts.kernelConstraint === undefined ? undefined : getConstraint(opts.kernelConstraint)
  const biasConstraint = opts.biasConstraint === undefined ? undefined : getConstraint(opts.biasConstraint)
  const config: { [key: string]: Json } = {
    units: opts.units,
    activation: activationToConfig(activation),
    useBias,
    kernelInitializer: initializerToConfig(kernelInit),
    biasInitializer: initializerToConfig(biasInit),
    kernelRegularizer: kernelRegularizer === undefined ? null : regularizerToConfig(kernelRegularizer),
    biasRegularizer: biasRegularizer === undefined ? null : regularizerToConfig(biasRegularizer),
  }
  // only when given, so the configs of unconstrained layers stay as they were
  if (kernelConstraint !== undefined) config.kernelConstraint = constraintToConfig(kernelConstraint)
  if (biasConstraint !== undefined) config.biasConstraint = constraintToConfig(biasConstraint)
  if (opts.name !== undefined) config.name = opts.name
  const layer: Layer<DenseParams> = {
    kind: 'Dense',
    config,
    init: (key, inputShape) => {
      const nIn = inputShape.at(-1)
      if (nIn === undefined) throw new ShapeError('dense: input shape must have at least one axis, got []')
      const [kKernel, kBias] = split(key, 2) as [typeof key, typeof key]
      const kernel = kernelInit.init(kKernel, [nIn, opts.units])
      return {
        params: useBias ? { kernel, bias: biasInit.init(kBias, [opts.units]) } : { kernel },
        state: {},
        outputShape: [...inputShape.slice(0, -1), opts.units],
      }
    },
    // x·W + b and a linear or ReLU activation run as one fused op; others apply after it
    apply: (params, state, x) => ({
      y:
        activation === activations.relu
          ? denseOp(x, params.kernel, params.bias, 'relu')
          : activation.fn(denseOp(x, params.kernel, params.bias)),
      state,
    }),
  }
  const constrained: Layer<DenseParams> =
    kernelConstraint === undefined && biasConstraint === undefined
      ? layer
      : {
          ...layer,
          constrain: (params) => {
            const kernel = kernelConstraint ? kernelConstraint.project(params.kernel) : params.kernel
            if (params.bias === undefined) return { kernel }
            return { kernel, bias: biasConstraint ? biasConstraint.project(params.bias) : params.bias }
          },
        }
  if (kernelRegularizer === undefined && biasRegularizer === undefined) return tag(constrained)
  return tag({
    ...constrained,
    penalty: (params) => {
      const terms = [
        ...(kernelRegularizer ? [kernelRegularizer.penalty(params.kernel)] : []),
        ...(biasRegularizer && params.bias ? [biasRegularizer.penalty(params.bias)] : []),
      ]
      return terms.reduce((s, x) => add(s, x), scalar(0))
    },
  })
}

const DenseConfig = t.intersection([
  t.type({
    units: t.number,
    activation: t.unknown,
    useBias: t.boolean,
    kernelInitializer: t.unknown,
    biasInitializer: t.unknown,
  }),
  t.partial({
    kernelRegularizer: t.unknown,
    biasRegularizer: t.unknown,
    kernelConstraint: t.unknown,
    biasConstraint: t.unknown,
    name: t.string,
  }),
])

/** Rebuilds a dense layer from its `config`. @internal */
export const denseFromConfig = (u: unknown): E.Either<string, Layer<DenseParams>> =>
  pipe(
    decodeWith(DenseConfig, 'Dense config')(u),
    E.filterOrElse(
      (c) => Number.isInteger(c.units) && c.units > 0,
      (c) => `Dense config: units: expected a positive integer, got ${c.units}`,
    ),
    E.chain((c) =>
      pipe(
        E.Do,
        E.bind('activation', () => activationFromConfig(c.activation as Json)),
        E.bind('kernelInitializer', () => initializerFromConfig(c.kernelInitializer as Json)),
        E.bind('biasInitializer', () => initializerFromConfig(c.biasInitializer as Json)),
        E.bind('kernelRegularizer', () =>
          c.kernelRegularizer == null
            ? E.right(undefined)
            : regularizerFromConfig(c.kernelRegularizer as Json),
        ),
        E.bind('biasRegularizer', () =>
          c.biasRegularizer == null ? E.right(undefined) : regularizerFromConfig(c.biasRegularizer as Json),
        ),
        E.bind('kernelConstraint', () =>
          c.kernelConstraint == null
            ? E.right(undefined)
            : constraintFromConfig(c.kernelConstraint, 'kernelConstraint'),
        ),
        E.bind('biasConstraint', () =>
          c.biasConstraint == null
            ? E.right(undefined)
            : constraintFromConfig(c.biasConstraint, 'biasConstraint'),
        ),
        E.map((d) =>
          dense({
            units: c.units,
            useBias: c.useBias,
            activation: d.activation,
            kernelInitializer: d.kernelInitializer,
            biasInitializer: d.biasInitializer,
            ...(d.kernelRegularizer ? { kernelRegularizer: d.kernelRegularizer } : {}),
            ...(d.biasRegularizer ? { biasRegularizer: d.biasRegularizer } : {}),
            ...(d.kernelConstraint ? { kernelConstraint: d.kernelConstraint } : {}),
            ...(d.biasConstraint ? { biasConstraint: d.biasConstraint } : {}),
            ...(c.name !== undefined ? { name: c.name } : {}),
          }),
        ),
      ),
    ),
  )
