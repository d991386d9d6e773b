/**
 * 2-D convolution and pooling over NHWC images, with Keras/TF semantics: `conv2d` as
 * im2col + the matmul kernels, `maxPool2d`, `avgPool2d`, and `convOutputSize`.
 *
 * Every op here is recorded on the tape with a VJP that is itself a recorded op, so the
 * gradients can be differentiated again: `im2col` and `col2im` are each other's adjoints,
 * and so are average pooling and its transpose, max pooling's scatter and gather.
 */

import { ShapeError } from './errors.js'
import { fmt } from './internal/shape.js'
import {
  avgPoolOp,
  type Geometry,
  gatherAt,
  maxPoolWinners,
  patches,
  windowCounts,
} from './internal/window.js'
import { matmul } from './linalg.js'
import { reshape } from './shape.js'
import { buf, type Tensor } from './tensor.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * How a window op pads its input, as Keras: `'valid'` uses only windows that fit inside
 * the input; `'same'` pads so that the output has `ceil(size / stride)` positions, with the
 * smaller half of the padding before (top/left) and the larger after, as TensorFlow.
 * @category Convolution
 */
export type Padding = 'valid' | 'same'

/**
 * Options of {@link conv2d}, named as `tf.nn.conv2d` / Keras' `Conv2D` in camelCase.
 * @category Convolution
 */
export interface Conv2dOptions {
  /** Step of the window along height and width: a number for both or `[sh, sw]`. Default 1. */
  readonly strides?: number | readonly [number, number]
  /** `'valid'` (default) or `'same'`. */
  readonly padding?: Padding
  /** Spacing between kernel taps (atrous convolution): a number or `[dh, dw]`. Default 1. */
  readonly dilationRate?: number | readonly [number, number]
}

/**
 * Options of {@link maxPool2d} and {@link avgPool2d}, as Keras' `MaxPooling2D`.
 * @category Convolution
 */
export interface Pool2dOptions {
  /** Window size: a number for both axes or `[ph, pw]`. Default 2. */
  readonly poolSize?: number | readonly [number, number]
  /** Step of the window; default the pool size (Keras' `strides=None`). */
  readonly strides?: number | readonly [number, number]
  /** `'valid'` (default) or `'same'`. */
  readonly padding?: Padding
}

// ---------------------------------------------------------------------------------------
// Constructors

/**
 * The number of output positions of a window op along one axis, as Keras'
 * `conv_output_length`.
 *
 * @remarks
 * With the effective kernel size `k' = (k − 1)·d + 1`: `'valid'` gives
 * `floor((n − k') / s) + 1` (0 when the kernel does not fit), `'same'` gives `ceil(n / s)`.
 *
 * @param size - input length `n`
 * @param kernelSize - kernel (or pool) length `k`
 * @param stride - step `s` (default 1)
 * @param padding - `'valid'` (default) or `'same'`
 * @param dilation - tap spacing `d` (default 1)
 * @returns the output length
 * @example
 * ```ts
 * import { convOutputSize } from '@purenn/tensor'
 * console.log(convOutputSize(28, 3), convOutputSize(28, 3, 2, 'same'), convOutputSize(7, 2, 2)) // 26 14 3
 * ```
 * @category Convolution
 */
export const convOutputSize = (
  size: number,
  kernelSize: number,
  stride = 1,
  padding: Padding = 'valid',
  dilation = 1,
): number => {
  for (const [what, v, min] of [
    ['size', size, 0],
    ['kernelSize', kernelSize, 1],
    ['stride', stride, 1],
    ['dilation', dilation, 1],
  ] as const)
    if (!Number.isInteger(v) || v < min)
      throw new RangeError(`convOutputSize: ${what} must be an integer ≥ ${min}, got ${v}`)
  if (padding !== 'valid' && padding !== 'same')
    throw new RangeError(`convOutputSize: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`)
  if (padding === 'same') return Math.ceil(size / stride)
  const eff = (kernelSize - 1) * dilation + 1
  return size < eff ? 0 : Math.floor((size - eff) / stride) + 1
}

