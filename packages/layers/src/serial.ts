import { add, concat, ShapeError, scalar, split, type Tensor } from '@purenn/tensor'
import * as A from 'fp-ts/lib/Array.js'
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
  checkUnique,
  childNames,
  childOptions,
  childTree,
  type Tagged,
  tag,
} from './container.js'
import { decodeWith } from './internal/config.js'
import type { AnyBlock, Empty, Flow, FlowShape, Json, Layer, NameOption, Shape } from './layer.js'
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
export type Serial<L extends readonly AnyBlock[]> = Tagged<
  Container<ChildParams<L>, ChildState<L>, First<L>, Last<L>>,
  'Serial'
>

/**
 * What {@link parallel} returns: a container taking a list of flows, one per child.
 * @category Combinators
 */
export type Parallel<L extends readonly AnyBlock[]> = Tagged<
  Container<ChildParams<L>, ChildState<L>, Inputs<L>, Outputs<L>>,
  'Parallel'
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

const sumPenalties = (layers: readonly AnyBlock[], names: readonly string[]) => {
  if (!layers.some((l) => l.penalty !== undefined)) return {}
  return {
    penalty: (params: Children): Tensor =>
      layers.reduce<Tensor>(
        (s, l, i) => (l.penalty === undefined ? s : add(s, l.penalty(childTree(params, names[i]!)))),
        scalar(0),
      ),
  }
}

/** The children's constraints, each on its own part of the params (training projects after each update). */
const childConstraints = (layers: readonly AnyBlock[], names: readonly string[]) => {
  if (!layers.some((l) => l.constrain !== undefined)) return {}
  return {
    constrain: (params: Children): Children => {
      const out: Record<string, unknown> = { ...params }
      layers.forEach((l, i) => {
        const n = names[i]!
        if (l.constrain !== undefined) out[n] = l.constrain(childTree(params, n))
      })
      return out as Children
    },
  }
}

/**
 * The serial container of a kind (`Serial` or `Sequential`): children one after the other,
 * the key split once per child, shapes passed forward, state threaded through.
 * @internal
 */
export const serialOf = (
  kind: string,
  layers: readonly AnyBlock[],
  config: { [key: string]: Json },
): Container<Children, Children, Flow, Flow> => {
  const names = childNames(layers)
  checkUnique(kind === 'Sequential' ? 'sequential' : 'serial', names)
  checkDepth(kind === 'Sequential' ? 'sequential' : 'serial', layers)
  config.layers = layers.map((l) => ({ kind: l.kind, config: l.config }))
  return {
    kind,
    config,
    layers,
    names,
    wiring: 'serial',
    init: (key, inputShape) => {
      const keys = split(key, Math.max(layers.length, 1))
      const params: Record<string, unknown> = {}
      const state: Record<string, unknown> = {}
      let shape: FlowShape = inputShape
      layers.forEach((l, i) => {
        const r = l.init(keys[i]!, shape)
        params[names[i]!] = r.params
        state[names[i]!] = r.state
        shape = r.outputShape
      })
      return { params, state, outputShape: shape }
    },
    apply: (params, state, x, o) => {
      const opts = childOptions(o, names)
      const newState: Record<string, unknown> = {}
      let y: Flow = x
      layers.forEach((l, i) => {
        const n = names[i]!
        const r = l.apply(params[n], state[n], y, opts[i]!)
        y = r.y
        newState[n] = r.state
      })
      return { y, state: newState }
    },
    ...sumPenalties(layers, names),
    ...childConstraints(layers, names),
  }
}

const nameConfig = (opts: NameOption): { [key: string]: Json } =>
  opts.name === undefined ? {} : { name: opts.name }

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
 * `sequential` is this container plus a model name and an input shape. Name a `serial`
 * with {@link named}.
 *
 * @param layers - the children, in order
 * @returns the container (kind `Serial`)
 * @throws Error when two children share an explicit name.
 * @example
 * ```ts
 * import { dense, serial } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const mlp = serial(dense({ units: 4, activation: 'relu' }), dense({ units: 1 }))
 * const { params, outputShape } = mlp.init(key(0), [3])
 * console.log(mlp.names, params.dense_1.kernel.shape, outputShape) // [ 'dense', 'dense_1' ] [ 4, 1 ] [ 1 ]
 * ```
 * @category Combinators
 */
