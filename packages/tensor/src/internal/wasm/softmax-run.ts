/**
 * Running the softmax kernels of `softmax.ts` on the calling thread: rows are copied into
 * the kernels' memory padded to a multiple of four floats (−∞ in logits, 0 in cotangents),
 * computed, and copied back without the padding. Each returns false (having written
 * nothing) when the kernels are not available; the caller then uses its js loop.
 */

import { wasmInstance } from './matmul-run.js'

const align = (n: number): number => (n + 63) & ~63

/** Copies `rows` rows of `C` floats into `view` at float `at`, rows `C4` apart, padded with `pad`. */
const padIn = (
  src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  view: Float32Array,
  at: number,
  rows: number,
  C: number,
  C4: number,
  pad: number,
): void => {
  if (C === C4) {
    view.set(src.subarray(0, rows * C), at)
    return
  }
  for (let r = 0; r < rows; r++) {
    view.set(src.subarray(r * C, r * C + C), at + r * C4)
    view.fill(pad, at + r * C4 + C, at + (r + 1) * C4)
  }
}

const padOut = (
  view: Float32Array,
  at: number,
  dst: Float32Array,
  rows: number,
  C: number,
  C4: number,
): void => {
  if (C === C4) dst.set(view.subarray(at, at + rows * C))
  else for (let r = 0; r < rows; r++) dst.set(view.subarray(at + r * C4, at + r * C4 + C), r * C)
}

type Kernel = (...args: number[]) => void

/** y = softmax of each of the `rows` rows of `C` floats of x, into `out`. */
export const wasmSoftmaxInto = (x: Float32Array, out: Float32Array, rows: number, C: number): boolean => {
  const C4 = (C + 3) & ~3
  const bytes = align(4 * rows * C4)
  const w = wasmInstance(2 * bytes)
  if (w === undefined) return false
  padIn(x, w.view, 0, rows, C, C4, -Infinity)
  ;(w.exports.softmax as Kernel)(0, 0, bytes, 0, rows, C4 / 4)
  padOut(w.view, bytes / 4, out, rows, C, C4)
  return true
}

/** out = y·(g − Σ g·y) per row of `C` floats. */
export const wasmSoftmaxVjpInto = (
  y: Float32Array,
  g: Float32Array,
  out: Float32Array,
  rows: number,
  C: number,
): boolean => {
  const C4 = (C + 3) & ~3
  const bytes = align(4 * rows * C4)
  const w = wasmInstance(3 * bytes)
  if (w === undefined) return false
  padIn(y, w.view, 0, rows, C, C4, 0)
  padIn(g, w.view, bytes / 4, rows, C, C4, 0)
  ;(w.exports.softmaxVjp as Kernel)(0, bytes, 2 * bytes, rows, C4 / 4)
  padOut(w.view, (2 * bytes) / 4, out, rows, C, C4)
  return true
}

/**
 * Per row of `C` logits with class `labels[r]` (checked by the caller to lie in [0, C)):
 * `dz` = softmax − onehot(label) and `loss[r]` = −log softmax(z)[label].
 */
export const wasmSoftmaxXentInto = (
  z: Float32Array,
  labels: Int32Array,
  dz: Float32Array,
  loss: Float32Array,
  rows: number,
  C: number,
): boolean => {
  const C4 = (C + 3) & ~3
  const bytes = align(4 * rows * C4)
  const lab = align(4 * rows)
  const w = wasmInstance(2 * bytes + 2 * lab)
  if (w === undefined) return false
  padIn(z, w.view, 0, rows, C, C4, -Infinity)
  new Int32Array(w.view.buffer, 2 * bytes, rows).set(labels)
  ;(w.exports.softmaxXent as Kernel)(0, 2 * bytes, bytes, 2 * bytes + lab, rows, C4 / 4)
  padOut(w.view, bytes / 4, dz, rows, C, C4)
  loss.set(w.view.subarray((2 * bytes + lab) / 4, (2 * bytes + lab) / 4 + rows))
  return true
}
