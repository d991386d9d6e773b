/**
 * Running the batch-norm passes (`batchnorm.ts`): their own module on the process's kernel
 * memory (`heap.ts`), compiled and instantiated once, on the calling thread only. Float32
 * operands on the kernels' heap are read in place and results that are heap tensor buffers
 * written in place; others are copied through scratch, as are the per-channel vectors
 * (float64). Each function returns false, having written nothing, when
 * the kernels are missing or the operands do not fit; the caller then runs its js loop.
 *
 * One thread: a pass streams x once or twice (a few µs at batch 32, well under a worker's
 * hand-off), so the pool is not used and the result is trivially the same on any thread count.
 */

import { batchNormModuleBytes } from './batchnorm.js'
import { kernelHeap, type Stage, staged } from './heap.js'

/** Inputs with fewer elements stay with the js loops (copying into the memory would not pay). */
export const BN_WASM_MIN = 256

type Fn = (...args: number[]) => void

interface Runtime {
  readonly colSum: Fn
  readonly colSqDev: Fn
  readonly gradSums: Fn
  readonly affine: Fn
  readonly dx: Fn
}

/** undefined: not tried yet; null: no WebAssembly SIMD here. */
let runtime: Runtime | null | undefined

const load = (): Runtime | null => {
  const h = kernelHeap()
  if (h === null) return null
  const bytes = batchNormModuleBytes(h.shared)
  if (!h.W.validate(bytes)) return null
  try {
    const ex = new h.W.Instance(new h.W.Module(bytes), { env: { memory: h.memory } }).exports
    return {
      colSum: ex.colSum as Fn,
      colSqDev: ex.colSqDev as Fn,
      gradSums: ex.gradSums as Fn,
      affine: ex.affine as Fn,
      dx: ex.dx as Fn,
    }
  } catch {
    return null
  }
}

const rt = (): Runtime | null => {
  if (runtime === undefined) runtime = load()
  return runtime
}

/** True where the batch-norm kernels compile and run. */
export const batchNormWasmReady = (): boolean => rt() !== null

/** Room for a per-channel float64 vector of `k` entries (whole groups of four), set to `v` when given. */
const vec = (st: Stage, k: number, v?: Float64Array): number => {
  const at = st.raw(8 * 4 * Math.ceil(k / 4))
  if (st.ok && v !== undefined) st.f64().set(v, at / 8)
  return at
}

/** The call's trailing arguments. */
const shape = (n: number, k: number) => [4 * k, n / k, Math.ceil(k / 4)] as const

/**
 * The two passes of the batch statistics on x (in place when on the heap): `mean[j] =
 * Σᵣ x[r·k + j]`, then `mean[j] /= count` (here, in JavaScript, as the js loop), then
 * `variance[j] = Σᵣ (x[r·k + j] − mean[j])²` (float64, rows ascending; the caller divides it).
 * False, having written nothing, when not run.
 */
export const wasmColumnMoments = (
  x: Float32Array,
  k: number,
  count: number,
  mean: Float64Array,
  variance: Float64Array,
): boolean => {
  return staged(rt(), (r, st) => {
    const px = st.read(x, x.length)
    const v0 = vec(st, k)
    const v1 = vec(st, k)
    if (!st.ok) return
    r.colSum(px, v0, ...shape(x.length, k))
    const mu = st.f64().subarray(v0 / 8, v0 / 8 + k)
    for (let j = 0; j < k; j++) mu[j]! /= count
    r.colSqDev(px, v0, v1, ...shape(x.length, k))
    mean.set(mu)
    variance.set(st.f64().subarray(v1 / 8, v1 / 8 + k))
  })
}

/** `sg[j] = Σᵣ g`, `sgx[j] = Σᵣ g·(x − shift[j])` (float64, rows ascending); false when not run. */
export const wasmGradSums = (
  g: Float32Array,
  x: Float32Array,
  k: number,
  shift: Float64Array,
  sg: Float64Array,
  sgx: Float64Array,
): boolean => {
  return staged(rt(), (r, st) => {
    const v0 = vec(st, k, shift)
    const v1 = vec(st, k)
    const v2 = vec(st, k)
    const pg = st.read(g, x.length)
    const px = st.read(x, x.length)
    if (!st.ok) return
    r.gradSums(pg, px, v0, v1, v2, ...shape(x.length, k))
    const f64 = st.f64()
    sg.set(f64.subarray(v1 / 8, v1 / 8 + k))
    sgx.set(f64.subarray(v2 / 8, v2 / 8 + k))
  })
}

/** `out[r·k + j] = f32((x − shift[j])·a[j] + b[j])`; false when not run. */
export const wasmAffineInto = (
  x: Float32Array,
  k: number,
  shift: Float64Array,
  a: Float64Array,
  b: Float64Array,
  out: Float32Array,
): boolean => {
  return staged(rt(), (r, st) => {
    const [v0, v1, v2] = [shift, a, b].map((v) => vec(st, k, v)) as [number, number, number]
    const px = st.read(x, x.length)
    const po = st.write(out, x.length)
    if (st.ok) r.affine(px, v0, v1, v2, po, ...shape(x.length, k))
  })
}

/** `out[r·k + j] = f32(c[j]·((g − m1[j]) − (x − shift[j])·m2[j]))`; false when not run. */
export const wasmDxInto = (
  g: Float32Array,
  x: Float32Array,
  k: number,
  c: Float64Array,
  m1: Float64Array,
  shift: Float64Array,
  m2: Float64Array,
  out: Float32Array,
): boolean => {
  return staged(rt(), (r, st) => {
    const [v0, v1, v2, v3] = [c, m1, shift, m2].map((v) => vec(st, k, v)) as [number, number, number, number]
    const pg = st.read(g, x.length)
    const px = st.read(x, x.length)
    const po = st.write(out, x.length)
    if (st.ok) r.dx(pg, px, v0, v1, v2, v3, po, ...shape(x.length, k))
  })
}
