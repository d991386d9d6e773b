import { div, equal, mul, square, sub } from './arith.js'
import { ShapeError } from './errors.js'
import { argmax as argmaxKernel, reduce } from './internal/kernels.js'
import { fmt, normalizeAxes, normalizeAxis, sizeOf } from './internal/shape.js'
import { record } from './internal/tape.js'
import { broadcastTo, reshape } from './shape.js'
import { buf, fromBuffer, type Tensor } from './tensor.js'

/**
 * Which axes a reduction runs over: one axis, a list, or all of them when omitted.
 * Negative axes count from the end.
 * @category Reduction
 */
export type Axes = number | readonly number[]

const keptShape = (shape: readonly number[], axes: readonly number[]): number[] =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d))
const droppedShape = (shape: readonly number[], axes: readonly number[]): number[] =>
  shape.filter((_, i) => !axes.includes(i))

const reduction =
  (op: 'sum' | 'max' | 'min') =>
  (x: Tensor, axes?: Axes, keepDims = false): Tensor => {
    const ax = normalizeAxes(op, axes, x.shape)
    if (op !== 'sum' && ax.some((a) => x.shape[a] === 0))
      throw new ShapeError(`${op}: cannot reduce over an empty axis of shape ${fmt(x.shape)}`)
    const r = reduce(buf(x), x.shape, ax, op)
    const shape = keepDims ? r.shape : droppedShape(x.shape, ax)
    let y: Tensor | undefined
    const kept = keptShape(x.shape, ax)
    return (y = record(
      op,
      shape,
      r.data,
      [x],
      [
        op === 'sum'
          ? (g) => broadcastTo(reshape(g, kept), x.shape)
          : (g) => {
              // the cotangent is shared equally by the elements that attain the extremum
              const mask = equal(x, reshape(y!, kept))
              return mul(mask, reshape(div(g, sum(mask, ax, keepDims)), kept))
            },
      ],
    ))
  }

/**
 * Sum over `axes` (all when omitted), optionally keeping them as size-1 axes.
 *
 * @remarks Accumulates in float64. VJP: the cotangent broadcast back over the summed axes.
 * @example
 * ```ts
 * import { sum, tensor } from '@purenn/tensor'
 * const x = tensor([[1, 2], [3, 4]])
 * console.log(sum(x).item(), sum(x, 0).toString(), sum(x, 1, true).shape) // 10 tensor([4, 6]) [ 2, 1 ]
 * ```
 * @category Reduction
 */
export const sum: (x: Tensor, axes?: Axes, keepDims?: boolean) => Tensor = reduction('sum')

/**
 * Largest element over `axes`.
 *
 * @remarks VJP: the cotangent split equally among the elements equal to the maximum (ties
 * share it, as TensorFlow's `reduce_max`).
 * @example
 * ```ts
 * import { max, tensor } from '@purenn/tensor'
 * console.log(max(tensor([[1, 5], [3, 4]]), 1).toString()) // tensor([5, 4])
 * ```
 * @category Reduction
 */
export const max: (x: Tensor, axes?: Axes, keepDims?: boolean) => Tensor = reduction('max')

/**
 * Smallest element over `axes`.
 *
 * @remarks VJP: the cotangent split equally among the elements equal to the minimum (ties
 * share it, as TensorFlow's `reduce_min`).
 * @example
 * ```ts
 * import { min, tensor } from '@purenn/tensor'
 * console.log(min(tensor([[1, 5], [3, 4]]), 0).toString()) // tensor([1, 4])
 * ```
 * @category Reduction
 */
export const min: (x: Tensor, axes?: Axes, keepDims?: boolean) => Tensor = reduction('min')

/**
 * Arithmetic mean over `axes`: `sum(x, axes) / n`, with `n` the number of reduced elements.
 *
 * @example
 * ```ts
 * import { mean, tensor } from '@purenn/tensor'
 * console.log(mean(tensor([[1, 2], [3, 4]]), 0).toString()) // tensor([2, 3])
 * ```
 * @category Reduction
 */
export const mean = (x: Tensor, axes?: Axes, keepDims = false): Tensor => {
  const ax = normalizeAxes('mean', axes, x.shape)
  const n = sizeOf(ax.map((a) => x.shape[a]!))
  return div(sum(x, ax, keepDims), n)
}

/**
 * Biased (population) variance over `axes`: `mean((x − mean(x))²)`, dividing by N as batch
 * normalization does.
 *
 * @example
 * ```ts
 * import { variance, tensor } from '@purenn/tensor'
 * console.log(variance(tensor([1, 2, 3, 4])).item()) // 1.25
 * ```
 * @category Reduction
 */
export const variance = (x: Tensor, axes?: Axes, keepDims = false): Tensor => {
  const ax = normalizeAxes('variance', axes, x.shape)
  return mean(square(sub(x, mean(x, ax, true))), ax, keepDims)
}

/**
 * Index of the largest element along `axis` (default −1), as a float tensor; the first
 * index wins on ties. Not differentiable.
 *
 * @example
 * ```ts
 * import { argmax, tensor } from '@purenn/tensor'
 * console.log(argmax(tensor([[1, 9, 3], [7, 2, 2]])).toString()) // tensor([1, 0])
 * ```
 * @category Reduction
 */
export const argmax = (x: Tensor, axis = -1): Tensor => {
  const a = normalizeAxis('argmax', axis, x.shape.length, x.shape)
  if (x.shape[a] === 0)
    throw new ShapeError(`argmax: cannot reduce over an empty axis of shape ${fmt(x.shape)}`)
  const r = argmaxKernel(buf(x), x.shape, a)
  return fromBuffer(r.shape, r.data)
}
