import { leakyRelu as leakyReluOp } from '@purenn/tensor'
import type { Activation, ActivationName } from './activations.js'
import type { Tagged } from './container.js'
import { type DefinedLayer, defineLayer } from './define.js'
import { activationField, field, jsonField } from './fields.js'
import { checkOptions } from './internal/config.js'
import type { Empty, Layer, NameOption } from './layer.js'

/** An activation field with no default: the activation layer's one option is required. */
const { absent: _linear, ...activationOption } = activationField('linear')

/** The activation layer's one option, required (no default, unlike dense's). */
const activationSchema = {
  activation: field<ActivationName | Activation, Activation, false>({ ...activationOption, optional: false }),
} as const

/** The Activation kind, taking its config as one object; {@link activation} takes the function first. @internal */
export const activationLayer: DefinedLayer<'Activation', typeof activationSchema, Empty, Empty> = defineLayer(
  {
    kind: 'Activation',
    fn: 'activation',
    config: activationSchema,
    build: ({ activation: a }) => ({ apply: (_params, _state, x) => a.fn(x) }),
  },
)

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
  return activationLayer({ ...opts, activation: fn })
}

/**
 * Options of the {@link leakyRelu} layer.
 * @category Layers
 */
export interface LeakyReluOptions extends NameOption {
  /** Slope for `x < 0`. Default 0.3, as the tf.keras 2.x `LeakyReLU` layer. */
  readonly alpha?: number
}

/** leakyRelu's one option: the negative slope, 0.3 by default (saved too). */
const leakyReluSchema = { alpha: jsonField('number', { default: 0.3 }) } as const

// the options leakyRelu takes are the schema's
const _options: (o: LeakyReluOptions) => unknown = (o) => leakyRelu(o)

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
export const leakyRelu: DefinedLayer<'LeakyReLU', typeof leakyReluSchema, Empty, Empty> = defineLayer({
  kind: 'LeakyReLU',
  fn: 'leakyRelu',
  config: leakyReluSchema,
  build: ({ alpha }) => ({ apply: (_params, _state, x) => leakyReluOp(x, alpha) }),
})
