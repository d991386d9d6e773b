import { beforeAll, describe, expect, it } from 'vitest'
import { matmulInto, matmulRows, matmulRowsBT } from '../src/internal/matmul.js'
import { setKernels } from '../src/kernelset.js'

/** Deterministic values in [-1, 1) from a 32-bit LCG. */
const lcg = (seed: number) => {
  let s = seed >>> 0
  return (n: number): Float32Array => {
    const x = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      x[i] = s / 2 ** 31 - 1
    }
    return x
  }
}

/** The float64 triple loop, k ascending, rounded once to float32 per element. */
const reference = (a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array => {
  const c = new Float32Array(M * N)
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0
      for (let k = 0; k < K; k++) acc += a[i * K + k]! * b[k * N + j]!
      c[i * N + j] = acc
    }
  return c
}

/** B [K,N] stored as its transpose [N,K]. */
const transposed = (b: Float32Array, K: number, N: number): Float32Array => {
  const t = new Float32Array(K * N)
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) t[j * K + k] = b[k * N + j]!
  return t
}

describe('matmul kernel', () => {
  // the plain TypeScript kernels (the wasm ones are tested in wasm-matmul.test.ts)
  beforeAll(() => setKernels('js'))

  it('equals the float64 reference rounded once, for every tile remainder', () => {
    const random = lcg(1)
    for (let M = 1; M <= 7; M++)
      for (let N = 1; N <= 9; N++)
        for (const K of [1, 2, 5, 16]) {
          const a = random(M * K)
          const b = random(K * N)
          const c = new Float32Array(M * N)
          matmulInto(a, 0, b, 0, c, 0, M, K, N)
          expect(Array.from(c)).toEqual(Array.from(reference(a, b, M, K, N)))
        }
  })

  it('reads a transposed B in place (A·Bᵀ) with the same bits, for every tile remainder', () => {
    const random = lcg(3)
    for (let M = 1; M <= 7; M++)
      for (let N = 1; N <= 9; N++)
        for (const K of [1, 2, 5, 16]) {
          const a = random(M * K)
          const b = random(K * N)
          const c = new Float32Array(M * N)
          matmulInto(a, 0, transposed(b, K, N), 0, c, 0, M, K, N, true)
          expect(Array.from(c)).toEqual(Array.from(reference(a, b, M, K, N)))
        }
  })

  it('gives zeros for K = 0 and does nothing for M = 0 or N = 0', () => {
    const c = new Float32Array(6).fill(0)
    matmulInto(new Float32Array(0), 0, new Float32Array(0), 0, c, 0, 2, 0, 3)
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0])
    matmulInto(new Float32Array(0), 0, new Float32Array(6), 0, c, 0, 0, 2, 3)
    matmulInto(new Float32Array(6), 0, new Float32Array(0), 0, c, 0, 3, 2, 0)
  })

  it('computes any row range [r0, r1) alone, with offsets, as the whole product does', () => {
    const random = lcg(2)
    const [M, K, N] = [11, 13, 10]
    const a = random(4 + M * K)
    const b = random(1 + K * N)
    const whole = new Float32Array(M * N)
    matmulRows(a, 4, b, 1, whole, 0, K, N, 0, M)
    const parts = new Float32Array(M * N)
    const bt = new Float32Array(1 + K * N)
    bt.set(transposed(b.subarray(1), K, N), 1)
    const partsBT = new Float32Array(M * N)
    for (const [r0, r1] of [
      [0, 2],
      [2, 7],
      [7, 11],
    ] as const) {
      matmulRows(a, 4, b, 1, parts, 0, K, N, r0, r1)
      matmulRowsBT(a, 4, bt, 1, partsBT, 0, K, N, r0, r1)
    }
    expect(Array.from(parts)).toEqual(Array.from(whole))
    expect(Array.from(partsBT)).toEqual(Array.from(whole))
  })
})
