/**
 * Running the fused dense kernels of `dense.ts`: the forward pass as the matmul kernels
 * followed, in the kernels' memory, by the bias and activation on C where the product left
 * it; the backward pass's `g ⊙ act'(z)` and bias gradient on the calling thread. Operands
 * on the kernels' heap are read in place and results that are heap tensor buffers written
 * in place (`heap.ts`). Each returns false (having written nothing) when the kernels are
 * not available; the caller then uses its js loops.
 */

import type { DenseKernelAct } from './dense.js'
import { staged } from './heap.js'
import { wasmExports, wasmMatmulInto } from './matmul-run.js'

type Kernel = (...args: number[]) => void

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
    run: (c, st, ex) => {
      const pb = bias === undefined ? 0 : st.read(bias, N)
      // scratch for a bias always fits once the product did; a failed read leaves pb 0, bias unused
      ;(ex[`dense_${act}`] as Kernel)(c, pb, bias === undefined || !st.ok ? 0 : 1, M, N, alpha)
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
  return staged(wasmExports(), (ex, st) => {
    const n = g.length
    const pg = st.read(g, n)
    const py = st.read(y, n)
    const po = st.write(out, n)
    if (st.ok) (ex[`denseGz_${act}`] as Kernel)(pg, py, po, (n + 3) >> 2, alpha, Math.fround(alpha))
  })
}

/** out[j] = f32(Σ_r d[r, j]) summed in float64, rows in order. */
export const wasmColSumsInto = (d: Float32Array, out: Float32Array, rows: number, N: number): boolean => {
  return staged(wasmExports(), (ex, st) => {
    const pd = st.read(d, rows * N)
    const acc = st.raw(8 * (N + 3))
    const po = st.write(out, N)
    if (st.ok) (ex.colSums as Kernel)(pd, acc, po, rows, N)
  })
}
