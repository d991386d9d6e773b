import { ShapeError } from './errors.js'
import { leavesOf, mapLeaves } from './internal/leaf-order.js'
import { isTensor, type Tensor } from './tensor.js'

/**
 * A parameter tree: a tensor, or plain objects and arrays nesting trees. `params` and
 * `state` of layers and models are trees; their leaves are tensors.
 * @category Trees
 */
export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree }

/**
 * A tree whose leaves are values of type `L` instead of tensors (for example the `boolean`
 * leaves of a trainable mask).
 * @category Trees
 */
export type TreeOf<L> = L | readonly TreeOf<L>[] | { readonly [key: string]: TreeOf<L> }

/**
 * Options of {@link maskLeaves}.
 * @category Trees
 */
export interface MaskLeavesOptions {
  /**
   * The value of the leaves the mask has no entry for (a key of the tree missing from the
   * mask). Default: none, a missing entry is a `ShapeError`.
   */
  readonly missing?: boolean
  /**
   * Entries of the mask that the tree does not have: `'error'` (default) throws a
   * `ShapeError`, and a mask array must then stand where the tree has an array; `'ignore'`
   * skips them and looks entries up by key, so that a mask written for all the params also
   * fits a part of them.
   */
  readonly extra?: 'error' | 'ignore'
  /** The name that starts error messages. Default `'tree.maskLeaves'`. */
  readonly op?: string
}

