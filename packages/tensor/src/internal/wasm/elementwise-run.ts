/**
 * Running the generated elementwise and sum kernels (`elementwise.ts`) for the plain
 * kernels of `internal/kernels.ts`, when the kernel set is `'wasm'` and the op has at least
 * {@link ELEMENTWISE_WASM_MIN} elements (the callers check the size). One module on the
 * process's kernel memory (`heap.ts`), on the calling thread: operands on the kernels'
 * heap are read in place and results that are heap tensor buffers written in place, others
 * copied through scratch. A pass is memory-bound, so handing it to the pool would not pay
 * for small ops; and with no split at all, the results
 * are the same on any thread count (the sums' partial-sum order depends on the row length
 * only).
 */

import { kernelSet } from '../kernel-set.js'
import { BINARY_OPS, type BinaryOp, elementwiseModuleBytes, UNARY_OPS, type UnaryOp } from './elementwise.js'
import { kernelHeap, type Stage, stage } from './heap.js'

/** True for the binary ops with a WebAssembly kernel. */
export const isWasmBinary = (op: string): op is BinaryOp => (BINARY_OPS as readonly string[]).includes(op)
/** True for the unary ops with a WebAssembly kernel. */
export const isWasmUnary = (op: string): op is UnaryOp => (UNARY_OPS as readonly string[]).includes(op)

/**
 * Ops over fewer elements stay on the plain loops. Measured with `bench/elementwise.ts`
 * (2-core shared machine, Node 22, medians of interleaved runs, copies included): at 256
 * elements the wasm kernels take 0.15-0.4 µs against 0.3-2.2 µs for the plain loops (add
 * 4.6x, relu 4.4x, column sums 5.8x, sum of all 1.9x); at 64 the gains shrink to
 * 1.4-6x of well under a microsecond, where the extra call and copies are most of the
 * time and the gain in a training step is nil. 256 keeps every op at least ~2x faster.
 */
export const ELEMENTWISE_WASM_MIN = 256

type Fns = Record<string, (...args: number[]) => void>

/** undefined: not tried yet; null: not available here. */
let runtime: Fns | null | undefined

const load = (): Fns | null => {
  const h = kernelHeap()
  if (h === null) return null
  const bytes = elementwiseModuleBytes(h.shared)
  if (!h.W.validate(bytes)) return null
  try {
    return new h.W.Instance(new h.W.Module(bytes), { env: { memory: h.memory } }).exports as Fns
  } catch {
    return null
  }
}

/**
 * The kernels and an op's {@link Stage} when the kernel set is `'wasm'` and the kernels
 * load. The size threshold is the caller's (`internal/kernels.ts`), so that the bench can
 * time the kernels below it.
 */
const use = (): readonly [Fns, Stage] | undefined => {
  if (kernelSet() !== 'wasm') return undefined
  if (runtime === undefined) runtime = load()
  const st = runtime === null ? undefined : stage()
  return runtime === null || st === undefined ? undefined : [runtime, st]
}

type Floats = ArrayLike<number>

/**
 * `out[r·m + j] = a[r·m + j] op b[j]` (`a` of `rows·m` elements, `b` of `m`). Returns
 * false, having done nothing, when the plain loop should run instead.
 */
export const wasmBinaryInto = (
  op: BinaryOp,
  a: Floats,
  b: Floats,
  out: Float32Array,
  rows: number,
  m: number,
): boolean => {
  const u = use()
  if (u === undefined) return false
  const [fns, st] = u
  const n = rows * m
  const pa = st.read(a, n)
  const pb = st.read(b, m)
  const po = st.write(out, n)
  if (st.ok) fns[`bin_${op}`]!(pa, pb, po, rows, m)
  return st.finish()
}

/** `out[i] = a[i] op s`, or `s op a[i]` when `flip`; false as {@link wasmBinaryInto}. */
export const wasmScalarInto = (
  op: BinaryOp,
  a: Floats,
  s: number,
  out: Float32Array,
  flip: boolean,
): boolean => {
  const u = use()
  if (u === undefined) return false
  const [fns, st] = u
  const n = a.length
  const pa = st.read(a, n)
  const po = st.write(out, n)
  if (st.ok) fns[`sca_${op}`]!(pa, s, po, n, flip ? 1 : 0)
  return st.finish()
}

/** `out[i] = op(x[i])`; false as {@link wasmBinaryInto}. */
export const wasmUnaryInto = (op: UnaryOp, x: Floats, out: Float32Array): boolean => {
  const u = use()
  if (u === undefined) return false
  const [fns, st] = u
  const n = x.length
  const px = st.read(x, n)
  const po = st.write(out, n)
  if (st.ok) fns[`un_${op}`]!(px, po, n)
  return st.finish()
}

/**
 * Sums of `x` seen as `[outer, red, inner]` over its middle axis, into `out` (`outer·inner`
 * elements, float32). With `inner > 1` each output is accumulated in float64 in order of
 * the reduced index and rounded once: bitwise the plain loop. With `inner = 1` (sums of
 * rows, and the sum of everything) each row is summed in four float64 partial sums: the
 * result differs from the plain loop's sequential float64 sum by at most one rounding of
 * float32 plus `len·2⁻⁵²·Σ|xᵢ|` (two orders of a float64 sum of `len` terms), i.e.
 * `|wasm − js| ≤ 2⁻²³·|s| + len·2⁻⁵²·Σ|xᵢ|`. Returns false as {@link wasmBinaryInto}.
 */
export const wasmSumInto = (
  x: Floats,
  out: Float32Array,
  outer: number,
  red: number,
  inner: number,
): boolean => {
  const u = use()
  if (u === undefined) return false
  const [fns, st] = u
  const px = st.read(x, outer * red * inner)
  const po = st.write(out, outer * inner)
  // float64 accumulators
  const pacc = inner === 1 ? 0 : st.raw(8 * inner)
  if (st.ok) {
    if (inner === 1) fns.rowsum!(px, po, outer, red)
    else fns.colsum!(px, pacc, po, outer, red, inner)
  }
  return st.finish()
}
