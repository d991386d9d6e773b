import { leakyRelu as leakyReluOp } from '@purenn/tensor'
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
import { type Tagged, tag } from './container.js'
import { checkOptions, decodeWith } from './internal/config.js'
import { type Empty, empty, type Json, type Layer, type NameOption } from './layer.js'

/**
 * Applies an activation as a layer of its own (Keras' `Activation`): used after batch
 * normalization when BN goes between the linear part and the activation.
 *
 * @example
 * ```ts
 * import { activation } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = activation('relu')
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, tensor([[-1, 2]]), { training: false }).y.toString()) // tensor([[0, 2]])
 * ```
 * @category Layers
 */
export const activation = <const N extends string = never>(
  fn: ActivationName | Activation,
  opts: NameOption & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty>, 'Activation', N> => {
  checkOptions('activation', opts, ['name'])
  const a = getActivation(fn)
  const config: { [key: string]: Json } = { activation: activationToConfig(a) }
  if (opts.name !== undefined) config.name = opts.name
  return tag({
    kind: 'Activation',
    config,
    init: (_key, inputShape) => ({ params: empty, state: empty, outputShape: inputShape }),
    apply: (_params, state, x) => ({ y: a.fn(x), state }),
  } satisfies Layer<Empty, Empty>)
}

/**
 * Options of the {@link leakyRelu} layer.
 * @category Layers
 */
export interface LeakyReluOptions extends NameOption {
  /** Slope for `x < 0`. Default 0.3, as the tf.keras 2.x `LeakyReLU` layer. */
  readonly alpha?: number
}

/**
 * Leaky ReLU as a layer (Keras' `LeakyReLU`): `x` for `x > 0`, `alpha·x` otherwise.
 *
 * @remarks
 * The layer's default `alpha` is **0.3** (tf.keras 2.x `LeakyReLU`; Keras 3 renamed the
 * argument `negative_slope`, same default) while the activation function
 * `activations.leakyRelu()` defaults to **0.2** (`tf.nn.leaky_relu`): the same name, two
 * defaults. The chapter passes `alpha=0.2` explicitly; do the same. Maas et al. (2013).
 * @example
 * ```ts
 * import { leakyRelu } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = leakyRelu()
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, tensor([[-1, 2]]), { training: false }).y.toString()) // tensor([[-0.3, 2]])
 * ```
 * @category Layers
 */
export const leakyRelu = <const N extends string = never>(
  opts: LeakyReluOptions & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty>, 'LeakyReLU', N> => {
  checkOptions('leakyRelu', opts, ['alpha', 'name'])
  const alpha = opts.alpha ?? 0.3
  const config: { [key: string]: Json } = { alpha }
  if (opts.name !== undefined) config.name = opts.name
  return tag({
    kind: 'LeakyReLU',
    config,
    init: (_key, inputShape) => ({ params: empty, state: empty, outputShape: inputShape }),
    apply: (_params, state, x) => ({ y: leakyReluOp(x, alpha), state }),
  } satisfies Layer<Empty, Empty>)
}

/** Rebuilds an activation layer from its `config`. @internal */
export const activationLayerFromConfig = (u: unknown): E.Either<string, Layer<Empty, Empty>> =>
  pipe(
    decodeWith(
      t.intersection([t.type({ activation: t.unknown }), t.partial({ name: t.string })]),
      'Activation config',
    )(u),
    E.chain((c) =>
      pipe(
        activationFromConfig(c.activation as Json),
        E.map((a) => activation(a, c.name === undefined ? {} : { name: c.name })),
      ),
    ),
  )

/** Rebuilds a LeakyReLU layer from its `config`. @internal */
export const leakyReluFromConfig = (u: unknown): E.Either<string, Layer<Empty, Empty>> =>
  pipe(
    decodeWith(
      t.intersection([t.type({ alpha: t.number }), t.partial({ name: t.string })]),
      'LeakyReLU config',
    )(u),
    E.map((c) => leakyRelu(c.name === undefined ? { alpha: c.alpha } : { alpha: c.alpha, name: c.name })),
  )
