import { isTensor, type Tensor, type Tree, tree } from '@purenn/tensor'

/** Copies of a tree's leaves' elements, to check later that nothing wrote into them. */
export const snapshot = (t: Tree): Float32Array[] => tree.leaves(t).map((l) => Float32Array.from(l.data))

/** The path of the first leaf whose elements differ (bitwise) from the snapshot, if any. */
export const changedSince = (t: Tree, snap: readonly Float32Array[]): string | undefined => {
  const flat = tree.flatten(t)
  for (let i = 0; i < flat.length; i++) {
    const [path, leaf] = flat[i]!
    const s = snap[i]!
    for (let e = 0; e < s.length; e++)
      if (!Object.is(leaf.data[e], s[e])) return path === '' ? '(root)' : path
  }
  return undefined
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i])

/**
 * Where two trees differ: structure, a leaf's shape or (bitwise) a leaf's element. Undefined
 * when they are bitwise equal.
 */
export const treeDifference = (a: Tree, b: Tree): string | undefined => {
  const fa = tree.flatten(a)
  const fb = tree.flatten(b)
  const pa = fa.map(([p]) => p).join(', ')
  const pb = fb.map(([p]) => p).join(', ')
  if (pa !== pb) return `leaves [${pa}] vs [${pb}]`
  for (let i = 0; i < fa.length; i++) {
    const [path, x] = fa[i]!
    const y = fb[i]![1]
    if (!sameShape(x.shape, y.shape)) return `"${path}": shape [${x.shape}] vs [${y.shape}]`
    for (let e = 0; e < x.size; e++)
      if (!Object.is(x.data[e], y.data[e])) return `"${path}" element ${e}: ${x.data[e]} vs ${y.data[e]}`
  }
  return undefined
}

/** The structure of any value, with tensors replaced by their shapes and numbers by `number`. */
export const signature = (u: unknown): string => {
  if (isTensor(u)) return `T[${(u as Tensor).shape.join(',')}]`
  if (Array.isArray(u)) return `[${u.map(signature).join(',')}]`
  if (u !== null && typeof u === 'object')
    return `{${Object.keys(u)
      .sort()
      .map((k) => `${k}:${signature((u as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return typeof u
}

/** Where two values holding tensors, numbers and plain containers differ bitwise. */
export const valueDifference = (a: unknown, b: unknown, path = ''): string | undefined => {
  if (isTensor(a) || isTensor(b)) {
    if (!isTensor(a) || !isTensor(b)) return `${path || '(root)'}: a tensor and a non-tensor`
    return treeDifference(a, b) === undefined ? undefined : `${path || '(root)'}: ${treeDifference(a, b)}`
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length)
      return `${path || '(root)'}: arrays of different lengths`
    for (let i = 0; i < a.length; i++) {
      const d = valueDifference(a[i], b[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    if (ka.join() !== kb.join()) return `${path || '(root)'}: keys [${ka}] vs [${kb}]`
    for (const k of ka) {
      const d = valueDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path === '' ? k : `${path}.${k}`,
      )
      if (d !== undefined) return d
    }
    return undefined
  }
  return Object.is(a, b) ? undefined : `${path || '(root)'}: ${String(a)} vs ${String(b)}`
}

/** Every tensor inside any value (tensors, numbers, plain containers). */
export const tensorsIn = (u: unknown): Tensor[] => {
  if (isTensor(u)) return [u as Tensor]
  if (Array.isArray(u)) return u.flatMap(tensorsIn)
  if (u !== null && typeof u === 'object') return Object.values(u).flatMap(tensorsIn)
  return []
}
