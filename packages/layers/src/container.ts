import { type Key, split, type Tensor, type Tree, type TreeOf } from '@purenn/tensor'
import type { AnyBlock, ApplyOptions, Flow, Layer } from './layer.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * Params or state of a container: one entry per child, keyed by the child's name.
 * @category Layers
 */
// biome-ignore lint/suspicious/noExplicitAny: each child has its own tree type
export type Children = { readonly [name: string]: any }

/**
 * How a container wires its children: one after the other (`serial`, `sequential`), one per
 * input (`parallel`), `x + block(x)` (`residual`, whose one child's params are its own), or
 * any way its own `apply` says (`defineContainer`).
 * @category Layers
 */
export type Wiring = 'serial' | 'parallel' | 'residual' | 'custom'

/**
 * A layer made of layers. Its params and state hold one entry per child, keyed by the
 * child's name (except `residual`, whose child's params are its own: its one name is `''`),
 * which is how weights, `freeze` paths (`'block1/dense'`), `summary` and save/load find
 * their way through nested models.
 *
 * @example
 * ```ts
 * import { dense, isContainer, serial } from '@purenn/layers'
 * const s = serial(dense({ units: 3 }), dense({ units: 1 }))
 * console.log(isContainer(s), s.names, s.wiring) // true [ 'dense', 'dense_1' ] serial
 * ```
 * @category Layers
 */
export interface Container<
  P extends Tree = Children,
  S extends Tree = Children,
  X extends Flow = Tensor,
  Y extends Flow = Tensor,
> extends Layer<P, S, X, Y> {
  /** The children, in order. */
  readonly layers: readonly AnyBlock[]
  /** The children's names, Keras style: `dense`, `dense_1`, `batch_normalization`, ... */
  readonly names: readonly string[]
  /** How the children are wired. */
  readonly wiring: Wiring
}

/**
 * A layer type with its kind, and its explicit name when it has one, known to the
 * compiler: what lets `serial` and `sequential` type their params by child name.
 * @category Layers
 */
export type Tagged<L, K extends string, N extends string = never> = L & {
  readonly kind: K
  /** The explicit name's type (`never` without one); no such field exists at run time. */
  readonly '~name'?: N
}

// ---------------------------------------------------------------------------------------
// Type-level names (Keras' naming, run by the compiler)

type Upper =
  | 'A'
  | 'B'
  | 'C'
  | 'D'
  | 'E'
  | 'F'
  | 'G'
  | 'H'
  | 'I'
  | 'J'
  | 'K'
  | 'L'
  | 'M'
  | 'N'
  | 'O'
  | 'P'
  | 'Q'
  | 'R'
  | 'S'
  | 'T'
  | 'U'
  | 'V'
  | 'W'
  | 'X'
  | 'Y'
  | 'Z'
type LowerOrDigit = Lowercase<Upper> | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9'

/**
 * The deepest nesting of containers a model may have (a plain layer is 1 deep, a `serial` of
 * plain layers 2). Containers check it when they are built, in code or from a saved file, so
 * a model that can be built can be saved and loaded back (its `model.json` stays within the
 * loader's 100 levels of JSON) and no walk over it can overflow the stack.
 * @internal
 */
export const MAX_LAYER_DEPTH = 24

/** How deep `layer` nests (walked without recursion; counting stops past the limit). */
const depthOf = (layer: AnyBlock): number => {
  let deepest = 0
  const stack: [AnyBlock, number][] = [[layer, 1]]
  while (stack.length > 0 && deepest <= MAX_LAYER_DEPTH) {
    const [l, d] = stack.pop()!
    deepest = Math.max(deepest, d)
    if (isContainer(l)) for (const child of l.layers) stack.push([child, d + 1])
  }
  return deepest
}

/**
 * Throws when a container of `layers` would nest more than {@link MAX_LAYER_DEPTH} deep.
 * @internal
 */
