/**
 * The matmul kernels: C[M,N] = A[M,K] · B[K,N], all row-major, and C = A · Bᵀ with B
 * stored as [N,K] (the form of backprop's `g·Wᵀ`), which reads B's rows in place: copying
 * a transposed weight matrix cost a quarter of the product. A transposed A is copied to
 * row-major first (in backprop it is the activations, small next to the weights).
 *
 * The loop works on a range of output rows, the unit the worker pool splits work into.
 * Every element is summed in the same order whatever the split or the register tile that
 * computes it: `acc = 0; for k = 0..K-1: acc += A[i,k]·B[k,j]` in float64 (each product of
 * two float32 values is exact in float64), rounded once to float32 when stored. So results
 * are bitwise identical on any number of threads, and the two kernels agree bit for bit.
 */

import { kernelSet } from './kernel-set.js'
import { isSharedBuffer } from './platform.js'
import { type PoolKernel, poolThreads, runChunks, sharedScratch } from './pool.js'
import { wasmMatmulInto } from './wasm/matmul-run.js'

/**
 * Rows [r0, r1) of C = A·B, overwriting them. A 3x4 register tile: three rows of A and a
 * 4-wide column strip of B, twelve float64 accumulators in locals, k innermost, so each
 * step does 12 multiply-adds for 7 loads. Leftover rows use 1x4 tiles, leftover columns
 * 3x1 and 1x1 tiles, all with the same k order.
 *
 * @remarks
 * Self-contained (no imports, no free variables): the worker pool ships its source text to
 * the workers. Packing B into contiguous panels was measured and not faster here (the
 * hardware prefetcher follows the stride-N column strip), and it would add a serial step
 * before the parallel one, so B is read in place.
 */
export const matmulRows = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  K: number,
  N: number,
  r0: number,
  r1: number,
): void => {
  const N4 = N - (N % 4)
  let i = r0
  for (; i + 3 <= r1; i += 3) {
    const a0 = aOff + i * K
    const a1 = a0 + K
    const a2 = a1 + K
    const o0 = cOff + i * N
    const o1 = o0 + N
    const o2 = o1 + N
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0
      let c01 = 0
      let c02 = 0
      let c03 = 0
      let c10 = 0
      let c11 = 0
      let c12 = 0
      let c13 = 0
      let c20 = 0
      let c21 = 0
      let c22 = 0
      let c23 = 0
      let q = bOff + j
      for (let k = 0; k < K; k++) {
        const b0 = b[q]!
        const b1 = b[q + 1]!
        const b2 = b[q + 2]!
        const b3 = b[q + 3]!
        q += N
        const x0 = a[a0 + k]!
        const x1 = a[a1 + k]!
        const x2 = a[a2 + k]!
        c00 += x0 * b0
        c01 += x0 * b1
        c02 += x0 * b2
        c03 += x0 * b3
        c10 += x1 * b0
        c11 += x1 * b1
        c12 += x1 * b2
        c13 += x1 * b3
        c20 += x2 * b0
        c21 += x2 * b1
        c22 += x2 * b2
        c23 += x2 * b3
      }
      c[o0 + j] = c00
      c[o0 + j + 1] = c01
      c[o0 + j + 2] = c02
      c[o0 + j + 3] = c03
      c[o1 + j] = c10
      c[o1 + j + 1] = c11
      c[o1 + j + 2] = c12
      c[o1 + j + 3] = c13
      c[o2 + j] = c20
      c[o2 + j + 1] = c21
      c[o2 + j + 2] = c22
      c[o2 + j + 3] = c23
    }
    for (let j = N4; j < N; j++) {
      let c0 = 0
      let c1 = 0
      let c2 = 0
      let q = bOff + j
      for (let k = 0; k < K; k++) {
        const y = b[q]!
        q += N
        c0 += a[a0 + k]! * y
        c1 += a[a1 + k]! * y
        c2 += a[a2 + k]! * y
      }
      c[o0 + j] = c0
      c[o1 + j] = c1
      c[o2 + j] = c2
    }
  }
  for (; i < r1; i++) {
    const a0 = aOff + i * K
    const o0 = cOff + i * N
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0
      let c01 = 0
      let c02 = 0
      let c03 = 0
      let q = bOff + j
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k]!
        c00 += x0 * b[q]!
        c01 += x0 * b[q + 1]!
        c02 += x0 * b[q + 2]!
        c03 += x0 * b[q + 3]!
        q += N
      }
      c[o0 + j] = c00
      c[o0 + j + 1] = c01
      c[o0 + j + 2] = c02
      c[o0 + j + 3] = c03
    }
    for (let j = N4; j < N; j++) {
      let c0 = 0
      let q = bOff + j
      for (let k = 0; k < K; k++) {
        c0 += a[a0 + k]! * b[q]!
        q += N
      }
      c[o0 + j] = c0
    }
  }
}

