import { isTensor, ShapeError, type Tensor } from '@purenn/tensor'

// ---------------------------------------------------------------------------------------
// Types

/**
 * What {@link maxAbsDiff} compares: a tensor, or the values of one (a `Float32Array`, a
 * plain array) read as a vector.
 * @category Comparisons
 */
export type Values = Tensor | ArrayLike<number>

// ---------------------------------------------------------------------------------------
// Combinators

/**
 * The largest absolute difference between two tensors (or arrays) of the same shape:
 * how far apart two predictions, two sets of weights or an implementation and its reference
 * are, to compare with a stated tolerance.
 *
 * @remarks
 * $\max_i |a_i - b_i|$ over the elements in row-major order; 0 for two empty operands.
 * Equal values count 0, so equal infinities do too; a NaN on either side (or infinities of
 * different signs) makes the result NaN, which fails every `≤ tolerance` comparison, as a
 * check should. A tensor has its shape, an array the shape `[length]`: `maxAbsDiff(t, u)`
 * compares two tensors axis by axis, and `maxAbsDiff(t.data, values)` their elements as
 * vectors, for a reference laid out flat (TF.js's `dataSync()`, onnxruntime's output,
 * numbers from a fixture file).
 *
 * @param a - a tensor or array
 * @param b - another, of the same shape
 * @returns the largest $|a_i - b_i|$, or NaN when some difference is NaN
 * @throws ShapeError naming both shapes when they differ.
 * @example
 * ```ts
 * import { maxAbsDiff } from '@purenn/testing'
 * import { exp, tensor } from '@purenn/tensor'
 * const x = tensor([0, 1, 2])
 * console.log(maxAbsDiff(exp(x), [1, Math.E, Math.exp(2)]) <= 1e-6) // true
 * console.log(maxAbsDiff(tensor([[1, 2]]), tensor([[1.5, 1]]))) // 1
 * try { maxAbsDiff(tensor([[1, 2]]), tensor([1, 2])) } catch (e) { console.log((e as Error).message) } // maxAbsDiff: shapes differ: [1,2] and [2]
 * ```
 * @category Comparisons
 */
export const maxAbsDiff = (a: Values, b: Values): number => {
  const [x, y] = [valuesOf(a), valuesOf(b)]
  const [sa, sb] = [shapeOf(a), shapeOf(b)]
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]))
    throw new ShapeError(`maxAbsDiff: shapes differ: [${sa}] and [${sb}]`)
  let m = 0
  for (let i = 0; i < x.length; i++) {
    const [u, v] = [x[i]!, y[i]!]
    m = Math.max(m, u === v ? 0 : Math.abs(u - v))
  }
  return m
}

// ---------------------------------------------------------------------------------------
// Helpers

// a tensor's values are `ArrayLike<number>` too (a Float32Array): test for a tensor first
const valuesOf = (v: Values): ArrayLike<number> => (isTensor(v) ? v.data : v)
const shapeOf = (v: Values): readonly number[] => (isTensor(v) ? v.shape : [v.length])
