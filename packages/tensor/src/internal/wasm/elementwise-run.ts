/**
 * Running the generated elementwise and sum kernels (`elementwise.ts`) for the plain
 * kernels of `internal/kernels.ts`, when the kernel set is `'wasm'` and the op has at least
 * {@link ELEMENTWISE_WASM_MIN} elements (the callers check the size). One module and one memory of their own, on the
 * calling thread: an op copies its operands into the memory, runs, and copies the result
 * into the caller's fresh buffer. The copies cost about as much as the arithmetic, so
 * handing the arithmetic to the pool would not pay; and with no split at all, the results
 * are the same on any thread count (the sums' partial-sum order depends on the row length
 * only).
 */

import { kernelSet } from '../kernel-set.js'
import { type WasmMemory, wasmApi } from './api.js'
import {
  BINARY_OPS,
  type BinaryOp,
  ELEMENTWISE_MAX_PAGES,
  elementwiseModuleBytes,
  UNARY_OPS,
  type UnaryOp,
} from './elementwise.js'

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

const PAGE = 65536

interface Runtime {
  readonly memory: WasmMemory
  readonly fns: Record<string, (...args: number[]) => void>
  view: Float32Array
}

/** undefined: not tried yet; null: not available here. */
let runtime: Runtime | null | undefined

const load = (): Runtime | null => {
  const W = wasmApi()
  if (W === undefined) return null
  const bytes = elementwiseModuleBytes()
  if (!W.validate(bytes)) return null
  try {
    const memory = new W.Memory({ initial: 1, maximum: ELEMENTWISE_MAX_PAGES })
    const fns = new W.Instance(new W.Module(bytes), { env: { memory } }).exports as Runtime['fns']
    return { memory, fns, view: new Float32Array(memory.buffer) }
  } catch {
    return null
  }
}

/**
 * The runtime when the kernel set is `'wasm'` and the kernels load. The size threshold is
 * the caller's (`internal/kernels.ts`), so that the bench can time the kernels below it.
 */
const use = (_n: number): Runtime | null => {
  if (kernelSet() !== 'wasm') return null
  if (runtime === undefined) runtime = load()
  return runtime
}

/** The memory grown to at least `floats` floats; undefined when it cannot be. */
const memoryView = (r: Runtime, floats: number): Float32Array | undefined => {
  const end = 4 * floats
  if (end > ELEMENTWISE_MAX_PAGES * PAGE) return undefined
  if (r.memory.buffer.byteLength < end) r.memory.grow(Math.ceil((end - r.memory.buffer.byteLength) / PAGE))
  if (r.view.buffer !== r.memory.buffer) r.view = new Float32Array(r.memory.buffer)
  return r.view
}

/** Float offsets rounded up to 16 bytes. */
const up4 = (n: number): number => (n + 3) & ~3

type Floats = ArrayLike<number>

const put = (view: Float32Array, x: ArrayLike<number>, at: number): void => {
  if (x instanceof Float32Array) view.set(x, at)
  else for (let i = 0; i < x.length; i++) view[at + i] = x[i]!
}

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
  const n = rows * m
  const r = use(n)
  const ob = up4(n)
  const oo = ob + up4(m)
  const view = r === null ? undefined : memoryView(r, oo + n)
  if (r === null || view === undefined) return false
  put(view, a, 0)
  put(view, b, ob)
  r.fns[`bin_${op}`]!(0, 4 * ob, 4 * oo, rows, m)
  out.set(view.subarray(oo, oo + n))
  return true
}

/** `out[i] = a[i] op s`, or `s op a[i]` when `flip`; false as {@link wasmBinaryInto}. */
export const wasmScalarInto = (
  op: BinaryOp,
  a: Floats,
  s: number,
  out: Float32Array,
  flip: boolean,
): boolean => {
  const n = a.length
  const r = use(n)
  const oo = up4(n)
  const view = r === null ? undefined : memoryView(r, oo + n)
  if (r === null || view === undefined) return false
  put(view, a, 0)
  r.fns[`sca_${op}`]!(0, s, 4 * oo, n, flip ? 1 : 0)
  out.set(view.subarray(oo, oo + n))
  return true
}

/** `out[i] = op(x[i])`; false as {@link wasmBinaryInto}. */
export const wasmUnaryInto = (op: UnaryOp, x: Floats, out: Float32Array): boolean => {
  const n = x.length
  const r = use(n)
  const oo = up4(n)
  const view = r === null ? undefined : memoryView(r, oo + n)
  if (r === null || view === undefined) return false
  put(view, x, 0)
  r.fns[`un_${op}`]!(0, 4 * oo, n)
  out.set(view.subarray(oo, oo + n))
  return true
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
  const n = outer * red * inner
  const r = use(n)
  if (r === null) return false
  const oo = up4(n)
  const oa = oo + up4(outer * inner)
  // float64 accumulators: 2 floats each
  const view = memoryView(r, oa + 2 * inner)
  if (view === undefined) return false
  put(view, x, 0)
  if (inner === 1) r.fns.rowsum!(0, 4 * oo, outer, red)
  else r.fns.colsum!(0, 4 * oa, 4 * oo, outer, red, inner)
  out.set(view.subarray(oo, oo + outer * inner))
  return true
}
