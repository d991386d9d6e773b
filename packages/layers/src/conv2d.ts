import {
  add,
  conv2d as conv2dOp,
  convOutputSize,
  type Padding,
  ShapeError,
  scalar,
  split,
  type Tensor,
} from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import {
  type Activation,
  type ActivationName,
  activationFromConfig,
  activationToConfig,
  getActivation,
} from './activations.js'
import {
  getInitializer,
  type Initializer,
  type InitializerName,
  initializerFromConfig,
  initializerToConfig,
} from './initializers.js'
import { decodeWith } from './internal/config.js'
import { PaddingC, PairC, toPadding, toPair } from './internal/window.js'
import type { Json, Layer, NameOption } from './layer.js'
import { type Regularizer, regularizerFromConfig, regularizerToConfig } from './regularizers.js'

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
export const conv2d = (opts: Conv2dLayerOptions): Layer<Conv2dParams> => {
  if (!Number.isInteger(opts.filters) || opts.filters <= 0)
    throw new Error(`conv2d: filters must be a positive integer, got ${opts.filters}`)
  const kernelSize = toPair('conv2d', 'kernelSize', opts.kernelSize)
  const strides = toPair('conv2d', 'strides', opts.strides ?? 1)
  const dilationRate = toPair('conv2d', 'dilationRate', opts.dilationRate ?? 1)
  const padding = toPadding('conv2d', opts.padding)
  if (Math.max(...strides) > 1 && Math.max(...dilationRate) > 1)
    throw new Error(
      `conv2d: strides ${JSON.stringify(strides)} and dilationRate ${JSON.stringify(dilationRate)} cannot both exceed 1 (as in Keras)`,
    )
  const { filters } = opts
  const activation = getActivation(opts.activation)
  const useBias = opts.useBias ?? true
  const kernelInit = getInitializer(opts.kernelInitializer ?? 'glorotUniform')
  const biasInit = getInitializer(opts.biasInitializer ?? 'zeros')
  const { kernelRegularizer, biasRegularizer } = opts
  const config: { [key: string]: Json } = {
    filters,
    kernelSize,
    strides,
    padding,
    dilationRate,
    activation: activationToConfig(activation),
    useBias,
    kernelInitializer: initializerToConfig(kernelInit),
    biasInitializer: initializerToConfig(biasInit),
    kernelRegularizer: kernelRegularizer === undefined ? null : regularizerToConfig(kernelRegularizer),
    biasRegularizer: biasRegularizer === undefined ? null : regularizerToConfig(biasRegularizer),
  }
  if (opts.name !== undefined) config.name = opts.name
  const layer: Layer<Conv2dParams> = {
    kind: 'Conv2D',
    config,
    init: (key, inputShape) => {
      if (inputShape.length !== 3)
        throw new ShapeError(
          `conv2d: input shape must be (height, width, channels), got (${inputShape.join(', ')})`,
        )
      const [h, w, c] = inputShape as [number, number, number]
      const oh = convOutputSize(h, kernelSize[0], strides[0], padding, dilationRate[0])
      const ow = convOutputSize(w, kernelSize[1], strides[1], padding, dilationRate[1])
      if (oh === 0 || ow === 0)
        throw new ShapeError(
          `conv2d: a ${kernelSize.join('x')} kernel does not fit in an input of shape (${inputShape.join(', ')}) with padding 'valid'`,
        )
      const [kKernel, kBias] = split(key, 2) as [typeof key, typeof key]
      const kernel = kernelInit.init(kKernel, [...kernelSize, c, filters])
      return {
        params: useBias ? { kernel, bias: biasInit.init(kBias, [filters]) } : { kernel },
        state: {},
        outputShape: [oh, ow, filters],
      }
    },
    apply: (params, state, x) => {
      const z = conv2dOp(x, params.kernel, { strides, padding, dilationRate })
      return { y: activation.fn(params.bias === undefined ? z : add(z, params.bias)), state }
    },
  }
  if (kernelRegularizer === undefined && biasRegularizer === undefined) return layer
  return {
    ...layer,
    penalty: (params) => {
      const terms = [
        ...(kernelRegularizer ? [kernelRegularizer.penalty(params.kernel)] : []),
        ...(biasRegularizer && params.bias ? [biasRegularizer.penalty(params.bias)] : []),
      ]
      return terms.reduce((s, x) => add(s, x), scalar(0))
    },
  }
}

const Conv2DConfig = t.intersection([
  t.type({
    filters: t.number,
    kernelSize: PairC,
    strides: PairC,
    padding: PaddingC,
    dilationRate: PairC,
    activation: t.unknown,
    useBias: t.boolean,
    kernelInitializer: t.unknown,
    biasInitializer: t.unknown,
  }),
  t.partial({ kernelRegularizer: t.unknown, biasRegularizer: t.unknown, name: t.string }),
])

/** Rebuilds a conv2d layer from its `config`. @internal */
export const conv2dFromConfig = (u: unknown): E.Either<string, Layer<Conv2dParams>> =>
  pipe(
    decodeWith(Conv2DConfig, 'Conv2D config')(u),
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
        E.chain((d) =>
          E.tryCatch(
            () =>
              conv2d({
                filters: c.filters,
                kernelSize: c.kernelSize,
                strides: c.strides,
                padding: c.padding,
                dilationRate: c.dilationRate,
                useBias: c.useBias,
                activation: d.activation,
                kernelInitializer: d.kernelInitializer,
                biasInitializer: d.biasInitializer,
                ...(d.kernelRegularizer ? { kernelRegularizer: d.kernelRegularizer } : {}),
                ...(d.biasRegularizer ? { biasRegularizer: d.biasRegularizer } : {}),
                ...(c.name !== undefined ? { name: c.name } : {}),
              }),
            (e) => `Conv2D config: ${(e as Error).message.replace(/^conv2d: /, '')}`,
          ),
        ),
      ),
    ),
  )
