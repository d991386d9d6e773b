/**
 * Walking a parameter tree in `tree.flatten` order without building dotted paths, for the
 * functions that need only the order of the leaves (`tree.leaves`, `tree.unflatten`,
 * `valueAndGrad`, the optimizers' steps). A path is a fresh string per leaf and per walk, and a
 * training step walks its trees a few dozen times; here the keys above the current node are
 * kept on a stack and joined into a path only for an error message.
 */

import { ShapeError } from '../errors.js'
import { isTensor, type Tensor } from '../tensor.js'

/** The dotted path of the keys on the stack, as `tree.flatten` writes it. */
const pathOf = (keys: readonly (string | number)[]): string =>
  keys.reduce<string>((path, k) => (path === '' ? String(k) : `${path}.${k}`), '')

/** The error for a node that is neither a tensor nor an object or array (`tree.map`'s). */
const notATree = (t: unknown, keys: readonly (string | number)[]): ShapeError =>
  new ShapeError(`tree: leaf at "${pathOf(keys)}" is a ${typeof t}, not a tensor`)

/**
 * `f` applied to every leaf of `t` in `tree.flatten` order, in the structure of `t`: what
 * `tree.map` returns, without the paths.
 * @throws ShapeError naming the path of a node that is not a tensor, an array or an object.
 */
export const mapLeaves = (t: unknown, f: (leaf: Tensor) => unknown): unknown => {
  const keys: (string | number)[] = []
  const go = (x: unknown): unknown => {
    if (isTensor(x)) return f(x)
    if (Array.isArray(x))
      return x.map((c, i) => {
        keys.push(i)
        const r = go(c)
        keys.pop()
        return r
      })
    if (typeof x === 'object' && x !== null) {
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(x)) {
        keys.push(k)
        out[k] = go((x as Record<string, unknown>)[k])
        keys.pop()
      }
      return out
    }
    throw notATree(x, keys)
  }
  return go(t)
}

/**
 * The leaves of `t` in `tree.flatten` order.
 * @throws ShapeError naming the path of a node that is not a tensor, an array or an object.
 */
export const leavesOf = (t: unknown): Tensor[] => {
  const out: Tensor[] = []
  const keys: (string | number)[] = []
  const go = (x: unknown): void => {
    if (isTensor(x)) out.push(x)
    else if (Array.isArray(x))
      x.forEach((c, i) => {
        keys.push(i)
        go(c)
        keys.pop()
      })
    else if (typeof x === 'object' && x !== null)
      for (const k of Object.keys(x)) {
        keys.push(k)
        go((x as Record<string, unknown>)[k])
        keys.pop()
      }
    else throw notATree(x, keys)
  }
  go(t)
  return out
}

/**
 * The leaves of `t` when `t` has exactly the structure of `ref` (arrays of the same lengths,
 * objects with the same keys in the same order) and each leaf the shape of the leaf of `ref`
 * at its place, else `undefined`. Two such trees have the same `tree.flatten` paths, so this
 * is a sufficient check for code that compares paths, made without building them.
 */
export const leavesLike = (ref: unknown, t: unknown): Tensor[] | undefined => {
  const out: Tensor[] = []
  const go = (r: unknown, x: unknown): boolean => {
    if (isTensor(r)) {
      if (!isTensor(x) || x.shape.length !== r.shape.length) return false
      for (let i = 0; i < r.shape.length; i++) if (x.shape[i] !== r.shape[i]) return false
      out.push(x)
      return true
    }
    if (typeof r !== 'object' || r === null || typeof x !== 'object' || x === null || isTensor(x))
      return false
    if (Array.isArray(r)) {
      if (!Array.isArray(x) || x.length !== r.length) return false
      for (let i = 0; i < r.length; i++) if (!(i in r) || !(i in x) || !go(r[i], x[i])) return false
      return true
    }
    if (Array.isArray(x)) return false
    const kr = Object.keys(r)
    const kx = Object.keys(x)
    if (kr.length !== kx.length) return false
    for (let i = 0; i < kr.length; i++) {
      const k = kr[i]!
      if (kx[i] !== k || !go((r as Record<string, unknown>)[k], (x as Record<string, unknown>)[k]))
        return false
    }
    return true
  }
  return go(ref, t) ? out : undefined
}
