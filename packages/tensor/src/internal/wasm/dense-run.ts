/**
 * Running the fused dense kernels of `dense.ts`: the forward pass as the matmul kernels
 * followed, in the kernels' memory, by the bias and activation (one copy in, one copy out);
 * the backward pass's `g ⊙ act'(z)` and bias gradient on the calling thread. Each returns
 * false (having written nothing) when the kernels are not available; the caller then uses
 * its js loops.
 */

import type { DenseKernelAct } from './dense.js'
import { wasmInstance, wasmMatmulInto } from './matmul-run.js'

type Kernel = (...args: number[]) => void

const align = (n: number): number => (n + 63) & ~63

/** out[M,N] = act(x[M,K]·w[K,N] + bias) with the WebAssembly kernels; K ≥ 1. */
export const wasmDenseForwardInto = (
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | undefined,
  out: Float32Array,
  M: number,
  K: number,
  N: number,
  act: DenseKernelAct,
  alpha: number,
): boolean => {
  if (K === 0) return false
  return wasmMatmulInto(x, 0, w, 0, out, 0, M, K, N, false, false, {
    bytes: align(4 * N + 16),
    run: (c, free) => {
      const inst = wasmInstance(free)!
      if (bias !== undefined) inst.view.set(bias, free / 4)
      ;(inst.exports[`dense_${act}`] as Kernel)(c, free, bias === undefined ? 0 : 1, M, N, alpha)
    },
  })
}

/** out = g ⊙ act'(z) over n elements, the derivative read off y = act(z). */
export const wasmDenseGzInto = (
  g: Float32Array,
  y: Float32Array,
  out: Float32Array,
  act: Exclude<DenseKernelAct, 'linear'>,
  alpha: number,
): boolean => {
  const n = g.length
  const bytes = align(4 * n + 16)
  const inst = wasmInstance(3 * bytes)
  if (inst === undefined) return false
  inst.view.set(g, 0)
  inst.view.set(y, bytes / 4)
  ;(inst.exports[`denseGz_${act}`] as Kernel)(0, bytes, 2 * bytes, (n + 3) >> 2, alpha, Math.fround(alpha))
  out.set(inst.view.subarray((2 * bytes) / 4, (2 * bytes) / 4 + n))
  return true
}

/** out[j] = f32(Σ_r d[r, j]) summed in float64, rows in order. */
export const wasmColSumsInto = (d: Float32Array, out: Float32Array, rows: number, N: number): boolean => {
  const dBytes = align(4 * rows * N + 16)
  const accBytes = align(8 * (N + 3))
  const inst = wasmInstance(dBytes + accBytes + align(4 * N + 16))
  if (inst === undefined) return false
  inst.view.set(d.subarray(0, rows * N), 0)
  ;(inst.exports.colSums as Kernel)(0, dBytes, dBytes + accBytes, rows, N)
  out.set(inst.view.subarray((dBytes + accBytes) / 4, (dBytes + accBytes) / 4 + N))
  return true
}
