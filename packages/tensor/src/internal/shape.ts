/** Shape arithmetic shared by the kernels and the ops. Not exported from the package. */

import { ShapeError } from '../errors.js'

export type Shape = readonly number[]

/** Number of elements of a shape (1 for a scalar). */
export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Row-major strides of a shape. */
export const stridesOf = (shape: Shape): number[] => {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i]!
  }
  return s
}

/** `[32,784]`: how shapes appear in every error message. */
export const fmt = (shape: Shape): string => `[${shape.join(',')}]`

export const sameShape = (a: Shape, b: Shape): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming `op` and both shapes. */
export const broadcastShapes = (op: string, a: Shape, b: Shape): number[] => {
  const n = Math.max(a.length, b.length)
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1
    const db = b[b.length - n + i] ?? 1
    if (da !== db && da !== 1 && db !== 1)
      throw new ShapeError(`${op}: shapes cannot be broadcast together: ${fmt(a)} and ${fmt(b)}`)
    out[i] = da === 1 ? db : da
  }
  return out
}

/** Normalizes one axis (negative counts from the end); throws naming op, axis and shape. */
export const normalizeAxis = (op: string, axis: number, rank: number, shape: Shape): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank)
    throw new ShapeError(`${op}: axis ${axis} is out of range for shape ${fmt(shape)} (rank ${rank})`)
  return axis < 0 ? axis + rank : axis
}

/** Normalizes an axis list (undefined means all axes), sorted, without duplicates. */
export const normalizeAxes = (
  op: string,
  axes: number | readonly number[] | undefined,
  shape: Shape,
): number[] => {
  if (axes === undefined) return shape.map((_, i) => i)
  const list = typeof axes === 'number' ? [axes] : axes
  const out = list.map((a) => normalizeAxis(op, a, shape.length, shape))
  const sorted = [...out].sort((x, y) => x - y)
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i] === sorted[i - 1])
      throw new ShapeError(`${op}: repeated axis ${sorted[i]} in [${list.join(',')}] for shape ${fmt(shape)}`)
  return sorted
}

/** Checks that a shape is a list of non-negative integers. */
export const checkShape = (op: string, shape: Shape): void => {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: invalid shape ${fmt(shape)}: dimensions must be non-negative integers`)
}