const describe = (t: unknown): string => {
  if (isTensor(t)) return `Tensor[${t.shape.join(',')}]`
  if (Array.isArray(t)) return `[${t.map(describe).join(', ')}]`
  if (typeof t === 'object' && t !== null)
    return `{${Object.keys(t)
      .map((k) => `${k}: ${describe((t as Record<string, unknown>)[k])}`)
      .join(', ')}}`
  return typeof t
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`)

/** What a mask holds where it should hold a boolean or a subtree, for messages. */
const kind = (u: unknown): string =>
  u === undefined ? 'nothing' : u === null ? 'null' : Array.isArray(u) ? 'array' : typeof u

const mapWithPath = (t: unknown, path: string, f: (leaf: Tensor, path: string) => unknown): unknown => {
  if (isTensor(t)) return f(t, path)
  if (Array.isArray(t)) return t.map((c, i) => mapWithPath(c, join(path, String(i)), f))
  if (typeof t === 'object' && t !== null) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(t)) out[k] = mapWithPath((t as Record<string, unknown>)[k], join(path, k), f)
    return out
  }
  throw new ShapeError(`tree: leaf at "${path}" is a ${typeof t}, not a tensor`)
}

/**
 * Applies `f` to every leaf, keeping the structure. `f` also receives the leaf's dotted path.
 *
 * @example
 * ```ts
 * import { tree, ones, mul } from '@purenn/tensor'
 * const doubled = tree.map({ w: ones([2]), b: ones([1]) }, (t) => mul(t, 2))
 * console.log(doubled.w.toString()) // tensor([2, 2])
 * ```
 * @category Trees
 */
export function map<T extends Tree>(t: T, f: (leaf: Tensor, path: string) => Tensor): T
export function map<L>(t: Tree, f: (leaf: Tensor, path: string) => L): TreeOf<L>
export function map<L>(t: Tree, f: (leaf: Tensor, path: string) => L): TreeOf<L> {
  return mapWithPath(t, '', f) as TreeOf<L>
}

/**
 * Applies `f` to pairs of leaves at the same place in two trees of the same structure.
 *
 * @throws ShapeError naming both structures when they differ.
 * @example
 * ```ts
 * import { tree, ones, add } from '@purenn/tensor'
 * const s = tree.map2({ w: ones([2]) }, { w: ones([2]) }, add)
 * console.log(s.w.toString()) // tensor([2, 2])
 * ```
 * @category Trees
 */
export function map2<T extends Tree>(a: T, b: Tree, f: (x: Tensor, y: Tensor, path: string) => Tensor): T
export function map2<L>(a: Tree, b: Tree, f: (x: Tensor, y: Tensor, path: string) => L): TreeOf<L>
export function map2<L>(a: Tree, b: Tree, f: (x: Tensor, y: Tensor, path: string) => L): TreeOf<L> {
  const bTree: unknown = b
  const go = (x: unknown, y: unknown, path: string): unknown => {
    const mismatch = () =>
      new ShapeError(
        `tree.map2: structures differ at "${path === '' ? '(root)' : path}": ${describe(a)} vs ${describe(bTree)}`,
      )
    if (isTensor(x)) {
      if (!isTensor(y)) throw mismatch()
      return f(x, y, path)
    }
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || y.length !== x.length) throw mismatch()
      return x.map((c, i) => go(c, y[i], join(path, String(i))))
    }
    if (typeof x === 'object' && x !== null) {
      if (typeof y !== 'object' || y === null || isTensor(y) || Array.isArray(y)) throw mismatch()
      const kx = Object.keys(x)
      const ky = Object.keys(y)
      if (kx.length !== ky.length || kx.some((k) => !(k in y))) throw mismatch()
      const out: Record<string, unknown> = {}
      for (const k of kx)
        out[k] = go((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], join(path, k))
      return out
    }
    throw mismatch()
  }
  return go(a, bTree, '') as TreeOf<L>
}

/**
 * The leaves in a stable order (object keys in insertion order, arrays by index).
 *
 * @example
 * ```ts
 * import { tree, ones, zeros } from '@purenn/tensor'
 * console.log(tree.leaves({ w: ones([2]), b: zeros([1]) }).length) // 2
 * ```
 * @category Trees
 */
export const leaves = (t: Tree): Tensor[] => leavesOf(t)

/**
 * `[path, leaf]` pairs with stable dotted paths such as `dense_1.kernel`.
 *
 * @example
 * ```ts
 * import { tree, ones } from '@purenn/tensor'
 * console.log(tree.flatten({ dense_1: { kernel: ones([2, 2]) } }).map(([p]) => p)) // [ 'dense_1.kernel' ]
 * ```
 * @category Trees
 */
export const flatten = (t: Tree): [string, Tensor][] => {
  const out: [string, Tensor][] = []
  mapWithPath(t, '', (leaf, path) => out.push([path, leaf]))
  return out
}

/**
 * The boolean that a mask assigns to each leaf of `t`, in {@link flatten} order: the mask is
 * a prefix of the tree, and a boolean in it covers the whole subtree below it.
 *
 * @remarks
 * This is how trainable masks (`Model.trainable`) and optimizer masks (Optax's `masked`) are
 * read: `{ base: false, head: true }` selects every leaf under `head`. By default the mask
 * must fit the tree, and each of these is a `ShapeError` naming the path: an entry the mask
 * lacks, an entry the tree lacks, an array against an object, anything but a boolean at a
 * leaf, anything but a boolean or a subtree at a subtree. {@link MaskLeavesOptions} gives
 * missing entries a value (`missing`) and lets extra entries pass (`extra: 'ignore'`).
 *
 * @param t - the tree
 * @param mask - booleans in the structure of `t`, or of a prefix of it
 * @param options - a value for missing entries, whether extra entries are ignored, the name in messages
 * @returns one boolean per leaf of `t`, in {@link flatten} order
 * @throws ShapeError naming the path where the mask does not fit the tree.
 * @example
 * ```ts
 * import { tree, zeros } from '@purenn/tensor'
 * const params = { base: { kernel: zeros([2, 2]), bias: zeros([2]) }, head: zeros([2]) }
 * console.log(tree.maskLeaves(params, { base: false, head: true })) // [ false, false, true ]
 * console.log(tree.maskLeaves(params, { head: false }, { missing: true })) // [ true, true, false ]
 * ```
 * @category Trees
 */
export const maskLeaves = (t: Tree, mask: TreeOf<boolean>, options: MaskLeavesOptions = {}): boolean[] => {
  const { missing, extra = 'error', op = 'tree.maskLeaves' } = options
  const out: boolean[] = []
  const fill = (x: unknown, path: string, value: boolean): unknown =>
    mapWithPath(x, path, () => out.push(value))
  const misfit = (path: string, expected: string, got: unknown) =>
    new ShapeError(
      `${op}: the mask does not match the params at "${path === '' ? '(root)' : path}": expected ${expected}, got ${kind(got)}`,
    )
  const go = (x: unknown, m: unknown, path: string): void => {
    if (typeof m === 'boolean') {
      fill(x, path, m)
      return
    }
    if (isTensor(x)) throw misfit(path, 'a boolean', m)
    if (typeof x !== 'object' || x === null) {
      fill(x, path, false) // not a tree: throws, naming the path
      return
    }
    if (typeof m !== 'object' || m === null) throw misfit(path, 'a boolean or a subtree', m)
    if (extra === 'error') {
      if (Array.isArray(x) !== Array.isArray(m))
        throw misfit(path, `a boolean or ${Array.isArray(x) ? 'an array' : 'an object'}`, m)
      const unknown = Object.keys(m).find((k) => !Object.hasOwn(x, k))
      if (unknown !== undefined)
        throw new ShapeError(`${op}: the mask has an entry "${join(path, unknown)}" that the params do not`)
    }
    for (const k of Object.keys(x)) {
      const child = (x as Record<string, unknown>)[k]
      if (Object.hasOwn(m, k)) go(child, (m as Record<string, unknown>)[k], join(path, k))
      else if (missing !== undefined) fill(child, join(path, k), missing)
      else go(child, undefined, join(path, k))
    }
  }
  go(t, mask, '')
  return out
}

/**
 * Rebuilds a tree of the structure of `like` from leaves in {@link flatten} order.
 *
 * @throws ShapeError when the number of leaves differs.
 * @example
 * ```ts
 * import { tree, ones, zeros } from '@purenn/tensor'
 * const t = tree.unflatten({ a: ones([1]), b: ones([1]) }, [zeros([1]), zeros([1])])
 * console.log(t.b.toString()) // tensor([0])
 * ```
 * @category Trees
 */
export const unflatten = <T extends Tree>(like: T, leafList: readonly Tensor[]): T => {
  let n = 0
  const rebuilt = mapLeaves(like, () => leafList[n++])
  if (n !== leafList.length)
    throw new ShapeError(`tree.unflatten: the structure has ${n} leaves, got ${leafList.length}`)
  return rebuilt as T
}

/**
 * Number of scalars in the tree: the sum of the leaves' sizes.
 *
 * @example
 * ```ts
 * import { tree, zeros } from '@purenn/tensor'
 * console.log(tree.count({ kernel: zeros([784, 300]), bias: zeros([300]) })) // 235500
 * ```
 * @category Trees
 */
export const count = (t: Tree): number => leaves(t).reduce((s, x) => s + x.size, 0)
