/**
 * Running the generated matmul kernels (`matmul.ts`; the optimizer passes of the same
 * module run from `update-run.ts`, on a memory of their own): one shared WebAssembly memory per
 * process, compiled once, instantiated once per thread (the calling one and each worker of
 * the pool, which receive the module and the memory once, with the kernel). An op copies
 * its operands into the memory, computes (Aᵀ·B packing A into tiles of 4 rows first, on the
 * calling thread, unless K is small; each chunk of an `outer` product packing its own columns of B into panels
 * first), and copies C out into the caller's fresh buffer.
 *
 * Work is split into chunks from the sizes alone: row blocks when M is large, column
 * blocks (multiples of 8) when M is small, as a thread would otherwise re-read all of B
 * for a few rows. Each element's summation order is fixed by K (see `matmul.ts`), so the
 * split, and the thread count, never changes a bit.
 */

import { type PoolKernel, poolThreads, runChunks } from '../pool.js'
import { type WasmMemory, type WasmModule, wasmWorkerExports } from './api.js'
import { kernelHeap, type Stage, stage } from './heap.js'
import { kernelModuleBytes, STRIDED_MAX_K } from './matmul.js'

interface Runtime {
  readonly memory: WasmMemory
  readonly module: WasmModule
  readonly shared: boolean
  readonly outer: OuterFn
  readonly outerTiled: OuterFn
  readonly outerStrided: OuterFn
  readonly dot: MatmulFn
  readonly pack: (b: number, bK: number, dst: number, K: number, N: number) => void
  readonly packA: (a: number, aK: number, dst: number, M: number, K: number) => void
  readonly exports: Record<string, unknown>
}

type MatmulFn = (
  a: number,
  aRow: number,
  aK: number,
  b: number,
  bK: number,
  c: number,
  cRow: number,
  K: number,
  N: number,
  r0: number,
  r1: number,
  j0: number,
  j1: number,
) => void

type OuterFn = (
  a: number,
  aRow: number,
  bp: number,
  c: number,
  cRow: number,
  K: number,
  N: number,
  r0: number,
  r1: number,
  j0: number,
  j1: number,
) => void

/** undefined: not tried yet; null: no WebAssembly SIMD here. */
let runtime: Runtime | null | undefined

const load = (): Runtime | null => {
  const h = kernelHeap()
  if (h === null) return null
  const bytes = kernelModuleBytes(h.shared)
  if (!h.W.validate(bytes)) return null
  try {
    const memory = h.memory
    const module = new h.W.Module(bytes)
    const ex = new h.W.Instance(module, { env: { memory } }).exports
    return {
      memory,
      module,
      shared: h.shared,
      outer: ex.outer as OuterFn,
      outerTiled: ex.outerTiled as OuterFn,
      outerStrided: ex.outerStrided as OuterFn,
      packA: ex.packA as Runtime['packA'],
      dot: ex.dot as MatmulFn,
      pack: ex.pack as Runtime['pack'],
      exports: ex,
    }
  } catch {
    return null
  }
}

const rt = (): Runtime | null => {
  if (runtime === undefined) runtime = load()
  return runtime
}

/** True where the WebAssembly SIMD kernels compile and run. */
export const wasmReady = (): boolean => rt() !== null

/**
 * The arguments of one op (the memory and module reach the workers once, as the kernel's
 * context). `kernel` 1: C = A·Bᵀ by `dot`, B read in place; 0: C = A·B by `outer`, 2:
 * C = Aᵀ·B by `outerTiled` on A already packed in tiles of 4 rows, 3: C = Aᵀ·B by
 * `outerStrided`, A read in place; for 0, 2 and 3 each chunk first packs its own columns of
 * B into panels at `packAt + chunk·packStride`.
 */
type WasmMatmulArgs = readonly [
  kernel: number,
  a: number,
  aRow: number,
  aK: number,
  b: number,
  bK: number,
  c: number,
  cRow: number,
  K: number,
  N: number,
  M: number,
  rows: number,
  cols: number,
  packAt: number,
  packStride: number,
]

