/**
 * Leaf-level helpers shared by the transformations: aligning the leaves of a state tree with
 * those of the gradients, wrapping freshly filled buffers as tensors, and recognizing zero
 * updates. Not exported.
 */

import {
  full,
  type ReadonlyFloat32Array,
  ShapeError,
  type Tensor,
  type Tree,
  tree,
  zeros,
} from '@purenn/tensor'
import {
  alloc,
  buf,
  elementwiseKernel,
  fromBuffer,
  leavesLike,
  runElementwise,
  scaleInto,
} from '@purenn/tensor/internal'

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i])

/**
 * The leaves of `t`, checked to have the paths and shapes of those of `ref` (the gradients).
 * A tree of the very structure of `ref` passes without building its paths (every step's case);
 * any other one is compared path by path, which accepts the trees with the same paths (an
 * object keyed `'0'`, `'1'` for an array) and names the first leaf that differs.
 * @throws ShapeError naming the op, the tree and the first leaf that differs.
 */
export const aligned = (op: string, refTree: Tree, t: Tree, what: string): Tensor[] => {
  const same = leavesLike(refTree, t)
  if (same !== undefined) return same
  const ref = tree.flatten(refTree)
  const f = tree.flatten(t)
  if (f.length !== ref.length)
    throw new ShapeError(`${op}: ${what} has ${f.length} leaves, the gradients have ${ref.length}`)
  return f.map(([path, leaf], i) => {
    const [refPath, refLeaf] = ref[i]!
    if (path !== refPath || !sameShape(leaf.shape, refLeaf.shape))
      throw new ShapeError(
        `${op}: ${what} does not match the gradients: leaf "${path}" ${fmt(leaf.shape)} vs "${refPath}" ${fmt(refLeaf.shape)}`,
      )
    return leaf
  })
}

/**
 * One fused loop per leaf of the gradients, over some state trees: for each leaf `g`,
 * `kernel(g, old, out, next)` fills the update `out` and, for each state tree `k`, its new
 * leaf `next[k]` from `g` and the old leaves `old[k]` (every buffer holds `g.length`
 * elements). Each state tree is first checked against the gradients with {@link aligned}
 * (named `state.k` in messages), in the order of `states`' keys.
 * @returns the updates and the new state trees, in the structure of the gradients.
 */
export const perLeaf = <G extends Tree, K extends string>(
  op: string,
  grads: G,
  states: { readonly [k in K]: Tree },
  kernel: (
    g: ReadonlyFloat32Array,
    old: { readonly [k in K]: ReadonlyFloat32Array },
    out: Float32Array,
    next: { readonly [k in K]: Float32Array },
  ) => void,
): { readonly updates: G; readonly states: { readonly [k in K]: Tree } } => {
  const gs = tree.leaves(grads)
  const keys = Object.keys(states) as K[]
  const olds = keys.map((k) => aligned(op, grads, states[k], `state.${k}`))
  const outs: Tensor[] = []
  const nexts = keys.map((): Tensor[] => [])
  gs.forEach((g, i) => {
    const n = g.size
    const out = alloc(n)
    const next = keys.map(() => alloc(n))
    kernel(
      g.data,
      Object.fromEntries(keys.map((k, j) => [k, olds[j]![i]!.data])) as { [k in K]: ReadonlyFloat32Array },
      out,
      Object.fromEntries(keys.map((k, j) => [k, next[j]!])) as { [k in K]: Float32Array },
    )
    outs.push(wrap(out, g.shape))
    next.forEach((b, j) => {
      nexts[j]!.push(wrap(b, g.shape))
    })
  })
  return {
    updates: tree.unflatten(grads, outs),
    states: Object.fromEntries(keys.map((k, j): [K, Tree] => [k, tree.unflatten(grads, nexts[j]!)])) as {
      [k in K]: Tree
    },
  }
}

/**
 * The tensor of `shape` that adopts a buffer just filled by a fused loop (zero-copy: the
 * buffer is fresh and never written again, so the tensor stays immutable).
 */
export const wrap = (data: Float32Array, shape: readonly number[]): Tensor => fromBuffer(shape, data)

/** `x · c` elementwise, as one loop (on the worker pool when large). */
export const scaleLeaf = (x: Tensor, c: number): Tensor => {
  const out = alloc(x.size)
  // large leaves with the 'wasm' kernel set: the WebAssembly pass (bitwise this loop) first
  const done = scaleInto(buf(x), c, out)
  if (done === 0) runElementwise(scaleLoop, [buf(x), out, c], x.size)
  else scaleLoop.loop([buf(x), out, c], done, x.size)
  return wrap(out, x.shape)
}

const scaleLoop = elementwiseKernel(
  'scale',
  ([x, out, c]: readonly [Float32Array, Float32Array, number], i0: number, i1: number): void => {
    for (let i = i0; i < i1; i++) out[i] = x[i]! * c
  },
)

/** A tree of the structure of `like` with every leaf a zero tensor of the same shape. */
export const zerosTree = (like: Tree): Tree => tree.map(like, (x) => zeros(x.shape))

/** A tree of the structure of `like` with every leaf filled with `value`. */
export const fullTree = (like: Tree, value: number): Tree => tree.map(like, (x) => full(x.shape, value))

/** Tensors already found to be all +0 (tensors never change, so the answer holds for good). */
const knownZeros = new WeakSet<Tensor>()

/**
 * True when every element of `t` is +0 (all bits clear): a zero update, which
 * `applyUpdates` skips and `masked` passes on instead of making another. The scan stops at
 * the first non-zero element; a tensor found to be zero is remembered (weakly), so the
 * zero gradients and updates of frozen params, made once and reused, are scanned once.
 */
export const isZeros = (t: Tensor): boolean => {
  if (knownZeros.has(t)) return true
  const d = t.data
  const bits = new Uint32Array(d.buffer, d.byteOffset, d.length)
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) return false
  knownZeros.add(t)
  return true
}
