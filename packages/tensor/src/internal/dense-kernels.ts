/**
 * The kernels of the fused dense op (`denseOp` in fused.ts): the forward pass
 * `act(x·W + b)` and, for the backward pass, `g ⊙ act'(z)` and the bias gradient (column
 * sums). The plain loops here are the reference; with the `'wasm'` kernel set the generated
 * kernels of `wasm/dense.ts` run instead, bitwise the same but for `exp` in ELU and SELU.
 * The derivative is read off the output y = act(z): for α ≥ 0 (leaky ReLU) and α > 0 (ELU),
 * y > 0 exactly where z > 0 and y < 0 exactly where z < 0 (barring an ELU output that
 * underflows to 0 for |z| < 2⁻¹⁴⁹/α).
 */

import { allocWritten } from '../tensor.js'
import { kernelSet } from './kernel-set.js'
import { matmulInto } from './matmul.js'
import { type DenseKernelAct, SELU_ALPHA, SELU_SCALE } from './wasm/dense.js'
import { wasmColSumsInto, wasmDenseForwardInto, wasmDenseGzInto } from './wasm/dense-run.js'

export type { DenseKernelAct }

/** act(v) for one pre-activation, as `nn.ts` computes it (in float64, rounded on the store). */
const actOf = (act: DenseKernelAct, alpha: number): ((v: number) => number) => {
  switch (act) {
    case 'linear':
      return (v) => v
    case 'relu':
      return (v) => Math.max(v, 0)
    case 'leakyRelu':
      return (v) => (v > 0 ? v : alpha * v)
    case 'elu':
      return (v) => (v > 0 ? v : alpha * Math.expm1(v))
    case 'selu':
      return (v) => (v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v))
  }
}

/** act'(z) read off y = act(z), as `nn.ts`'s derivatives (rounded to float32 before the product). */
const derivativeOf = (act: Exclude<DenseKernelAct, 'linear'>, alpha: number): ((y: number) => number) => {
  switch (act) {
    case 'relu':
      return (y) => (y > 0 ? 1 : 0)
    case 'leakyRelu':
      return (y) => (y > 0 ? 1 : alpha)
    case 'elu':
      return (y) => (y < 0 ? y + alpha : 1)
    case 'selu':
      return (y) => (y < 0 ? y + SELU_SCALE * SELU_ALPHA : SELU_SCALE)
  }
}

/** out[M,N] = act(x[M,K]·w[K,N] + bias). */
export const denseForwardInto = (
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | undefined,
  out: Float32Array,
  M: number,
  K: number,
  N: number,
  act: DenseKernelAct,
  alpha: number,
): void => {
  // with nothing to add or apply, the product alone
  const plain = act === 'linear' && bias === undefined
  if (!plain && kernelSet() === 'wasm' && wasmDenseForwardInto(x, w, bias, out, M, K, N, act, alpha)) return
  matmulInto(x, 0, w, 0, out, 0, M, K, N)
  // bias and activation in place, on the fresh buffer that is about to be wrapped
  if (bias !== undefined)
    for (let i = 0; i < M * N; ) for (let j = 0; j < N; j++, i++) out[i] = out[i]! + bias[j]!
  if (act !== 'linear') {
    const f = actOf(act, alpha)
    for (let i = 0; i < M * N; i++) out[i] = f(out[i]!)
  }
}

/** g ⊙ act'(z) for y = act(z); `g` itself for a linear layer. */
export const denseGz = (
  g: Float32Array,
  y: Float32Array,
  act: DenseKernelAct,
  alpha: number,
): Float32Array => {
  if (act === 'linear') return g
  const out = allocWritten(g.length)
  if (kernelSet() === 'wasm' && wasmDenseGzInto(g, y, out, act, alpha)) return out
  const df = derivativeOf(act, alpha)
  for (let i = 0; i < g.length; i++) out[i] = g[i]! * Math.fround(df(y[i]!))
  return out
}

/** The bias gradient: out[j] = Σ_r d[r, j], summed in float64 rows in order, rounded once. */
export const columnSumsInto = (d: Float32Array, out: Float32Array, rows: number, N: number): void => {
  if (kernelSet() === 'wasm' && wasmColSumsInto(d, out, rows, N)) return
  const acc = new Float64Array(N)
  for (let i = 0; i < rows * N; ) for (let j = 0; j < N; j++, i++) acc[j]! += d[i]!
  out.set(acc)
}