type Kernels = Pick<Runtime, 'outer' | 'outerTiled' | 'outerStrided' | 'dot' | 'pack'>

/**
 * One chunk: rows [r0, r1) = row block ⌊chunk / colChunks⌋, columns [j0, j1) = column block
 * chunk mod colChunks. For `outer` the chunk packs B's columns [j0, j1) (K·(j1 − j0)
 * floats, against the chunk's M·K·(j1 − j0) multiply-adds) and multiplies them at once,
 * while they are in L1: no thread waits for a serial packing pass. Self-contained (the
 * pool ships its source text).
 */
const matmulChunk = (ex: Kernels, args: WasmMatmulArgs, chunk: number): void => {
  const [kernel, a, aRow, aK, b, bK, c, cRow, K, N, M, rows, cols, packAt, packStride] = args
  const colChunks = Math.ceil(N / cols)
  const r0 = Math.floor(chunk / colChunks) * rows
  const r1 = Math.min(M, r0 + rows)
  const j0 = (chunk % colChunks) * cols
  const j1 = Math.min(N, j0 + cols)
  if (kernel === 1) ex.dot(a, aRow, aK, b, bK, c, cRow, K, N, r0, r1, j0, j1)
  else {
    const panels = packAt + chunk * packStride
    ex.pack(b + 4 * j0, bK, panels, K, j1 - j0)
    ;(kernel === 2 ? ex.outerTiled : kernel === 3 ? ex.outerStrided : ex.outer)(
      a,
      aRow,
      panels,
      c + 4 * j0,
      cRow,
      K,
      j1 - j0,
      r0,
      r1,
      0,
      j1 - j0,
    )
  }
}

/** A chunk in a worker, on the worker's own instance of the module ({@link wasmWorkerExports}). */
const wasmMatmulChunk = (
  args: WasmMatmulArgs,
  chunk: number,
  context: readonly [WasmMemory, WasmModule],
): void => matmulChunk(workerExports<Kernels>('__purennMatmul', context), args, chunk)
// provided in the workers by the part of that name (an import would not survive shipping)
declare const workerExports: typeof wasmWorkerExports

const wasmMatmulKernel: PoolKernel<WasmMatmulArgs> = {
  name: 'wasmMatmul',
  parts: [
    ['workerExports', wasmWorkerExports],
    ['matmulChunk', matmulChunk],
    ['wasmMatmulChunk', wasmMatmulChunk],
  ],
  entry: (args, chunk) => matmulChunk(rt()!, args, chunk),
  context: () => {
    const r = rt()!
    return [r.memory, r.module]
  },
}

/**
 * Products with fewer multiply-adds run on the calling thread alone: at ~15·10⁹
 * multiply-adds/s per core, 400,000 take ~25 µs, while handing an op to a worker costs
 * ~1 µs when it is polling and 10-30 µs when it has to be woken (see pool.ts).
 */
export const WASM_POOL_MIN_MADDS = 400_000

/**
 * The chunk grid of an M x N product, a function of the sizes only, about 48 chunks so that
 * 2 or 3 threads get near-equal shares even when a worker starts late. A·Bᵀ (`dot`): row
 * blocks (multiples of 4 rows) when M >= 64, else all rows and column blocks (multiples of 8
 * columns); a tile streams B's rows whatever rows its chunk holds, so small chunks cost only
 * the call. op(A)·B (`outer`, whose chunks pack their own columns of B): row blocks of at
 * most 256 rows, each cut into column blocks of whole 8-column panels (one panel each when
 * N <= 384).
 */