export const checkDepth = (fn: string, layers: readonly AnyBlock[]): void => {
  const depth = 1 + layers.reduce((d, l) => Math.max(d, depthOf(l)), 0)
  if (depth > MAX_LAYER_DEPTH)
    throw new Error(
      `${fn}: layers nested ${depth} deep, more than the limit of ${MAX_LAYER_DEPTH} (a deeper model could not be saved and loaded back)`,
    )
}

/**
 * Keras' `to_snake_case` of a kind, at the type level: `BatchNormalization` →
 * `batch_normalization`, `LeakyReLU` → `leaky_re_lu`, `Conv2D` → `conv2d`.
 * @category Layers
 */
export type SnakeCase<S extends string, Prev extends string = ''> = S extends `${infer C}${infer Rest}`
  ? `${C extends Upper
      ? Prev extends ''
        ? ''
        : Rest extends `${LowerOrDigit}${string}`
          ? '_'
          : Prev extends Lowercase<Upper>
            ? '_'
            : ''
      : ''}${Lowercase<C>}${SnakeCase<Rest, C>}`
  : ''

type KindOf<L> = L extends { readonly kind: infer K extends string } ? K : string
type ExplicitName<L> = L extends { readonly '~name'?: infer N extends string } ? N : never
type AutoName<B extends string, Taken extends string, C extends unknown[] = []> = C['length'] extends 64
  ? never
  : (C['length'] extends 0 ? B : `${B}_${C['length']}`) extends infer Cand extends string
    ? Cand extends Taken
      ? AutoName<B, Taken, [...C, 0]>
      : Cand
    : never
type NamesOf<
  L extends readonly unknown[],
  Taken extends string,
  Out extends readonly string[] = [],
> = L extends readonly [infer H, ...infer T]
  ? [ExplicitName<H>] extends [never]
    ? AutoName<SnakeCase<KindOf<H>>, Taken> extends infer N extends string
      ? NamesOf<T, Taken | N, [...Out, N]>
      : never
    : NamesOf<T, Taken, [...Out, ExplicitName<H>]>
  : Out
type AllKindsKnown<L extends readonly unknown[]> = L extends readonly [infer H, ...infer T]
  ? string extends KindOf<H>
    ? false
    : string extends ExplicitName<H>
      ? false
      : AllKindsKnown<T>
  : L extends readonly []
    ? true
    : false

/**
 * The names a list of layers gets inside a container, computed by the compiler as Keras
 * does at run time: `[flatten, dense, dense_1]`.
 * @category Layers
 */
export type ChildNames<L extends readonly unknown[]> = NamesOf<L, ExplicitNames<L>>
type ExplicitNames<L extends readonly unknown[]> = L extends readonly [infer H, ...infer T]
  ? ExplicitName<H> | ExplicitNames<T>
  : never

/** The params of a layer type. @category Layers */
export type BlockParams<L> = L extends Layer<infer P, infer _S, infer _X, infer _Y> ? P : never
/** The state of a layer type. @category Layers */
export type BlockState<L> = L extends Layer<infer _P, infer S, infer _X, infer _Y> ? S : never
/** The input type of a layer type. @category Layers */
export type BlockInput<L> = L extends Layer<infer _P, infer _S, infer X, infer _Y> ? X : never
/** The output type of a layer type. @category Layers */
export type BlockOutput<L> = L extends Layer<infer _P, infer _S, infer _X, infer Y> ? Y : never

type ByName<L extends readonly unknown[], F extends 'params' | 'state'> = {
  readonly [I in keyof L as I extends `${number}`
    ? ChildNames<L>[I & keyof ChildNames<L>] & string
    : never]: F extends 'params' ? BlockParams<L[I]> : BlockState<L[I]>
}

/**
 * The params tree of a container of the layers `L`, keyed by child name: typed when every
 * layer's kind is known to the compiler (the built-in layers, `defineLayer` layers and the
 * combinators), so `params.dense_1.kernel` is checked; otherwise {@link Children}.
 * @category Layers
 */
export type ChildParams<L extends readonly unknown[]> =
  AllKindsKnown<L> extends true ? ByName<L, 'params'> : Children

