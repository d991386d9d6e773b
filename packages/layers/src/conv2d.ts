import {
  add,
  conv2d as conv2dOp,
  convOutputSize,
  type Padding,
  ShapeError,
  split,
  type Tensor,
} from '@purenn/tensor'
import type { Activation, ActivationName } from './activations.js'
import { type DefinedLayer, defineLayer } from './define.js'
import { activationField, initializerField, jsonField, regularizerField } from './fields.js'
import type { Initializer, InitializerName } from './initializers.js'
import { penaltyOf, positive } from './internal/fields.js'
import { paddingField, pairField } from './internal/window.js'
import { type Empty, empty, type NameOption } from './layer.js'
import type { Regularizer } from './regularizers.js'

/**
 * Options of the {@link conv2d} layer, named as Keras' `Conv2D` arguments in camelCase.
 * @category Layers
 */
export interface Conv2dLayerOptions extends NameOption {
  /** Number of output channels (filters). */
  readonly filters: number
  /** Height and width of the kernel: a number for both or `[kh, kw]`. */
  readonly kernelSize: number | readonly [number, number]
  /** Step of the kernel: a number or `[sh, sw]`. Default 1. */
  readonly strides?: number | readonly [number, number]
  /** `'valid'` (default: no padding) or `'same'` (output size `ceil(size / stride)`). */
  readonly padding?: Padding
  /** Spacing of the kernel taps: a number or `[dh, dw]`. Default 1. Not with strides > 1. */
  readonly dilationRate?: number | readonly [number, number]
  /** Activation applied after the bias. Default `'linear'`. */
  readonly activation?: ActivationName | Activation
  /** Whether to add a bias per filter. Default true (false before batch normalization). */
  readonly useBias?: boolean
  /** Kernel initializer. Default `'glorotUniform'`, as Keras. */
  readonly kernelInitializer?: InitializerName | Initializer
  /** Bias initializer. Default `'zeros'`. */
  readonly biasInitializer?: InitializerName | Initializer
  /** Penalty on the kernel added to the loss. */
  readonly kernelRegularizer?: Regularizer
  /** Penalty on the bias added to the loss. */
  readonly biasRegularizer?: Regularizer
}

const schema = {
  filters: jsonField('integer', { check: positive }),
  kernelSize: pairField(),
  strides: pairField(1),
  padding: paddingField,
  dilationRate: pairField(1),
  activation: activationField('linear'),
  useBias: jsonField('boolean', { default: true }),
  kernelInitializer: initializerField('glorotUniform'),
  biasInitializer: initializerField('zeros'),
  kernelRegularizer: regularizerField(),
  biasRegularizer: regularizerField(),
} as const

/**
 * Params of a conv2d layer: `kernel` `[kh, kw, inChannels, filters]` (HWIO, as Keras) and,
 * with `useBias`, `bias` `[filters]`.
 * @category Layers
 */
export type Conv2dParams = { readonly kernel: Tensor; readonly bias?: Tensor }

/**
 * A 2-D convolution layer over channels-last images (Keras' `Conv2D`):
 * `y = activation(conv2d(x, kernel) + bias)`.
 *
 * @remarks
 * Input `(batch, height, width, channels)`, output `(batch, oh, ow, filters)` with
 * `oh = convOutputSize(height, kh, sh, padding, dh)` (`ceil(height / sh)` for `'same'`).
 * Params: `kernel` `[kh, kw, c, filters]` (Glorot uniform by default, its fans counting the
 * receptive field: `fanIn = kh·kw·c`, `fanOut = kh·kw·filters`) and `bias` `[filters]`;
 * `kh·kw·c·filters + filters` parameters. The convolution is `conv2d` of `@purenn/tensor`
 * (im2col + matmul, on the worker pool). Only `channels_last`, Keras' default, exists.
 *
 * @param opts - `{ filters, kernelSize, strides = 1, padding = 'valid', dilationRate = 1,
 * activation = 'linear', useBias = true, kernelInitializer = 'glorotUniform',
 * biasInitializer = 'zeros', kernelRegularizer?, biasRegularizer?, name? }`
 * @returns the layer
 * @throws Error when `filters` is not a positive integer or a size option is invalid.
 * @example
 * ```ts
 * import { conv2d } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const layer = conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: 'ones' })
 * const { params, state, outputShape } = layer.init(key(0), [4, 4, 1])
 * console.log(params.kernel.shape, outputShape) // [ 3, 3, 1, 2 ] [ 4, 4, 2 ]
 * const y = layer.apply(params, state, ones([1, 4, 4, 1]), { training: false }).y
 * console.log(y.data[0], y.data[10]) // 4 9
 * ```
 * @category Layers
 */
export const conv2d: DefinedLayer<'Conv2D', typeof schema, Conv2dParams, Empty> = defineLayer({
  kind: 'Conv2D',
  fn: 'conv2d',
  config: schema,
  build: (c) => {
    const { filters, kernelSize, strides, padding, dilationRate, activation } = c
    if (Math.max(...strides) > 1 && Math.max(...dilationRate) > 1)
      throw new Error(
        `strides ${JSON.stringify(strides)} and dilationRate ${JSON.stringify(dilationRate)} cannot both exceed 1 (as in Keras)`,
      )
    return {
      init: (key, inputShape) => {
        if (inputShape.length !== 3)
          throw new ShapeError(
            `conv2d: input shape must be (height, width, channels), got (${inputShape.join(', ')})`,
          )
        const [h, w, ch] = inputShape as [number, number, number]
        const oh = convOutputSize(h, kernelSize[0], strides[0], padding, dilationRate[0])
        const ow = convOutputSize(w, kernelSize[1], strides[1], padding, dilationRate[1])
        if (oh === 0 || ow === 0)
          throw new ShapeError(
            `conv2d: a ${kernelSize.join('x')} kernel does not fit in an input of shape (${inputShape.join(', ')}) with padding 'valid'`,
          )
        const [kKernel, kBias] = split(key, 2) as [typeof key, typeof key]
        const kernel = c.kernelInitializer.init(kKernel, [...kernelSize, ch, filters])
        return {
          params: c.useBias ? { kernel, bias: c.biasInitializer.init(kBias, [filters]) } : { kernel },
          state: empty,
          outputShape: [oh, ow, filters],
        }
      },
      apply: (params: Conv2dParams, _state, x) => {
        const z = conv2dOp(x, params.kernel, { strides, padding, dilationRate })
        return activation.fn(params.bias === undefined ? z : add(z, params.bias))
      },
      ...penaltyOf<Conv2dParams>({ kernel: c.kernelRegularizer, bias: c.biasRegularizer }),
    }
  },
})

// the options `conv2d` takes are the schema's
const _options: (o: Conv2dLayerOptions) => unknown = conv2d
