import { type DenseActivation, denseOp, ShapeError, split, type Tensor } from '@purenn/tensor'
import { type Activation, type ActivationName, activations } from './activations.js'
import type { Constraint, ConstraintName } from './constraints.js'
import { type DefinedLayer, defineLayer } from './define.js'
import { activationField, constraintField, initializerField, jsonField, regularizerField } from './fields.js'
import type { Initializer, InitializerName } from './initializers.js'
import { constrainOf, penaltyOf, positive } from './internal/fields.js'
import { type Empty, empty, type NameOption } from './layer.js'
import type { Regularizer } from './regularizers.js'

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

/**
 * Params of a dense layer: `kernel` of shape `[inputs, units]` and, with `useBias`, `bias` of
 * shape `[units]`.
 * @category Layers
 */
export type DenseParams = { readonly kernel: Tensor; readonly bias?: Tensor }

const denseSchema = {
  units: jsonField('integer', { check: positive }),
  activation: activationField('linear'),
  useBias: jsonField('boolean', { default: true }),
  kernelInitializer: initializerField('glorotUniform'),
  biasInitializer: initializerField('zeros'),
  kernelRegularizer: regularizerField(),
  biasRegularizer: regularizerField(),
  kernelConstraint: constraintField(),
  biasConstraint: constraintField(),
} as const

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
export const dense: DefinedLayer<'Dense', typeof denseSchema, DenseParams, Empty> = defineLayer({
  kind: 'Dense',
  fn: 'dense',
  config: denseSchema,
  build: (c) => ({
    init: (key, inputShape) => {
      const nIn = inputShape.at(-1)
      if (nIn === undefined) throw new ShapeError('dense: input shape must have at least one axis, got []')
      const [kKernel, kBias] = split(key, 2) as [typeof key, typeof key]
      const kernel = c.kernelInitializer.init(kKernel, [nIn, c.units])
      return {
        params: c.useBias ? { kernel, bias: c.biasInitializer.init(kBias, [c.units]) } : { kernel },
        state: empty,
        outputShape: [...inputShape.slice(0, -1), c.units],
      }
    },
    // x·W + b and the activation run as one fused op where it has the activation; others apply after it
    apply: (params: DenseParams, _state, x) => {
      const fused = fusedActivation(c.activation)
      return fused === undefined
        ? c.activation.fn(denseOp(x, params.kernel, params.bias))
        : denseOp(x, params.kernel, params.bias, fused.activation, fused.alpha)
    },
    ...penaltyOf<DenseParams>({ kernel: c.kernelRegularizer, bias: c.biasRegularizer }),
    ...constrainOf<DenseParams>({ kernel: c.kernelConstraint, bias: c.biasConstraint }),
  }),
})

/**
 * The fused form of a built-in activation, or undefined for one `denseOp` does not fuse (it
 * then applies after the op). Leaky ReLU needs α ≥ 0 and ELU α > 0 (the derivative is read off
 * the output); the α of `activations.leakyRelu(α)` / `activations.elu(α)` is in `config`.
 */
const fusedActivation = (a: Activation): { activation: DenseActivation; alpha?: number } | undefined => {
  if (a === activations.linear) return { activation: 'linear' }
  if (a === activations.relu) return { activation: 'relu' }
  if (a === activations.selu) return { activation: 'selu' }
  const alpha = a.config.alpha
  if (typeof alpha !== 'number') return undefined
  if (a.name === 'leakyRelu' && alpha >= 0) return { activation: 'leakyRelu', alpha }
  if (a.name === 'elu' && alpha > 0) return { activation: 'elu', alpha }
  return undefined
}

// the options a `dense` takes are the schema's
const _options: (o: DenseOptions) => unknown = dense