/** The state tree of a container of the layers `L` (see {@link ChildParams}). @category Layers */
export type ChildState<L extends readonly unknown[]> =
  AllKindsKnown<L> extends true ? ByName<L, 'state'> : Children

// ---------------------------------------------------------------------------------------
// Functions

/**
 * Whether a layer is a container (`serial`, `sequential`, `parallel`, `residual`, or a
 * `defineContainer` layer): one that lists its children and their names.
 *
 * @param layer - any layer
 * @returns true when the layer carries `layers`, `names` and `wiring`
 * @example
 * ```ts
 * import { dense, isContainer, residual } from '@purenn/layers'
 * console.log(isContainer(residual(dense({ units: 2 }))), isContainer(dense({ units: 2 }))) // true false
 * ```
 * @category Layers
 */
export const isContainer = (layer: AnyBlock): layer is Container<Children, Children, Flow, Flow> =>
  Array.isArray((layer as { layers?: unknown }).layers) &&
  Array.isArray((layer as { names?: unknown }).names) &&
  typeof (layer as { wiring?: unknown }).wiring === 'string'

/**
 * Keras' `to_snake_case` of a class name: `Dense` → `dense`, `BatchNormalization` →
 * `batch_normalization`, `LeakyReLU` → `leaky_re_lu`.
 * @internal
 */
export const snakeCase = (kind: string): string =>
  kind
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()

/**
 * Names children the Keras way: an explicit `config.name` is kept; otherwise the snake-case
 * kind, with `_1`, `_2`, ... for the second and later layers of a kind.
 * @internal
 */
export const childNames = (layers: readonly AnyBlock[]): string[] => {
  const used = new Set(layers.flatMap((l) => (typeof l.config.name === 'string' ? [l.config.name] : [])))
  const counts = new Map<string, number>()
  return layers.map((l) => {
    if (typeof l.config.name === 'string') return l.config.name
    const base = snakeCase(l.kind)
    for (;;) {
      const n = counts.get(base) ?? 0
      counts.set(base, n + 1)
      const candidate = n === 0 ? base : `${base}_${n}`
      if (!used.has(candidate)) {
        used.add(candidate)
        return candidate
      }
    }
  })
}

/** Throws when two children share a name. @internal */
export const checkUnique = (fn: string, names: readonly string[]): void => {
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined) throw new Error(`${fn}: two layers are named "${dup}"; layer names must be unique`)
}

/** The child `name` of a params/state tree (`''`: the tree itself). @internal */
export const childTree = (t: unknown, name: string): unknown =>
  name === ''
    ? t
    : typeof t === 'object' && t !== null
      ? (t as { readonly [k: string]: unknown })[name]
      : undefined

const subMask = (mask: TreeOf<boolean> | undefined, name: string): TreeOf<boolean> | undefined => {
  if (mask === undefined || typeof mask === 'boolean' || name === '') return mask
  if (Array.isArray(mask)) return undefined
  return (mask as { readonly [k: string]: TreeOf<boolean> })[name]
}

/**
 * The options each child of a container runs with: the key split once per child (when
 * given), the child's part of the trainable mask, `training` and `dropout` passed on.
 * @internal
 */
export const childOptions = (o: ApplyOptions, names: readonly string[]): ApplyOptions[] => {
  const keys: readonly (Key | undefined)[] =
    o.key === undefined ? names.map(() => undefined) : split(o.key, Math.max(names.length, 1))
  return names.map((n, i) => {
    const k = keys[i]
    const mask = subMask(o.trainable, n)
    return {
      training: o.training,
      ...(k === undefined ? {} : { key: k }),
      ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
      ...(mask === undefined ? {} : { trainable: mask }),
    }
  })
}

/** Tags a layer value with its kind and name types (the one cast behind {@link Tagged}). @internal */
export const tag = <K extends string, N extends string, L>(layer: L): Tagged<L, K, N> =>
  layer as Tagged<L, K, N>