export const serial = <const L extends readonly AnyBlock[]>(...layers: L): Serial<L> =>
  tag<'Serial', never, Container<ChildParams<L>, ChildState<L>, First<L>, Last<L>>>(
    serialOf('Serial', layers, {}) as unknown as Container<ChildParams<L>, ChildState<L>, First<L>, Last<L>>,
  )

/**
 * Applies the i-th layer to the i-th input (stax's `parallel`): takes a list of flows, one
 * per child, and returns the list of their outputs.
 *
 * @remarks
 * Params and state are keyed by child name; the key is split once per child. Typically
 * between {@link fanOut} and {@link fanInSum} / {@link fanInConcat}.
 *
 * @param layers - one layer per input
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
export const parallel = <const L extends readonly AnyBlock[]>(...layers: L): Parallel<L> => {
  const names = childNames(layers)
  checkUnique('parallel', names)
  checkDepth('parallel', layers)
  const check = (where: string, n: number): void => {
    if (n !== layers.length)
      throw new ShapeError(`parallel.${where}: expected a list of ${layers.length} inputs, got ${n}`)
  }
  const layer: Container<Children, Children, Flow, Flow> = {
    kind: 'Parallel',
    config: { layers: layers.map((l) => ({ kind: l.kind, config: l.config })) },
    layers,
    names,
    wiring: 'parallel',
    init: (key, inputShape) => {
      if (!isShapeList(inputShape))
        throw new ShapeError(
          `parallel.init: expected a list of ${layers.length} input shapes, got ${showShape(inputShape)}`,
        )
      check('init', inputShape.length)
      const keys = split(key, Math.max(layers.length, 1))
      const params: Record<string, unknown> = {}
      const state: Record<string, unknown> = {}
      const outputShape = layers.map((l, i) => {
        const r = l.init(keys[i]!, inputShape[i]!)
        params[names[i]!] = r.params
        state[names[i]!] = r.state
        return r.outputShape as FlowShape
      })
      return { params, state, outputShape }
    },
    apply: (params, state, x, o) => {
      if (!Array.isArray(x))
        throw new ShapeError(`parallel.apply: expected a list of ${layers.length} inputs, got a tensor`)
      const xs = x as readonly Flow[]
      check('apply', xs.length)
      const opts = childOptions(o, names)
      const newState: Record<string, unknown> = {}
      const y = layers.map((l, i) => {
        const n = names[i]!
        const r = l.apply(params[n], state[n], xs[i]!, opts[i]!)
        newState[n] = r.state
        return r.y as Flow
      })
      return { y, state: newState }
    },
    ...sumPenalties(layers, names),
    ...childConstraints(layers, names),
  }
  return tag<'Parallel', never, Container<ChildParams<L>, ChildState<L>, Inputs<L>, Outputs<L>>>(
    layer as unknown as Container<ChildParams<L>, ChildState<L>, Inputs<L>, Outputs<L>>,
  )
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
): Tagged<Layer<Empty, Empty, Tensor, readonly Tensor[]>, 'FanOut', N> => {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`fanOut: n must be a positive integer, got ${n}`)
  return tag({
    kind: 'FanOut',
    config: { n, ...nameConfig(opts) },
    init: (_key, inputShape) => ({
      params: empty,
      state: empty,
      outputShape: Array.from({ length: n }, () => inputShape),
    }),
    apply: (_params, state, x) => ({ y: Array.from({ length: n }, () => x), state }),
  } satisfies Layer<Empty, Empty, Tensor, readonly Tensor[]>)
}

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
export const fanInSum = <const N extends string = never>(
  opts: NameOption & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty, readonly Tensor[], Tensor>, 'FanInSum', N> =>
  tag({
    kind: 'FanInSum',
    config: nameConfig(opts),
    init: (_key, inputShape) => {
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
    apply: (_params, state, x) => {
      if (!Array.isArray(x) || x.length === 0)
        throw new ShapeError('fanInSum: expected a non-empty list of tensors')
      return { y: x.slice(1).reduce((s: Tensor, t: Tensor) => add(s, t), x[0]!), state }
    },
  } satisfies Layer<Empty, Empty, readonly Tensor[], Tensor>)

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
export const fanInConcat = <const N extends string = never>(
  opts: FanInConcatOptions & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty, readonly Tensor[], Tensor>, 'FanInConcat', N> => {
  const axis = opts.axis ?? -1
  if (!Number.isInteger(axis)) throw new Error(`fanInConcat: axis must be an integer, got ${axis}`)
  const featureAxis = (rank: number): number => {
    const a = axis < 0 ? axis + rank + 1 : axis
    if (a < 1 || a > rank)
      throw new ShapeError(
        `fanInConcat: axis ${axis} is out of range (or the batch axis) for inputs of rank ${rank + 1}`,
      )
    return a
  }
  return tag({
    kind: 'FanInConcat',
    config: { axis, ...nameConfig(opts) },
    init: (_key, inputShape) => {
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
    apply: (_params, state, x) => {
      if (!Array.isArray(x) || x.length === 0)
        throw new ShapeError('fanInConcat: expected a non-empty list of tensors')
      return { y: concat(x, featureAxis(x[0]!.shape.length - 1)), state }
    },
  } satisfies Layer<Empty, Empty, readonly Tensor[], Tensor>)
}

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
export const identity = <const N extends string = never>(
  opts: NameOption & { readonly name?: N } = {},
): Tagged<Layer<Empty, Empty>, 'Identity', N> =>
  tag({
    kind: 'Identity',
    config: nameConfig(opts),
    init: (_key, inputShape) => ({ params: empty, state: empty, outputShape: inputShape }),
    apply: (_params, state, x) => ({ y: x, state }),
  } satisfies Layer<Empty, Empty>)

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
  checkDepth('residual', [block])
  const layer: Container<Children, Children, Tensor, Tensor> = {
    kind: 'Residual',
    config: { block: { kind: block.kind, config: block.config }, ...nameConfig(opts) },
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
const Name = t.partial({ name: t.string })
const nameOf = (c: { name?: string | undefined }): NameOption =>
  c.name === undefined ? {} : { name: c.name }
const build = <A>(kind: string, f: () => A): E.Either<string, A> =>
  E.tryCatch(f, (e) => `${kind} config: ${(e as Error).message}`)
const children = (layers: readonly { kind: string; config: unknown }[], child: ChildFromConfig) =>
  pipe(
    layers.map((spec, i) => child(spec, `layers[${i}]`)),
    A.sequence(E.Applicative),
  )

/** Rebuilds a `Serial` container. @internal */
export const serialFromConfig = (u: unknown, child: ChildFromConfig): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(t.intersection([t.type({ layers: t.array(Spec) }), Name]), 'Serial config')(u),
    E.chain((c) =>
      pipe(
        children(c.layers, child),
        E.chain((ls) =>
          build('Serial', () => (c.name === undefined ? serial(...ls) : named(c.name, serial(...ls)))),
        ),
      ),
    ),
  )

