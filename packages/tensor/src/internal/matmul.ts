/**
 * The matmul kernel: C[M,N] = A[M,K] · B[K,N], all row-major. Transposed operands are
 * first copied to this layout (O(MK) next to the O(MKN) product), so every form of the
 * product runs through the same inner loop.
 */

/** Rows [r0, r1) of C = A·B; the accumulation order over k is fixed for every element. */
const matmulRows = (
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
  for (let i = r0; i < r1; i++) {
    const ci = cOff + i * N
    const ai = aOff + i * K
    for (let k = 0; k < K; k++) {
      const x = a[ai + k]!
      const bk = bOff + k * N
      for (let j = 0; j < N; j++) c[ci + j] = c[ci + j]! + x * b[bk + j]!
    }
  }
}

/** C[M,N] = A[M,K] · B[K,N] for one matrix of a batch, written into the fresh buffer `c`. */
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
): void => matmulRows(a, aOff, b, bOff, c, cOff, K, N, 0, M)
