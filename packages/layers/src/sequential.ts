import type { Tree } from '@purenn/tensor'
import type { ChildParams, Children, ChildState, Container, Tagged } from './container.js'
import { checkOptions } from './internal/config.js'
import type { AnyLayer, Shape } from './layer.js'
import { sequentialKind } from './serial.js'

export { childNames, snakeCase } from './container.js'

/**
 * Options of {@link sequential}.
 * @category Layers
 */
export interface SequentialOptions {
  /** Shape of one input, without the batch axis (Keras' `input_shape`), e.g. `[28, 28]`. */
  readonly inputShape?: Shape
  /** Model name shown by `summary`. Default `'sequential'`. */
  readonly name?: string
}

/**
 * A layer made of layers applied one after the other: a {@link serial} container with a
 * model name and an optional declared input shape. It keeps its children and their names so
 * models can be sliced, extended and summarized; its params are typed by child name when
 * every child's kind is known to the compiler (`params.dense_1.kernel`).
 * @category Layers
 */
export interface Sequential<P extends Tree = Children, S extends Tree = Children> extends Container<P, S> {
  readonly kind: 'Sequential'
  /** The model name. */
  readonly name: string
  /** The declared input shape, if any. */
  readonly inputShape?: Shape
}

/**
 * Chains layers: the output of each is the input of the next (Keras' `Sequential`).
 *
 * @remarks
 * Built on {@link serial}: `init` splits the key once per child and passes shapes forward;
 * params and state are keyed by child name (`{ dense: { kernel, bias },
 * batch_normalization: {...} }`), and the compiler knows these names: a misspelt
 * `params.dens_1` does not compile. `apply` splits its key (when given) once per child and
 * threads the state through, so batch-norm layers return their new moving statistics; a
 * child's part of the `trainable` mask is passed down. The penalty is the sum of the
 * children's penalties; `constrain`
 * projects each child's params with the child's own `constrain`.
 *
 * @throws Error when two children share an explicit name.
 * @example
 * ```ts
 * import { dense, flatten, sequential } from '@purenn/layers'
 * const model = sequential([flatten(), dense({ units: 300, activation: 'relu' }), dense({ units: 10 })], {
 *   inputShape: [28, 28],
 * })
 * console.log(model.names) // [ 'flatten', 'dense', 'dense_1' ]
 * ```
 * @category Layers
 */
export const sequential = <const L extends readonly AnyLayer[], const N extends string = never>(
  layers: L,
  opts: SequentialOptions & { readonly name?: N } = {},
): Tagged<Sequential<ChildParams<L>, ChildState<L>>, 'Sequential', N> => {
  checkOptions('sequential', opts, ['inputShape', 'name'])
  return sequentialKind(
    {
      name: opts.name ?? 'sequential',
      ...(opts.inputShape === undefined ? {} : { inputShape: opts.inputShape }),
    },
    layers,
  ) as unknown as Tagged<Sequential<ChildParams<L>, ChildState<L>>, 'Sequential', N>
}