/** A number or a pair, as a checked pair of positive integers. */
const pair = (op: string, what: string, v: number | readonly [number, number]): [number, number] => {
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 1))
    throw new RangeError(
      `${op}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`,
    )
  return [p[0]!, p[1]!]
}

/** Checks the options and the input and works out the output size and the padding. */
const geometry = (
  op: string,
  xShape: readonly number[],
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilation: readonly [number, number],
  padding: Padding,
): Geometry => {
  if (padding !== 'valid' && padding !== 'same')
    throw new RangeError(`${op}: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`)
  if (xShape.length !== 4)
    throw new ShapeError(`${op}: input must have 4 axes [batch, height, width, channels], got ${fmt(xShape)}`)
  const [n, h, w, c] = xShape as [number, number, number, number]
  const [kh, kw] = kernel
  const [sh, sw] = strides
  const [dh, dw] = dilation
  const oh = convOutputSize(h, kh, sh, padding, dh)
  const ow = convOutputSize(w, kw, sw, padding, dw)
  if (oh === 0 || ow === 0)
    throw new ShapeError(
      `${op}: a ${kh}x${kw} window${dh > 1 || dw > 1 ? ` dilated ${dh}x${dw}` : ''} does not fit in an input of height ${h} and width ${w} with padding 'valid' (input ${fmt(xShape)})`,
    )
  // TF's split: the total padding is what makes the last window end at the input's end
  const padTotal = (o: number, s: number, k: number, d: number, i: number) =>
    padding === 'same' ? Math.max((o - 1) * s + (k - 1) * d + 1 - i, 0) : 0
  const pt = Math.floor(padTotal(oh, sh, kh, dh, h) / 2)
  const pl = Math.floor(padTotal(ow, sw, kw, dw, w) / 2)
  return { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow }
}

// ---------------------------------------------------------------------------------------
// Public ops

/**
 * 2-D convolution (cross-correlation, as every deep-learning library) of NHWC images with
 * an HWIO kernel, as `tf.nn.conv2d` and Keras' `Conv2D`.
 *
 * @remarks
 * `y[b, i, j, f] = Σ_{u, v, c} x[b, i·sh + u·dh − pt, j·sw + v·dw − pl, c] · w[u, v, c, f]`,
 * taps outside the input counting as 0. Output height `convOutputSize(h, kh, sh, padding,
 * dh)` and likewise for the width ({@link convOutputSize}); with `'same'` the padding is
 * split as TensorFlow does (`pt = floor(total / 2)`, the extra row at the bottom).
 *
 * Computed as im2col + matmul: the patches form a `[b·oh·ow, kh·kw·c]` matrix that is
 * multiplied by the kernel viewed as `[kh·kw·c, f]`, on the worker pool for large products,
 * bitwise the same on any thread count. The VJPs come from the recorded ops: `dx` is the
 * col2im (the adjoint of im2col) of `g·Wᵀ`, `dW` is `patchesᵀ·g`; both differentiate again.
 *
 * @param x - input `[batch, height, width, channels]`
 * @param kernel - kernel `[kh, kw, channels, filters]`
 * @param opts - `{ strides = 1, padding = 'valid', dilationRate = 1 }`
 * @returns `[batch, oh, ow, filters]`
 * @throws ShapeError when the ranks are not 4, the channels differ or the kernel does not fit;
 * RangeError when strides, dilation or padding are invalid, or both strides and dilation exceed 1.
 * @example
 * ```ts
 * import { conv2d, ones, reshape, arange } from '@purenn/tensor'
 * const x = reshape(arange(9), [1, 3, 3, 1])
 * console.log(conv2d(x, ones([2, 2, 1, 1])).toString()) // tensor([[[[8], [12]], [[20], [24]]]])
 * console.log(conv2d(x, ones([2, 2, 1, 1]), { padding: 'same', strides: 2 }).shape) // [ 1, 2, 2, 1 ]
 * ```
 * @category Convolution
 */
