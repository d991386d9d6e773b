import { reshape } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { type Tagged, tag } from './container.js'
import { checkOptions, decodeWith } from './internal/config.js'
import { type Empty, empty, type Layer, type NameOption } from './layer.js'

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
export const flatten = <const N extends string = never>(
  opts: NameOption & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty>, 'Flatten', N> => {
  checkOptions('flatten', opts, ['name'])
  return tag({
    kind: 'Flatten',
    config: opts.name === undefined ? {} : { name: opts.name },
    init: (_key, inputShape) => ({
      params: empty,
      state: empty,
      outputShape: [inputShape.reduce((p, d) => p * d, 1)],
    }),
    apply: (_params, state, x) => ({ y: reshape(x, [x.shape[0] ?? 1, -1]), state }),
  } satisfies Layer<Empty, Empty>)
}

/** Rebuilds a flatten layer from its `config`. @internal */
export const flattenFromConfig = (u: unknown): E.Either<string, Layer<Empty, Empty>> =>
  pipe(
    decodeWith(t.partial({ name: t.string }), 'Flatten config')(u),
    E.map((c) => flatten(c.name === undefined ? {} : { name: c.name })),
  )
