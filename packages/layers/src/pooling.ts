import {
  avgPool2d,
  convOutputSize,
  maxPool2d,
  mean,
  type Padding,
  type Pool2dOptions,
  ShapeError,
  type Tensor,
} from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { defaultFrom, jsonField } from './fields.js'
import { type Pair, paddingField, pairField } from './internal/window.js'
import { type Empty, empty, type NameOption, type Shape } from './layer.js'

/**
 * Options of {@link maxPooling2d} and {@link averagePooling2d}, as Keras' `MaxPooling2D`.
 * @category Layers
 */
export interface Pooling2dOptions extends NameOption {
  /** Window size: a number for both axes or `[ph, pw]`. Default 2. */
  readonly poolSize?: number | readonly [number, number]
  /** Step of the window; default the pool size (Keras' `strides=None`). */
  readonly strides?: number | readonly [number, number]
  /** `'valid'` (default) or `'same'`. */
  readonly padding?: Padding
}

/**
 * Options of {@link globalAveragePooling2d}.
 * @category Layers
 */
export interface GlobalPoolingOptions extends NameOption {
  /** Keep the pooled axes as size 1: `(1, 1, c)` instead of `(c)`. Default false. */
  readonly keepdims?: boolean
}

/** The options of the pooling layers: Keras' `strides=None` is the pool size, saved as such. */
const poolingSchema = {
  poolSize: pairField(2),
  strides: defaultFrom(pairField(), (c: { poolSize: Pair }) => c.poolSize),
  padding: paddingField,
} as const

/** A pooling layer of `kind` running `op`. */
const pooling = <K extends string>(
  kind: K,
  fn: string,
  op: (x: Tensor, o: Pool2dOptions) => Tensor,
): DefinedLayer<K, typeof poolingSchema, Empty, Empty> =>
  defineLayer({
    kind,
    fn,
    config: poolingSchema,
    build: ({ poolSize, strides, padding }) => ({
      init: (_key, inputShape) => {
        if (inputShape.length !== 3)
          throw new ShapeError(
            `${fn}: input shape must be (height, width, channels), got (${inputShape.join(', ')})`,
          )
        const [h, w, c] = inputShape as [number, number, number]
        const oh = convOutputSize(h, poolSize[0], strides[0], padding)
        const ow = convOutputSize(w, poolSize[1], strides[1], padding)
        if (oh === 0 || ow === 0)
          throw new ShapeError(
            `${fn}: a ${poolSize.join('x')} window does not fit in an input of shape (${inputShape.join(', ')}) with padding 'valid'`,
          )
        return { params: empty, state: empty, outputShape: [oh, ow, c] }
      },
      apply: (_params, _state, x) => op(x, { poolSize, strides, padding }),
    }),
  })

/**
 * Max pooling over channels-last images (Keras' `MaxPooling2D`): the largest value of each
 * `poolSize` window, per channel.
 *
 * @remarks
 * No params. Output `(oh, ow, c)` with `oh = floor((h − ph) / sh) + 1` (`'valid'`) or `ceil(h / sh)` (`'same'`); with the
 * defaults (`poolSize` 2, `strides` = `poolSize`, `'valid'`) a 28×28 map becomes 14×14. The
 * gradient goes to the first maximum of each window (`maxPool2d` of `@purenn/tensor`).
 *
 * @param opts - `{ poolSize = 2, strides = poolSize, padding = 'valid', name? }`
 * @returns the layer
 * @example
 * ```ts
 * import { maxPooling2d } from '@purenn/layers'
 * import { arange, key, reshape } from '@purenn/tensor'
 * const layer = maxPooling2d()
 * console.log(layer.init(key(0), [28, 28, 32]).outputShape) // [ 14, 14, 32 ]
 * console.log(layer.apply({}, {}, reshape(arange(16), [1, 4, 4, 1]), { training: false }).y.toString()) // tensor([[[[5], [7]], [[13], [15]]]])
 * ```
 * @category Layers
 */
export const maxPooling2d: DefinedLayer<'MaxPooling2D', typeof poolingSchema, Empty, Empty> = pooling(
  'MaxPooling2D',
  'maxPooling2d',
  maxPool2d,
)

/**
 * Average pooling over channels-last images (Keras' `AveragePooling2D`): the mean of each
 * `poolSize` window, per channel.
 *
 * @remarks
 * No params. With `'same'` padding the padded taps are left out of the mean, as TensorFlow
 * (`avgPool2d` of `@purenn/tensor`).
 *
 * @param opts - `{ poolSize = 2, strides = poolSize, padding = 'valid', name? }`
 * @returns the layer
 * @example
 * ```ts
 * import { averagePooling2d } from '@purenn/layers'
 * import { arange, reshape } from '@purenn/tensor'
 * const layer = averagePooling2d({ padding: 'same' })
 * console.log(layer.apply({}, {}, reshape(arange(9), [1, 3, 3, 1]), { training: false }).y.toString()) // tensor([[[[2], [3.5]], [[6.5], [8]]]])
 * ```
 * @category Layers
 */
export const averagePooling2d: DefinedLayer<'AveragePooling2D', typeof poolingSchema, Empty, Empty> = pooling(
  'AveragePooling2D',
  'averagePooling2d',
  avgPool2d,
)

// the options the pooling layers take are the schema's
const _poolingOptions: (o: Pooling2dOptions) => unknown = (o) => [maxPooling2d(o), averagePooling2d(o)]

/** The one option of globalAveragePooling2d. */
const globalSchema = { keepdims: jsonField('boolean', { default: false }) } as const

// the options globalAveragePooling2d takes are the schema's
const _options: (o: GlobalPoolingOptions) => unknown = (o) => globalAveragePooling2d(o)

/**
 * The mean over height and width of channels-last images (Keras' `GlobalAveragePooling2D`):
 * `(batch, h, w, c)` becomes `(batch, c)`.
 *
 * @remarks No params. The usual head of a CNN before the classifier, instead of `flatten`.
 * @param opts - `{ keepdims = false, name? }`
 * @returns the layer
 * @example
 * ```ts
 * import { globalAveragePooling2d } from '@purenn/layers'
 * import { arange, key, reshape } from '@purenn/tensor'
 * const layer = globalAveragePooling2d()
 * console.log(layer.init(key(0), [7, 7, 64]).outputShape) // [ 64 ]
 * console.log(layer.apply({}, {}, reshape(arange(8), [1, 2, 2, 2]), { training: false }).y.toString()) // tensor([[3, 4]])
 * ```
 * @category Layers
 */
export const globalAveragePooling2d: DefinedLayer<
  'GlobalAveragePooling2D',
  typeof globalSchema,
  Empty,
  Empty
> = defineLayer({
  kind: 'GlobalAveragePooling2D',
  fn: 'globalAveragePooling2d',
  config: globalSchema,
  build: ({ keepdims }) => ({
    init: (_key, inputShape: Shape) => {
      if (inputShape.length !== 3)
        throw new ShapeError(
          `globalAveragePooling2d: input shape must be (height, width, channels), got (${inputShape.join(', ')})`,
        )
      const c = inputShape[2]!
      return { params: empty, state: empty, outputShape: keepdims ? [1, 1, c] : [c] }
    },
    apply: (_params, _state, x) => {
      if (x.shape.length !== 4)
        throw new ShapeError(
          `globalAveragePooling2d: input must be (batch, height, width, channels), got [${x.shape.join(',')}]`,
        )
      return mean(x, [1, 2], keepdims)
    },
  }),
})