/**
 * Rows [r0, r1) of C = A·Bᵀ, overwriting them, with B stored as [N,K] (row j of B is
 * column j of Bᵀ). The 3x4 register tile of {@link matmulRows}, reading three rows of A and
 * four rows of B, all contiguous in k; the same k order, so the same bits as
 * `matmulRows` on a transposed copy of B.
 *
 * @remarks Self-contained, like `matmulRows`: the worker pool ships its source text.
 */
export const matmulRowsBT = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  K: number,
  N: number,
  r0: number,
  r1: number,
): void => {
  const N4 = N - (N % 4)
  let i = r0
  for (; i + 3 <= r1; i += 3) {
    const a0 = aOff + i * K
    const a1 = a0 + K
    const a2 = a1 + K
    const o0 = cOff + i * N
    const o1 = o0 + N
    const o2 = o1 + N
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0
      let c01 = 0
      let c02 = 0
      let c03 = 0
      let c10 = 0
      let c11 = 0
      let c12 = 0
      let c13 = 0
      let c20 = 0
      let c21 = 0
      let c22 = 0
      let c23 = 0
      const q0 = bOff + j * K
      const q1 = q0 + K
      const q2 = q1 + K
      const q3 = q2 + K
      for (let k = 0; k < K; k++) {
        const b0 = b[q0 + k]!
        const b1 = b[q1 + k]!
        const b2 = b[q2 + k]!
        const b3 = b[q3 + k]!
        const x0 = a[a0 + k]!
        const x1 = a[a1 + k]!
        const x2 = a[a2 + k]!
        c00 += x0 * b0
        c01 += x0 * b1
        c02 += x0 * b2
        c03 += x0 * b3
        c10 += x1 * b0
        c11 += x1 * b1
        c12 += x1 * b2
        c13 += x1 * b3
        c20 += x2 * b0
        c21 += x2 * b1
        c22 += x2 * b2
        c23 += x2 * b3
      }
      c[o0 + j] = c00
      c[o0 + j + 1] = c01
      c[o0 + j + 2] = c02
      c[o0 + j + 3] = c03
      c[o1 + j] = c10
      c[o1 + j + 1] = c11
      c[o1 + j + 2] = c12
      c[o1 + j + 3] = c13
      c[o2 + j] = c20
      c[o2 + j + 1] = c21
      c[o2 + j + 2] = c22
      c[o2 + j + 3] = c23
    }
    for (let j = N4; j < N; j++) {
      let c0 = 0
      let c1 = 0
      let c2 = 0
      const q = bOff + j * K
      for (let k = 0; k < K; k++) {
        const y = b[q + k]!
        c0 += a[a0 + k]! * y
        c1 += a[a1 + k]! * y
        c2 += a[a2 + k]! * y
      }
      c[o0 + j] = c0
      c[o1 + j] = c1
      c[o2 + j] = c2
    }
  }
  for (; i < r1; i++) {
    const a0 = aOff + i * K
    const o0 = cOff + i * N
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0
      let c01 = 0
      let c02 = 0
      let c03 = 0
      const q0 = bOff + j * K
      const q1 = q0 + K
      const q2 = q1 + K
      const q3 = q2 + K
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k]!
        c00 += x0 * b[q0 + k]!
        c01 += x0 * b[q1 + k]!
        c02 += x0 * b[q2 + k]!
        c03 += x0 * b[q3 + k]!
      }
      c[o0 + j] = c00
      c[o0 + j + 1] = c01
      c[o0 + j + 2] = c02
      c[o0 + j + 3] = c03
    }
    for (let j = N4; j < N; j++) {
      let c0 = 0
      const q = bOff + j * K
      for (let k = 0; k < K; k++) c0 += a[a0 + k]! * b[q + k]!
      c[o0 + j] = c0
    }
  }
}

/** The arguments of one pooled product: buffers on shared memory, then sizes. */
type MatmulArgs = readonly [
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  K: number,
  N: number,
  rowsPerChunk: number,
  bTransposed: number,
]

/**
 * One chunk of a pooled product: rows [chunk·rowsPerChunk, +rowsPerChunk). Self-contained
 * but for `matmulRows` and `matmulRowsBT`, which the pool ships with it.
 */
