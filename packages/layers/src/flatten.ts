import { reshape } from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { type Empty, empty } from './layer.js'

/**
 * Flattens every axis but the batch axis: `[batch, 28, 28]` becomes `[batch, 784]`.
 *
 * @remarks No params. Keras' `Flatten`.
 * @example
 * ```ts
 * import { flatten } from '@purenn/layers'
 * import { key, zeros } from '@purenn/tensor'
 * const layer = flatten()
 * const { params, state, outputShape } = layer.init(key(0), [28, 28])
 * console.log(outputShape, layer.apply(params, state, zeros([2, 28, 28]), { training: false }).y.shape) // [ 784 ] [ 2, 784 ]
 * ```
 * @category Layers
 */
// biome-ignore lint/complexity/noBannedTypes: the empty schema
export const flatten: DefinedLayer<'Flatten', {}, Empty, Empty> = defineLayer({
  kind: 'Flatten',
  fn: 'flatten',
  config: {},
  build: () => ({
    init: (_key, inputShape) => ({
      params: empty,
      state: empty,
      outputShape: [inputShape.reduce((p, d) => p * d, 1)],
    }),
    apply: (_params, _state, x) => reshape(x, [x.shape[0] ?? 1, -1]),
  }),
})