export const conv2d = (x: Tensor, kernel: Tensor, opts: Conv2dOptions = {}): Tensor => {
  const strides = pair('conv2d', 'strides', opts.strides ?? 1)
  const dilation = pair('conv2d', 'dilationRate', opts.dilationRate ?? 1)
  if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1))
    throw new RangeError(
      `conv2d: strides ${JSON.stringify(strides)} and dilationRate ${JSON.stringify(dilation)} cannot both exceed 1 (as in Keras)`,
    )
  if (kernel.shape.length !== 4)
    throw new ShapeError(
      `conv2d: kernel must have 4 axes [kh, kw, inChannels, filters], got ${fmt(kernel.shape)}`,
    )
  const [kh, kw, kc, f] = kernel.shape as [number, number, number, number]
  const g = geometry('conv2d', x.shape, [kh, kw], strides, dilation, opts.padding ?? 'valid')
  if (kc !== g.c)
    throw new ShapeError(
      `conv2d: input has ${g.c} channels but the kernel expects ${kc}: input ${fmt(x.shape)}, kernel ${fmt(kernel.shape)}`,
    )
  const y = matmul(patches(x, g), reshape(kernel, [kh * kw * kc, f]))
  return reshape(y, [g.n, g.oh, g.ow, f])
}

/** The pool options as a geometry over `x`. */
const poolGeometry = (op: string, x: Tensor, opts: Pool2dOptions): Geometry => {
  const size = pair(op, 'poolSize', opts.poolSize ?? 2)
  const strides = pair(op, 'strides', opts.strides ?? size)
  return geometry(op, x.shape, size, strides, [1, 1], opts.padding ?? 'valid')
}

/**
 * Max pooling over NHWC images, as Keras' `MaxPooling2D` (`tf.nn.max_pool2d`).
 *
 * @remarks
 * `y[b, i, j, c] = max` of `x` over the window at `(i·sh − pt, j·sw − pl)`, padding taps
 * ignored. The gradient goes to the first maximum of each window in row-major order (as
 * TensorFlow); windows that overlap add up. The VJP is a scatter whose own VJP is a gather,
 * so it differentiates again.
 *
 * @param x - input `[batch, height, width, channels]`
 * @param opts - `{ poolSize = 2, strides = poolSize, padding = 'valid' }`
 * @returns `[batch, oh, ow, channels]`
 * @throws ShapeError when `x` is not 4-D or the window does not fit; RangeError for bad options.
 * @example
 * ```ts
 * import { arange, maxPool2d, reshape } from '@purenn/tensor'
 * const x = reshape(arange(16), [1, 4, 4, 1])
 * console.log(maxPool2d(x).toString()) // tensor([[[[5], [7]], [[13], [15]]]])
 * ```
 * @category Convolution
 */
export const maxPool2d = (x: Tensor, opts: Pool2dOptions = {}): Tensor => {
  const g = poolGeometry('maxPool2d', x, opts)
  const at = maxPoolWinners(buf(x), g)
  return gatherAt(x, at, [g.n, g.oh, g.ow, g.c], x.shape)
}

/**
 * Average pooling over NHWC images, as Keras' `AveragePooling2D` (`tf.nn.avg_pool2d`).
 *
 * @remarks
 * `y[b, i, j, c]` is the mean of the window's taps that fall inside the input: with
 * `'same'` padding the padded taps are not counted (TensorFlow's behaviour), so a corner
 * window of 2x2 with one valid tap returns that tap. Linear: its VJP is its transpose,
 * recorded, so it differentiates again.
 *
 * @param x - input `[batch, height, width, channels]`
 * @param opts - `{ poolSize = 2, strides = poolSize, padding = 'valid' }`
 * @returns `[batch, oh, ow, channels]`
 * @throws ShapeError when `x` is not 4-D or the window does not fit; RangeError for bad options.
 * @example
 * ```ts
 * import { arange, avgPool2d, reshape } from '@purenn/tensor'
 * const x = reshape(arange(9), [1, 3, 3, 1])
 * console.log(avgPool2d(x, { padding: 'same' }).toString()) // tensor([[[[2], [3.5]], [[6.5], [8]]]])
 * ```
 * @category Convolution
 */
export const avgPool2d = (x: Tensor, opts: Pool2dOptions = {}): Tensor => {
  const g = poolGeometry('avgPool2d', x, opts)
  return avgPoolOp(x, g, windowCounts(g))
}