/** Rebuilds a `Parallel` container. @internal */
export const parallelFromConfig = (u: unknown, child: ChildFromConfig): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(t.intersection([t.type({ layers: t.array(Spec) }), Name]), 'Parallel config')(u),
    E.chain((c) =>
      pipe(
        children(c.layers, child),
        E.chain((ls) =>
          build('Parallel', () => (c.name === undefined ? parallel(...ls) : named(c.name, parallel(...ls)))),
        ),
      ),
    ),
  )

/** Rebuilds a `Residual` container. @internal */
export const residualFromConfig = (u: unknown, child: ChildFromConfig): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(t.intersection([t.type({ block: Spec }), Name]), 'Residual config')(u),
    E.chain((c) =>
      pipe(
        child(c.block, 'block'),
        E.chain((b) => build('Residual', () => residual(b, nameOf(c)))),
      ),
    ),
  )

/** Rebuilds a `FanOut` layer. @internal */
export const fanOutFromConfig = (u: unknown): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(t.intersection([t.type({ n: t.number }), Name]), 'FanOut config')(u),
    E.chain((c) => build('FanOut', () => fanOut(c.n, nameOf(c)))),
  )

/** Rebuilds a `FanInSum` layer. @internal */
export const fanInSumFromConfig = (u: unknown): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(Name, 'FanInSum config')(u),
    E.map((c) => fanInSum(nameOf(c))),
  )

/** Rebuilds a `FanInConcat` layer. @internal */
export const fanInConcatFromConfig = (u: unknown): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(t.intersection([t.partial({ axis: t.number }), Name]), 'FanInConcat config')(u),
    E.chain((c) =>
      build('FanInConcat', () =>
        fanInConcat({ ...(c.axis === undefined ? {} : { axis: c.axis }), ...nameOf(c) }),
      ),
    ),
  )

/** Rebuilds an `Identity` layer. @internal */
export const identityFromConfig = (u: unknown): E.Either<string, AnyBlock> =>
  pipe(
    decodeWith(Name, 'Identity config')(u),
    E.map((c) => identity(nameOf(c))),
  )
