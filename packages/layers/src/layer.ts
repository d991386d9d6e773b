import type { Key, Tensor, Tree, TreeOf } from '@purenn/tensor'

/**
 * A shape without its batch axis, as Keras' `input_shape`: `[28, 28]` for Fashion-MNIST
 * images. Output shapes are given the same way; `summary` prints them as `(None, ...)`.
 * @category Layers
 */
export type Shape = readonly number[]

/**
 * Plain JSON: what a layer's `config` and a saved model's architecture are made of.
 * @category Layers
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/**
 * How a layer runs on one call. Passed on every call, never fixed at construction nor set
 * globally.
 * @category Layers
 */
export interface ApplyOptions {
  /**
   * Training mode: batch normalization uses (and updates) batch statistics, dropout drops
   * units. `predict` and `evaluate` run with `training: false`.
   */
  readonly training: boolean
  /** The PRNG key of this call: needed by layers that draw randomness (dropout). */
  readonly key?: Key
  /**
   * Whether dropout layers drop units; defaults to `training`. `{ training: false, dropout:
   * true }` is Monte Carlo dropout on a model that also has batch normalization: dropout
   * stays stochastic while batch norm uses its moving statistics (Keras needs a subclass).
   */
  readonly dropout?: boolean
  /**
   * The trainable mask of this layer's params (or `false` for a frozen layer); defaults to
   * `true`. A frozen batch-normalization layer runs in inference mode even when training,
   * as in Keras.
   */
  readonly trainable?: TreeOf<boolean>
}

/**
 * What `init` returns: fresh trainable params, non-trainable state, and the output shape.
 * @category Layers
 */
export interface Init<P extends Tree, S extends Tree, O = Shape> {
  readonly params: P
  readonly state: S
  readonly outputShape: O
}

/**
 * What `apply` returns: the output and the (possibly updated) state.
 * @category Layers
 */
export interface Applied<S extends Tree, Y = Tensor> {
  readonly y: Y
  readonly state: S
}

/**
 * A layer is a pair of pure functions plus the plain data that rebuilds it (JAX's stax).
 *
 * @remarks
 * - `init(key, inputShape)` draws the initial params from `key` (same key, same weights)
 *   and returns the output shape, so a `sequential` can pass shapes forward.
 * - `apply(params, state, x, opts)` computes the output for a batch `x` (batch axis first)
 *   and returns the new state (batch normalization's moving statistics); it never mutates.
 * - `penalty(params)`, when present, is the regularization term the layer adds to the loss.
 * - `constrain(params)`, when present, projects the params onto the layer's weight
 *   constraints (`maxNorm`, `nonNeg`, ...); training calls it after each optimizer update.
 * - `kind` and `config` (plain JSON) fully describe the layer: `fromConfig` in
 *   `registry.ts` rebuilds it, which is how models are saved and cloned.
 * - `X` and `Y`, the input and output types, are a tensor for every layer a model holds
 *   directly; inside `serial`, the stax combinators `fanOut`/`parallel`/`fanInSum` pass lists
 *   of tensors ({@link Flow}) between them.
 *
 * @example
 * ```ts
 * import { dense } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const layer = dense({ units: 3 })
 * const { params, outputShape } = layer.init(key(0), [4])
 * console.log(layer.kind, params.kernel.shape, outputShape) // Dense [ 4, 3 ] [ 3 ]
 * ```
 * @category Layers
 */
export interface Layer<
  P extends Tree = Tree,
  S extends Tree = Tree,
  X extends Flow = Tensor,
  Y extends Flow = Tensor,
> {
  /** The Keras class name: `Dense`, `BatchNormalization`, `Sequential`, ... */
  readonly kind: string
  /** Everything needed to rebuild the layer, as plain JSON (includes `name` when given). */
  readonly config: { readonly [key: string]: Json }
  /** Creates params and state for inputs of shape `inputShape` (no batch axis). */
  init(key: Key, inputShape: ShapeOf<X>): Init<P, S, ShapeOf<Y>>
  /** Runs the layer on a batch. */
  apply(params: P, state: S, x: X, opts: ApplyOptions): Applied<S, Y>
  /** The regularization penalty of these params (a scalar), if the layer has regularizers. */
  penalty?(params: P): Tensor
  /**
   * The params projected onto the layer's weight constraints (`kernelConstraint`, ...), if
   * the layer has any: the training step calls it after every optimizer update.
   */
  constrain?(params: P): P
}

/**
 * What flows between layers: a tensor, or (between the stax combinators `fanOut`,
 * `parallel`, `fanInSum`, `fanInConcat`) a list of flows.
 *
 * @example
 * ```ts
 * import type { Flow } from '@purenn/layers'
 * import { ones } from '@purenn/tensor'
 * const pair: Flow = [ones([1, 2]), ones([1, 3])]
 * console.log(Array.isArray(pair)) // true
 * ```
 * @category Layers
 */
export type Flow = Tensor | readonly Flow[]

/**
 * The shape (without batch axis) of a flow: a {@link Shape} for a tensor, a list of shapes
 * for a list of tensors.
 *
 * @example
 * ```ts
 * import type { ShapeOf } from '@purenn/layers'
 * import type { Tensor } from '@purenn/tensor'
 * const shapes: ShapeOf<readonly Tensor[]> = [[2], [3]]
 * console.log(shapes.length) // 2
 * ```
 * @category Layers
 */
export type ShapeOf<X> = X extends Tensor
  ? Shape
  : X extends readonly (infer E)[]
    ? readonly ShapeOf<E>[]
    : FlowShape

/**
 * The shape of any flow: a shape or a list of flow shapes.
 *
 * @example
 * ```ts
 * import type { FlowShape } from '@purenn/layers'
 * const s: FlowShape = [[28, 28], [10]]
 * console.log(s.length) // 2
 * ```
 * @category Layers
 */
export type FlowShape = Shape | readonly FlowShape[]

/**
 * A layer of any flow types: what the combinators (`serial`, `parallel`, ...) take.
 * @category Layers
 */
// biome-ignore lint/suspicious/noExplicitAny: a combinator holds layers of different types
export type AnyBlock = Layer<any, any, any, any>

/**
 * A layer whose params and state are any trees: the type of a layer once it sits in a list.
 * @category Layers
 */
// biome-ignore lint/suspicious/noExplicitAny: a list holds layers of different param types
export type AnyLayer = Layer<any, any>

/**
 * The `name` every layer option object may carry (Keras' `name=`): the key of the layer's
 * params inside a `sequential`. Without it, names are given the Keras way.
 * @category Layers
 */
export interface NameOption {
  /** The layer's name inside its model; must be unique there. */
  readonly name?: string
}

/** The empty tree: params or state of a layer that has none. */
export type Empty = { readonly [key: string]: never }

/** The empty tree value. @internal */
export const empty: Empty = Object.freeze({}) as Empty