export const wasmChunkGrid = (
  M: number,
  N: number,
  dot = true,
): { rows: number; cols: number; chunks: number } => {
  let rows: number
  let cols: number
  if (dot) {
    rows = M >= 64 ? 4 * Math.ceil(M / 192) : M
    cols = M >= 64 ? N : 8 * Math.ceil(N / 384)
  } else {
    const rowBlocks = Math.ceil(M / 256)
    rows = 4 * Math.ceil(M / (4 * rowBlocks))
    cols = 8 * Math.ceil(Math.ceil(N / 8) / Math.ceil(48 / rowBlocks))
  }
  return { rows, cols, chunks: Math.ceil(M / rows) * Math.ceil(N / cols) }
}

const align = (n: number): number => (n + 63) & ~63

/**
 * A step run on C in the kernels' memory after the product and before C is copied out
 * (the fused dense layer's bias and activation): `run(c, st)` gets C's byte offset and the
 * op's {@link Stage}, for the scratch it needs.
 */
export interface WasmEpilogue {
  readonly run: (c: number, st: Stage, exports: Record<string, unknown>) => void
}

/**
 * C[M,N] = op(A)·op(B) into `c` at `cOff` with the WebAssembly kernels (then `epilogue`, if
 * given, on C); `aT`: A stored [K,M]; `bT`: B stored [N,K]. Operands on the kernels' heap are
 * read in place and C, when `c` is a heap tensor buffer and `cOff` is 0, is written in place;
 * others go through scratch. Returns false (having done nothing) when the kernels are not
 * available or the operands do not fit the memory; the caller then uses the js kernels.
 */
export const wasmMatmulInto = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  K: number,
  N: number,
  bT: boolean,
  aT: boolean,
  epilogue?: WasmEpilogue,
): boolean => {
  const r = rt()
  if (r === null) return false
  if (M === 0 || N === 0) return true
  if (K === 0 && epilogue === undefined) {
    c.fill(0, cOff, cOff + M * N)
    return true
  }
  if (aT && bT) return false
  const st = stage()!
  const grid = wasmChunkGrid(M, N, bT)
  const packStride = bT ? 0 : align(4 * K * grid.cols)
  const offA = st.read(a, M * K, aOff)
  const offB = st.read(b, K * N, bOff)
  const offP = grid.chunks * packStride === 0 ? 0 : st.raw(grid.chunks * packStride)
  // Aᵀ·B: A in tiles of 4 rows (packA), unless K is small enough to read it in place
  const packsA = aT && K > STRIDED_MAX_K
  const offPA = packsA ? st.raw(16 * Math.ceil(M / 4) * K) : 0
  const offC = cOff === 0 ? st.write(c, M * N) : st.raw(4 * M * N)
  if (!st.ok) return st.finish()
  const args: WasmMatmulArgs = [
    bT ? 1 : packsA ? 2 : aT ? 3 : 0,
    packsA ? offPA : offA,
    aT && !packsA ? 4 * M : 4 * K,
    aT ? 4 * M : 4,
    offB,
    bT ? 4 * K : 4 * N,
    offC,
    4 * N,
    K,
    N,
    M,
    grid.rows,
    grid.cols,
    offP,
    packStride,
  ]
  if (packsA) r.packA(offA, 4 * M, offPA, M, K)
  if (M * K * N < WASM_POOL_MIN_MADDS || grid.chunks < 2 || poolThreads() < 2 || !r.shared)
    for (let chunk = 0; chunk < grid.chunks; chunk++) matmulChunk(r, args, chunk)
  else runChunks('matmul', wasmMatmulKernel, args, grid.chunks)
  epilogue?.run(offC, st, r.exports)
  if (cOff !== 0) c.set(st.f32().subarray(offC / 4, offC / 4 + M * N), cOff)
  return st.finish()
}

/**
 * The exports of the kernels' instance on the calling thread (the softmax and dense
 * kernels of `softmax-run.ts` and `dense-run.ts` live in the same module); undefined when
 * the kernels are not available.
 */
export const wasmExports = (): Record<string, unknown> | undefined => rt()?.exports