const matmulChunk = (args: MatmulArgs, chunk: number): void => {
  const [a, aOff, b, bOff, c, cOff, M, K, N, rows, bT] = args
  const r0 = chunk * rows
  const r1 = Math.min(M, r0 + rows)
  if (bT === 1) matmulRowsBT(a, aOff, b, bOff, c, cOff, K, N, r0, r1)
  else matmulRows(a, aOff, b, bOff, c, cOff, K, N, r0, r1)
}

const matmulKernel: PoolKernel<MatmulArgs> = {
  name: 'matmul',
  parts: [
    ['matmulRows', matmulRows],
    ['matmulRowsBT', matmulRowsBT],
    ['matmulChunk', matmulChunk],
  ],
  entry: matmulChunk,
}

/**
 * Products with at least this many multiply-adds (M·K·N, i.e. 2e5 flops) go to the worker
 * pool; smaller ones run inline. Measured with `bench/run.ts` on 2 cores: two threads beat
 * one from ~3e4 multiply-adds on when the worker is awake (ops back to back, as in
 * training) and from ~1.5-2e5 on when it has to be woken up.
 */
export const POOL_MIN_MADDS = 100_000

/**
 * Rows per chunk of a pooled product: a multiple of the 3-row tile, about 16 chunks for
 * large M. A function of M only, never of the thread count, so the split is the same on
 * any number of threads (and each element's sum does not depend on it anyway).
 */
export const rowsPerChunk = (M: number): number => 3 * Math.max(1, Math.ceil(M / 48))

const isShared = (x: Float32Array): boolean => isSharedBuffer(x.buffer)

/** A [K,M] stored at `aOff` (the transpose of the operand) as a row-major [M,K] copy. */
const transposedCopy = (a: Float32Array, aOff: number, M: number, K: number): Float32Array => {
  const t = new Float32Array(M * K)
  for (let k = 0; k < K; k++) for (let i = 0; i < M; i++) t[i * K + k] = a[aOff + k * M + i]!
  return t
}

/**
 * C[M,N] = A[M,K] · B[K,N] for one matrix of a batch, written into the fresh buffer `c`
 * at `cOff` (the rows of C are overwritten). The single entry point the ops use. With
 * `bTransposed`, B is stored as [N,K] and the product is A·Bᵀ; with `aTransposed`, A is
 * stored as [K,M] and the product is Aᵀ·B.
 *
 * With the `'wasm'` kernel set (the default where WebAssembly SIMD exists) the product
 * runs on the generated SIMD kernels (`wasm/matmul-run.ts`), else on the plain ones: a
 * transposed A is copied to row-major, a transposed B is read in place
 * ({@link matmulRowsBT}). Products of at least {@link POOL_MIN_MADDS} multiply-adds with
 * at least two chunks of rows run on the worker pool ({@link matmulOnPool}) when more than
 * one thread is set; the others run inline.
 */
export const matmulInto = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  K: number,
  N: number,
  bTransposed = false,
  aTransposed = false,
): void => {
  if (kernelSet() === 'wasm' && wasmMatmulInto(a, aOff, b, bOff, c, cOff, M, K, N, bTransposed, aTransposed))
    return
  if (aTransposed) {
    a = transposedCopy(a, aOff, M, K)
    aOff = 0
  }
  if (M * K * N < POOL_MIN_MADDS || M <= rowsPerChunk(M) || poolThreads() < 2)
    (bTransposed ? matmulRowsBT : matmulRows)(a, aOff, b, bOff, c, cOff, K, N, 0, M)
  else matmulOnPool(a, aOff, b, bOff, c, cOff, M, K, N, bTransposed)
}

/**
 * {@link matmulInto} on the worker pool whatever the size: chunks of rows computed by the
 * workers and the calling thread together. Operands or a result not on shared memory go
 * through pool-owned shared scratch buffers (copies of O(MK + KN + MN)).
 */
export const matmulOnPool = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  K: number,
  N: number,
  bTransposed = false,
): void => {
  const rows = rowsPerChunk(M)
  let A = a
  let B = b
  let C = c
  if (!isShared(a)) {
    A = sharedScratch(0, M * K)
    A.set(a.subarray(aOff, aOff + M * K))
    aOff = 0
  }
  if (!isShared(b)) {
    B = sharedScratch(1, K * N)
    B.set(b.subarray(bOff, bOff + K * N))
    bOff = 0
  }
  const cShared = isShared(c)
  if (!cShared) C = sharedScratch(2, M * N)
  runChunks(
    'matmul',
    matmulKernel,
    [A, aOff, B, bOff, C, cShared ? cOff : 0, M, K, N, rows, bTransposed ? 1 : 0],
    Math.ceil(M / rows),
  )
  if (!cShared) c.set(C.subarray(0, M * N), cOff)
}
