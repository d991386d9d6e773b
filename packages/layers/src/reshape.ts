import { reshape as reshapeOp, ShapeError } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { type DefinedLayer, defineLayer } from './define.js'
import { jsonField } from './fields.js'
import { type Empty, empty, type Layer, type NameOption, type Shape } from './layer.js'

/**
 * Options of the {@link reshape} layer, as Keras' `Reshape`.
 * @category Layers
 */
export interface ReshapeOptions extends NameOption {
  /** The new shape without the batch axis; at most one entry may be −1 (inferred). */
  readonly targetShape: readonly number[]
}

/** The one option of reshape: the target shape, positive integers and at most one −1. */
const reshapeSchema = {
  targetShape: jsonField('number[]', {
    check: (target) =>
      target.filter((d) => d === -1).length <= 1 &&
      target.every((d) => d === -1 || (Number.isInteger(d) && d > 0))
        ? undefined
        : `must hold positive integers and at most one -1, got ${JSON.stringify(target)}`,
  }),
} as const

// the options reshape takes are the schema's
const _options: (o: ReshapeOptions) => unknown = (o) => reshape(o)

/**
 * Reshapes every sample to `targetShape`, keeping the batch axis (Keras' `Reshape`):
 * `(batch, 784)` to `(batch, 28, 28, 1)` before a convolution.
 *
 * @remarks No params; row-major order, so `reshape` then `flatten` is the identity. One
 * entry of `targetShape` may be −1: it is worked out from the input size.
 * @param opts - `{ targetShape, name? }`
 * @returns the layer
 * @throws Error when `targetShape` has a non-positive entry other than one −1; ShapeError at
 * `init` when the sizes differ.
 * @example
 * ```ts
 * import { reshape } from '@purenn/layers'
 * import { key, zeros } from '@purenn/tensor'
 * const layer = reshape({ targetShape: [28, -1, 1] })
 * console.log(layer.init(key(0), [784]).outputShape) // [ 28, 28, 1 ]
 * console.log(layer.apply({}, {}, zeros([2, 784]), { training: false }).y.shape) // [ 2, 28, 28, 1 ]
 * ```
 * @category Layers
 */
export const reshape: DefinedLayer<'Reshape', typeof reshapeSchema, Empty, Empty> = defineLayer({
  kind: 'Reshape',
  fn: 'reshape',
  config: reshapeSchema,
  build: ({ targetShape }) => {
    const target = [...targetShape]
    const inferred = target.filter((d) => d === -1).length
    const resolve = (inputShape: Shape): number[] => {
      const size = inputShape.reduce((p, d) => p * d, 1)
      const known = target.reduce((p, d) => (d === -1 ? p : p * d), 1)
      const out = target.map((d) => (d === -1 ? size / known : d))
      if (inferred === 0 ? known !== size : size % known !== 0)
        throw new ShapeError(
          `reshape: cannot reshape an input of shape (${inputShape.join(', ')}) (${size} values) to (${target.join(', ')})`,
        )
      return out
    }
    return {
      init: (_key, inputShape) => ({ params: empty, state: empty, outputShape: resolve(inputShape) }),
      apply: (_params, _state, x) => reshapeOp(x, [x.shape[0]!, ...resolve(x.shape.slice(1))]),
    }
  },
})

/** Rebuilds a reshape layer from its `config`. @internal */
export const reshapeFromConfig = (u: unknown): E.Either<string, Layer<Empty, Empty>> =>
  E.tryCatch(
    () =>
      reshape.fromConfig(u, () => {
        throw new Error('Reshape has no children')
      }) as Layer<Empty, Empty>,
    (e) => `Reshape config: ${e instanceof Error ? e.message : String(e)}`,
  )
