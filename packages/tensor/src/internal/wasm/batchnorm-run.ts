/**
 * Running the batch-norm passes (`batchnorm.ts`): their own module and memory (not shared),
 * compiled and instantiated once, on the calling thread only. A call copies its operands
 * into the memory (float32 arrays as they are, per-channel vectors as float64), runs one
 * pass, and copies the result out. Each function returns false, having written nothing, when
 * the kernels are missing or the operands do not fit; the caller then runs its js loop.
 *
 * One thread: a pass streams x once or twice (a few µs at batch 32, well under a worker's
 * hand-off), so the pool is not used and the result is trivially the same on any thread count.
 */

import { type WasmMemory, wasmApi } from './api.js'
import { BN_MAX_PAGES, batchNormModuleBytes } from './batchnorm.js'

const PAGE = 65536

/** Inputs with fewer elements stay with the js loops (copying into the memory would not pay). */
export const BN_WASM_MIN = 256

type Fn = (...args: number[]) => void

interface Runtime {
  readonly memory: WasmMemory
  readonly colSum: Fn
  readonly colSqDev: Fn
  readonly gradSums: Fn
  readonly affine: Fn
  readonly dx: Fn
}

/** undefined: not tried yet; null: no WebAssembly SIMD here. */
let runtime: Runtime | null | undefined

const load = (): Runtime | null => {
  const W = wasmApi()
  if (W === undefined) return null
  const bytes = batchNormModuleBytes()
  if (!W.validate(bytes)) return null
  try {
    const memory = new W.Memory({ initial: 1, maximum: BN_MAX_PAGES })
    const ex = new W.Instance(new W.Module(bytes), { env: { memory } }).exports
    return {
      memory,
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

/**
 * Places in the memory: `vecs` per-channel float64 vectors then `elems` float32 arrays of n
 * elements, each followed by 16 bytes of padding (a partial group reads and writes up to
 * three floats past the end). Returns the byte addresses and float32/float64 views, or
 * undefined when they would not fit.
 */
const place = (r: Runtime, n: number, k: number, vecs: number, elems: number) => {
  const vecBytes = 8 * 4 * Math.ceil(k / 4)
  const elemBytes = (4 * n + 16 + 15) & ~15
  const end = vecs * vecBytes + elems * elemBytes
  if (end > BN_MAX_PAGES * PAGE) return undefined
  const have = r.memory.buffer.byteLength
  if (have < end) r.memory.grow(Math.ceil((end - have) / PAGE))
  const buffer = r.memory.buffer
  const vec = (i: number) => i * vecBytes
  const elem = (i: number) => vecs * vecBytes + i * elemBytes
  return {
    vec,
    elem,
    f32: new Float32Array(buffer),
    f64: new Float64Array(buffer),
    /** the call's trailing arguments */
    shape: [4 * k, n / k, Math.ceil(k / 4)] as const,
  }
}

/**
 * The two passes of the batch statistics on one copy of x: `mean[j] = Σᵣ x[r·k + j]`, then
 * `mean[j] /= count` (here, in JavaScript, as the js loop), then
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
  const r = rt()
  const m = r === null ? undefined : place(r, x.length, k, 2, 1)
  if (r === null || m === undefined) return false
  m.f32.set(x, m.elem(0) / 4)
  r.colSum(m.elem(0), m.vec(0), ...m.shape)
  const mu = m.f64.subarray(0, k)
  for (let j = 0; j < k; j++) mu[j]! /= count
  r.colSqDev(m.elem(0), m.vec(0), m.vec(1), ...m.shape)
  mean.set(mu)
  variance.set(m.f64.subarray(m.vec(1) / 8, m.vec(1) / 8 + k))
  return true
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
  const r = rt()
  const m = r === null ? undefined : place(r, x.length, k, 3, 2)
  if (r === null || m === undefined) return false
  m.f64.set(shift, m.vec(0) / 8)
  m.f32.set(g, m.elem(0) / 4)
  m.f32.set(x, m.elem(1) / 4)
  r.gradSums(m.elem(0), m.elem(1), m.vec(0), m.vec(1), m.vec(2), ...m.shape)
  sg.set(m.f64.subarray(m.vec(1) / 8, m.vec(1) / 8 + k))
  sgx.set(m.f64.subarray(m.vec(2) / 8, m.vec(2) / 8 + k))
  return true
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
  const r = rt()
  const m = r === null ? undefined : place(r, x.length, k, 3, 2)
  if (r === null || m === undefined) return false
  for (const [i, v] of [shift, a, b].entries()) m.f64.set(v, m.vec(i) / 8)
  m.f32.set(x, m.elem(0) / 4)
  r.affine(m.elem(0), m.vec(0), m.vec(1), m.vec(2), m.elem(1), ...m.shape)
  out.set(m.f32.subarray(m.elem(1) / 4, m.elem(1) / 4 + x.length))
  return true
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
  const r = rt()
  const m = r === null ? undefined : place(r, x.length, k, 4, 3)
  if (r === null || m === undefined) return false
  for (const [i, v] of [c, m1, shift, m2].entries()) m.f64.set(v, m.vec(i) / 8)
  m.f32.set(g, m.elem(0) / 4)
  m.f32.set(x, m.elem(1) / 4)
  r.dx(m.elem(0), m.elem(1), m.vec(0), m.vec(1), m.vec(2), m.vec(3), m.elem(2), ...m.shape)
  out.set(m.f32.subarray(m.elem(2) / 4, m.elem(2) / 4 + x.length))
  return true
}
