import { add, concat, ShapeError, type Tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import {
  type BlockInput,
  type BlockOutput,
  type BlockParams,
  type BlockState,
  type ChildParams,
  type Children,
  type ChildState,
  type Container,
  checkDepth,
  type Tagged,
  tag,
} from './container.js'
import { containerKind, type DefinedLayer, defineLayer, type FlowContainerBody } from './define.js'
import { jsonField } from './fields.js'
import { decodeWith } from './internal/config.js'
import { positive } from './internal/fields.js'
import type { AnyBlock, Empty, Flow, FlowShape, Layer, NameOption, Shape } from './layer.js'
import { empty } from './layer.js'

// Stax's combinators (Bradbury et al., JAX `example_libraries/stax.py`) with Keras names and
// semantics: each is an init/apply pair; containers key their children's params by name.

// ---------------------------------------------------------------------------------------
// Types

type First<L extends readonly unknown[]> = L extends readonly [infer F, ...unknown[]] ? BlockInput<F> : Tensor
type Last<L extends readonly unknown[]> = L extends readonly [...unknown[], infer T] ? BlockOutput<T> : Tensor
type Inputs<L extends readonly unknown[]> = { readonly [I in keyof L]: BlockInput<L[I]> }
type Outputs<L extends readonly unknown[]> = { readonly [I in keyof L]: BlockOutput<L[I]> }

/**
 * What {@link serial} returns: a container whose params are keyed by child name.
 * @category Combinators
 */
export type Serial<L extends readonly AnyBlock[], N extends string = never> = Tagged<
  Container<ChildParams<L>, ChildState<L>, First<L>, Last<L>>,
  'Serial',
  N
>

/**
 * What {@link parallel} returns: a container taking a list of flows, one per child.
 * @category Combinators
 */
export type Parallel<L extends readonly AnyBlock[], N extends string = never> = Tagged<
  Container<ChildParams<L>, ChildState<L>, Inputs<L>, Outputs<L>>,
  'Parallel',
  N
>

/**
 * What {@link residual} returns: `x + block(x)`, with the block's params as its own.
 * @category Combinators
 */
export type Residual<L extends AnyBlock> = Tagged<
  Container<BlockParams<L>, BlockState<L>, Tensor, Tensor>,
  'Residual'
>

/**
 * Options of {@link fanInConcat}.
 * @category Combinators
 */
export interface FanInConcatOptions extends NameOption {
  /** Axis of the batched tensors along which to join, Keras' `Concatenate(axis)`. Default -1. */
  readonly axis?: number
}

// ---------------------------------------------------------------------------------------
// Helpers

const isShapeList = (s: FlowShape): s is readonly FlowShape[] => s.length > 0 && Array.isArray(s[0])
const showShape = (s: FlowShape): string =>
  isShapeList(s) ? `[${s.map(showShape).join(', ')}]` : `[${(s as Shape).join(',')}]`

/** Splits a combinator's arguments into its options (an optional first object that is not a layer) and its layers. */
const optionsAndLayers = (args: readonly unknown[]): [NameOption, readonly AnyBlock[]] => {
  const first = args[0] as { init?: unknown } | undefined
  return typeof first === 'object' &&
    first !== null &&
    !Array.isArray(first) &&
    typeof first.init !== 'function'
    ? [first as NameOption, args.slice(1) as AnyBlock[]]
    : [{}, args as AnyBlock[]]
}

/** The wiring of `serial` and `sequential`: each child's output is the next one's input. */
const chain = (_config: unknown, children: readonly AnyBlock[]): FlowContainerBody => ({
  init: (inputShape, initChild) => children.reduce((shape, _l, i) => initChild(i, shape), inputShape),
  apply: (x, run) => children.reduce((y, _l, i) => run(i, y), x),
})

/**
 * The `Serial` kind: `serial` is its factory with the layers as arguments. Saved configs keep
 * their key order (`layers`, then `name`).
 * @internal
 */
export const serialKind = containerKind(
  { kind: 'Serial', config: {}, build: chain },
  { fn: 'serial', wiring: 'serial', flows: true, order: ['layers', 'name'] },
)

/**
 * The `Sequential` kind: a serial container with a model name (saved first) and an optional
 * declared input shape (saved after the layers), both also fields of the layer.
 * @internal
 */
export const sequentialKind = containerKind(
  { kind: 'Sequential', config: { name: 'string', inputShape: 'number[]?' }, build: chain },
  {
    fn: 'sequential',
    wiring: 'serial',
    flows: true,
    order: ['name', 'layers', 'inputShape'],
    finish: (layer, c) => ({
      ...layer,
      name: c.name,
      ...(c.inputShape === undefined ? {} : { inputShape: c.inputShape }),
    }),
  },
)

/**
 * The `Parallel` kind: child `i` runs on input `i`.
 * @internal
 */
export const parallelKind = containerKind(
  {
    kind: 'Parallel',
    config: {},
    build: (_config, children): FlowContainerBody => {
      const check = (where: string, n: number): void => {
        if (n !== children.length)
          throw new ShapeError(`parallel.${where}: expected a list of ${children.length} inputs, got ${n}`)
      }
      return {
        init: (inputShape, initChild) => {
          if (!isShapeList(inputShape))
            throw new ShapeError(
              `parallel.init: expected a list of ${children.length} input shapes, got ${showShape(inputShape)}`,
            )
          check('init', inputShape.length)
          return children.map((_l, i) => initChild(i, inputShape[i]!))
        },
        apply: (x, run) => {
          if (!Array.isArray(x))
            throw new ShapeError(`parallel.apply: expected a list of ${children.length} inputs, got a tensor`)
          const xs = x as readonly Flow[]
          check('apply', xs.length)
          return children.map((_l, i) => run(i, xs[i]!))
        },
      }
    },
  },
  { fn: 'parallel', wiring: 'parallel', flows: true, order: ['layers', 'name'] },
)

const fanOutSchema = { n: jsonField('number', { check: positive }) } as const
const fanInConcatSchema = {
  axis: jsonField('number', {
    default: -1,
    check: (a) => (Number.isInteger(a) ? undefined : `must be an integer, got ${a}`),
  }),
} as const

// ---------------------------------------------------------------------------------------
// Constructors

/**
 * Chains layers: the output of each is the input of the next (stax's `serial`, Keras'
 * `Sequential` without the model around it).
 *
 * @remarks
 * `init` splits the key once per child and passes shapes forward; params and state are keyed
 * by child name, Keras style (`dense`, `dense_1`, ...; an explicit `name` is kept), and typed
 * by the compiler: `params.dense_1.kernel` is checked. `apply` splits its key once per child
 * and threads the state through; a child's part of the `trainable` mask is passed down. The
 * flow between children may be a list of tensors (after {@link fanOut}), as in stax.
 * `sequential` is this container plus a model name and an input shape. A first argument
 * `{ name }` names it, as Keras' `Sequential(name=...)`: the name is its key inside a container
 * (typed: `params.block1.dense.kernel`) and its `Model: "..."` in `summary`; {@link named}
 * does the same for any layer. The children are rebuilt from a saved config by the same
 * machinery as a {@link defineContainer} layer's.
 *
 * @param layers - the children, in order, optionally after `{ name }`
 * @returns the container (kind `Serial`)
 * @throws Error when two children share an explicit name.
 * @example
 * ```ts
 * import { dense, serial } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const mlp = serial(dense({ units: 4, activation: 'relu' }), dense({ units: 1 }))
 * const { params, outputShape } = mlp.init(key(0), [3])
 * console.log(mlp.names, params.dense_1.kernel.shape, outputShape) // [ 'dense', 'dense_1' ] [ 4, 1 ] [ 1 ]
 * const model = serial(serial({ name: 'block1' }, dense({ units: 2 })), dense({ units: 1 }))
 * console.log(model.names, model.init(key(0), [3]).params.block1.dense.kernel.shape) // [ 'block1', 'dense' ] [ 3, 2 ]
 * ```
 * @category Combinators
 */
export function serial<const L extends readonly AnyBlock[]>(...layers: L): Serial<L>
export function serial<const N extends string, const L extends readonly AnyBlock[]>(
  opts: NameOption & { readonly name: N },
  ...layers: L
): Serial<L, N>
export function serial(...args: readonly unknown[]): AnyBlock {
  const [opts, layers] = optionsAndLayers(args)
  return serialKind(opts, layers)
}

/**
 * Applies the i-th layer to the i-th input (stax's `parallel`): takes a list of flows, one
 * per child, and returns the list of their outputs.
 *
 * @remarks
 * Params and state are keyed by child name; the key is split once per child. Typically
 * between {@link fanOut} and {@link fanInSum} / {@link fanInConcat}. A first argument
 * `{ name }` names it, as for {@link serial}.
 *
 * @param layers - one layer per input, optionally after `{ name }`
 * @returns the container (kind `Parallel`)
 * @throws Error when two children share an explicit name; at `init` or `apply` when the
 *   input is not a list of as many flows as there are children.
 * @example
 * ```ts
 * import { dense, fanInConcat, fanOut, identity, parallel, serial } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const wide = serial(fanOut(2), parallel(dense({ units: 3 }), identity()), fanInConcat())
 * console.log(wide.init(key(0), [2]).outputShape) // [ 5 ]
 * ```
 * @category Combinators
 */
export function parallel<const L extends readonly AnyBlock[]>(...layers: L): Parallel<L>
export function parallel<const N extends string, const L extends readonly AnyBlock[]>(
  opts: NameOption & { readonly name: N },
  ...layers: L
): Parallel<L, N>
export function parallel(...args: readonly unknown[]): AnyBlock {
  const [opts, layers] = optionsAndLayers(args)
  return parallelKind(opts, layers)
}

/**
 * Copies its input `n` times (stax's `FanOut`): the start of a branch.
 *
 * @param n - the number of copies (a positive integer)
 * @param opts - `{ name? }`
 * @returns a layer without weights (kind `FanOut`) from a flow to a list of `n` flows
 * @throws Error when `n` is not a positive integer
 * @example
 * ```ts
 * import { fanOut } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const f = fanOut(2)
 * console.log(f.init(key(0), [3]).outputShape, f.apply({}, {}, ones([1, 3]), { training: false }).y.length) // [ [ 3 ], [ 3 ] ] 2
 * ```
 * @category Combinators
 */
export const fanOut = <const N extends string = never>(
  n: number,
  opts: NameOption & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty, Tensor, readonly Tensor[]>, 'FanOut', N> => fanOutKind({ ...opts, n })

/**
 * The `FanOut` kind: {@link fanOut} is its factory with `n` as first argument.
 * @internal
 */
export const fanOutKind: DefinedLayer<
  'FanOut',
  typeof fanOutSchema,
  Empty,
  Empty,
  Tensor,
  readonly Tensor[]
> = defineLayer({
  kind: 'FanOut',
  fn: 'fanOut',
  config: fanOutSchema,
  build: ({ n }) => ({
    init: (_key, inputShape: Shape) => ({
      params: empty,
      state: empty,
      outputShape: Array.from({ length: n }, () => inputShape),
    }),
    apply: (_params, _state, x: Tensor) => Array.from({ length: n }, () => x),
  }),
})

/**
 * Sums a list of tensors of one shape (stax's `FanInSum`, Keras' `Add`).
 *
 * @param opts - `{ name? }`
 * @returns a layer without weights (kind `FanInSum`) from a list of tensors to a tensor
 * @throws ShapeError (at `init`) naming the shapes when they differ
 * @example
 * ```ts
 * import { fanInSum } from '@purenn/layers'
 * import { ones } from '@purenn/tensor'
 * console.log(fanInSum().apply({}, {}, [ones([1, 2]), ones([1, 2])], { training: false }).y.toString()) // tensor([[2, 2]])
 * ```
 * @category Combinators
 */
// biome-ignore lint/complexity/noBannedTypes: the empty schema
export const fanInSum: DefinedLayer<'FanInSum', {}, Empty, Empty, readonly Tensor[], Tensor> = defineLayer({
  kind: 'FanInSum',
  fn: 'fanInSum',
  config: {},
  build: () => ({
    init: (_key, inputShape: readonly Shape[]) => {
      const shapes = inputShape as readonly FlowShape[]
      if (!isShapeList(shapes as FlowShape) || shapes.some(isShapeList))
        throw new ShapeError(
          `fanInSum: expected a list of tensor shapes, got ${showShape(shapes as FlowShape)}`,
        )
      const first = showShape(shapes[0]!)
      if (shapes.some((s) => showShape(s) !== first))
        throw new ShapeError(`fanInSum: inputs must have one shape, got ${shapes.map(showShape).join(', ')}`)
      return { params: empty, state: empty, outputShape: shapes[0] as Shape }
    },
    apply: (_params, _state, x: readonly Tensor[]) => {
      if (!Array.isArray(x) || x.length === 0)
        throw new ShapeError('fanInSum: expected a non-empty list of tensors')
      return x.slice(1).reduce((s: Tensor, t: Tensor) => add(s, t), x[0]!)
    },
  }),
})

/**
 * Joins a list of tensors along an axis (stax's `FanInConcat`, Keras' `Concatenate`).
 *
 * @remarks
 * `axis` counts the batch axis, as in Keras: the default -1 is the last feature axis; axis 0
 * (the batch) is refused. All other axes must agree.
 *
 * @param opts - `{ axis?, name? }`
 * @returns a layer without weights (kind `FanInConcat`) from a list of tensors to a tensor
 * @throws ShapeError (at `init`) naming the shapes when they cannot be joined
 * @example
 * ```ts
 * import { fanInConcat } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * console.log(fanInConcat().init(key(0), [[4, 2], [4, 3]]).outputShape) // [ 4, 5 ]
 * ```
 * @category Combinators
 */
export const fanInConcat: DefinedLayer<
  'FanInConcat',
  typeof fanInConcatSchema,
  Empty,
  Empty,
  readonly Tensor[],
  Tensor
> = defineLayer({
  kind: 'FanInConcat',
  fn: 'fanInConcat',
  config: fanInConcatSchema,
  build: ({ axis }) => {
    const featureAxis = (rank: number): number => {
      const a = axis < 0 ? axis + rank + 1 : axis
      if (a < 1 || a > rank)
        throw new ShapeError(
          `fanInConcat: axis ${axis} is out of range (or the batch axis) for inputs of rank ${rank + 1}`,
        )
      return a
    }
    return {
      init: (_key, inputShape: readonly Shape[]) => {
        const shapes = inputShape as readonly FlowShape[]
        if (!isShapeList(shapes as FlowShape) || shapes.some(isShapeList))
          throw new ShapeError(
            `fanInConcat: expected a list of tensor shapes, got ${showShape(shapes as FlowShape)}`,
          )
        const ss = shapes as readonly Shape[]
        const rank = ss[0]!.length
        const a = featureAxis(rank) - 1
        const fits = ss.every((s) => s.length === rank && s.every((d, i) => i === a || d === ss[0]![i]))
        if (!fits)
          throw new ShapeError(
            `fanInConcat: inputs must agree except on axis ${axis}, got ${ss.map(showShape).join(', ')}`,
          )
        const out = [...ss[0]!]
        out[a] = ss.reduce((s, x) => s + x[a]!, 0)
        return { params: empty, state: empty, outputShape: out }
      },
      apply: (_params, _state, x: readonly Tensor[]) => {
        if (!Array.isArray(x) || x.length === 0)
          throw new ShapeError('fanInConcat: expected a non-empty list of tensors')
        return concat(x, featureAxis(x[0]!.shape.length - 1))
      },
    }
  },
})

/**
 * Returns its input (stax's `Identity`): the skip branch of a residual connection.
 *
 * @param opts - `{ name? }`
 * @returns a layer without weights (kind `Identity`)
 * @example
 * ```ts
 * import { identity } from '@purenn/layers'
 * import { ones } from '@purenn/tensor'
 * const x = ones([1, 2])
 * console.log(identity().apply({}, {}, x, { training: false }).y === x) // true
 * ```
 * @category Combinators
 */
// biome-ignore lint/complexity/noBannedTypes: the empty schema
export const identity: DefinedLayer<'Identity', {}, Empty, Empty> = defineLayer({
  kind: 'Identity',
  fn: 'identity',
  config: {},
  build: () => ({ apply: (_params, _state, x) => x }),
})

/**
 * A skip connection: `y = x + block(x)` (He et al. 2016), i.e. fan-out → (block ‖ identity)
 * → sum, as one container.
 *
 * @remarks
 * The block's params and state are the residual's own (no extra level), so a block named
 * `block1` holding a dense layer has the weight path `block1.dense.kernel` and the freeze
 * path `'block1/dense'`. The block must keep the shape of its input (`init` checks it).
 *
 * @param block - any layer (usually a `serial`) that keeps the shape of its input
 * @param opts - `{ name? }`
 * @returns the container (kind `Residual`)
 * @throws ShapeError (at `init`) when the block changes the shape
 * @example
 * ```ts
 * import { dense, residual, serial } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const r = residual(serial(dense({ units: 2, kernelInitializer: 'ones' })))
 * const { params, state } = r.init(key(0), [2])
 * console.log(r.apply(params, state, ones([1, 2]), { training: false }).y.toString()) // tensor([[3, 3]])
 * ```
 * @category Combinators
 */
export const residual = <L extends AnyBlock, const N extends string = never>(
  block: L,
  opts: NameOption & { readonly name?: N } = {},
): Tagged<Residual<L>, 'Residual', N> => {
  // Not made by defineContainer's machinery, which keys each child's params by its name and
  // saves the children in `layers`: a residual's block has no name of its own (its params
  // ARE the residual's, so the weight path is `block1.dense.kernel`, not
  // `block1.<block>.dense.kernel`) and is saved as `block`. Fitting it in would change the
  // weight paths, freeze paths and saved files of every residual model.
  checkDepth('residual', [block])
  const layer: Container<Children, Children, Tensor, Tensor> = {
    kind: 'Residual',
    config: {
      block: { kind: block.kind, config: block.config },
      ...(opts.name === undefined ? {} : { name: opts.name }),
    },
    layers: [block],
    names: [''],
    wiring: 'residual',
    init: (key, inputShape) => {
      const r = block.init(key, inputShape)
      if (showShape(r.outputShape) !== showShape(inputShape))
        throw new ShapeError(
          `residual: the block (${block.kind}) maps ${showShape(inputShape)} to ${showShape(r.outputShape)}; it must keep the shape`,
        )
      return { params: r.params, state: r.state, outputShape: inputShape }
    },
    apply: (params, state, x, o) => {
      const r = block.apply(params, state, x, o)
      return { y: add(x, r.y), state: r.state }
    },
    ...(block.penalty === undefined ? {} : { penalty: (params: Children) => block.penalty!(params) }),
    ...(block.constrain === undefined ? {} : { constrain: (params: Children) => block.constrain!(params) }),
  }
  return tag(layer as unknown as Residual<L>)
}

/**
 * The layer with an explicit name (Keras' `name=`): its key inside a container, and its
 * type's name, so `serial(named('head', dense(...)))` has params typed `{ head: ... }`.
 *
 * @param name - the name
 * @param layer - any layer
 * @returns the same layer with `config.name` set
 * @example
 * ```ts
 * import { dense, named, residual, serial } from '@purenn/layers'
 * const model = serial(named('block1', residual(dense({ units: 2 }))), dense({ units: 1 }))
 * console.log(model.names) // [ 'block1', 'dense' ]
 * ```
 * @category Combinators
 */
export const named = <const N extends string, L extends AnyBlock>(
  name: N,
  layer: L,
): Omit<L, '~name'> & { readonly '~name'?: N } => ({
  ...layer,
  config: { ...layer.config, name },
})

// ---------------------------------------------------------------------------------------
// Rebuilding from configs

type ChildFromConfig = (spec: { kind: string; config: unknown }, where: string) => E.Either<string, AnyBlock>
const Spec = t.type({ kind: t.string, config: t.UnknownRecord })

/**
 * Rebuilds a `Residual` container. Residual is the one combinator not made by
 * `defineContainer`'s machinery (see {@link residual}), so its rebuilder is written out.
 * @internal
 */
export const residualFromConfig = (u: unknown, child: ChildFromConfig): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(
      t.intersection([t.type({ block: Spec }), t.partial({ name: t.string })]),
      'Residual config',
    )(u),
    E.chain((c) =>
      pipe(
        child(c.block, 'block'),
        E.chain((b) =>
          E.tryCatch(
            () => residual(b, c.name === undefined ? {} : { name: c.name }),
            (e) => `Residual config: ${(e as Error).message}`,
          ),
        ),
      ),
    ),
  )
