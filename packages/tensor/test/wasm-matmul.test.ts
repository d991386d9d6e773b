import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { matmulInto } from '../src/internal/matmul.js'
import { __poolForTests } from '../src/internal/pool.js'
import { K_BLOCK, STRIDED_MAX_K } from '../src/internal/wasm/matmul.js'
import { WASM_POOL_MIN_MADDS, wasmChunkGrid } from '../src/internal/wasm/matmul-run.js'
import { setKernels } from '../src/kernelset.js'
import { matmul } from '../src/linalg.js'
import { tensor, toArray } from '../src/tensor.js'
import { setThreads } from '../src/threads.js'

/** Deterministic inputs: a 32-bit LCG, values in [-1, 1), on shared memory from 16384 floats. */
const lcg = (seed: number) => {
  let s = seed >>> 0
  return (n: number): Float32Array => {
    const x = n >= 1 << 14 ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n)
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      x[i] = s / 2 ** 31 - 1
    }
    return x
  }
}

type Form = 'AB' | 'ABt' | 'AtB'
const forms: Form[] = ['AB', 'ABt', 'AtB']

/** op(A)[i,k] and op(B)[k,j] of a form: A stored [M,K] or [K,M], B stored [K,N] or [N,K]. */
const at = (form: Form, a: Float32Array, M: number, K: number, i: number, k: number) =>
  form === 'AtB' ? a[k * M + i]! : a[i * K + k]!
const bt = (form: Form, b: Float32Array, K: number, N: number, k: number, j: number) =>
  form === 'ABt' ? b[j * K + k]! : b[k * N + j]!

/** C through matmulInto with kernel set `set` on `threads` threads. */
const product = (
  set: 'js' | 'wasm',
  threads: number,
  form: Form,
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
) => {
  setKernels(set)
  setThreads(threads)
  const c = new Float32Array(M * N).fill(Number.NaN)
  matmulInto(a, 0, b, 0, c, 0, M, K, N, form === 'ABt', form === 'AtB')
  return c
}

const firstBitDifference = (x: Float32Array, y: Float32Array): number => {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length)
  const v = new Uint32Array(y.buffer, y.byteOffset, y.length)
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return i
  return u.length === v.length ? -1 : u.length
}

const untilWorkersRun = async (op: () => void): Promise<number> => {
  const before = __poolForTests.chunksByWorkers()
  const deadline = performance.now() + 20_000
  while (performance.now() < deadline && __poolForTests.chunksByWorkers() === before) {
    op()
    await new Promise((r) => setTimeout(r, 5))
  }
  return __poolForTests.chunksByWorkers() - before
}

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

describe('wasm matmul kernels', () => {
  it('agree with the js kernels within (K + 2)·2⁻²³·Σₖ|a·b| per element, all three forms, random shapes', () => {
    // The js kernels round the exact sum once; the wasm kernels sum K rounded products in
    // float32 (γ_K ≤ K·2⁻²⁴·(1 + o(1)) of Σ|a·b| each), so both errors fit the bound.
    fc.assert(
      fc.property(
        fc.constantFrom(...forms),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        (form, M, K, N, seed) => {
          const random = lcg(seed)
          const a = random(M * K)
          const b = random(K * N)
          const js = product('js', 1, form, a, b, M, K, N)
          const wasm = product('wasm', 1, form, a, b, M, K, N)
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let abs = 0
              for (let k = 0; k < K; k++) abs += Math.abs(at(form, a, M, K, i, k) * bt(form, b, K, N, k, j))
              const d = Math.abs(wasm[i * N + j]! - js[i * N + j]!)
              if (!(d <= (K + 2) * 2 ** -23 * abs)) return false
            }
          return true
        },
      ),
      { seed: 14, numRuns: 150 },
    )
  })

  it('are exact on small integers (every index and tail right), all three forms', () => {
    for (const form of forms)
      for (const [M, K, N] of [
        [1, 1, 1],
        [5, 3, 7],
        [4, 8, 8],
        [9, 5, 17],
        [13, 6, 3],
      ] as const) {
        const a = Float32Array.from({ length: M * K }, (_, i) => (i % 7) - 3)
        const b = Float32Array.from({ length: K * N }, (_, i) => (i % 5) - 2)
        const c = product('wasm', 1, form, a, b, M, K, N)
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = 0
            for (let k = 0; k < K; k++) s += at(form, a, M, K, i, k) * bt(form, b, K, N, k, j)
            expect(c[i * N + j]).toBe(s)
          }
      }
  })

  it('give zeros for K = 0', () => {
    expect(Array.from(product('wasm', 1, 'AB', new Float32Array(0), new Float32Array(0), 2, 0, 3))).toEqual([
      0, 0, 0, 0, 0, 0,
    ])
  })

  it('serve matmul with both flags and batches, as the js kernels do within tolerance', () => {
    const a = tensor([
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, -9],
      ],
      [
        [0.5, -1, 2],
        [3, 0, -2],
        [1, 1, 1],
      ],
    ])
    for (const [tA, tB] of [
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      setKernels('js')
      const js = toArray(matmul(a, a, { transposeA: tA, transposeB: tB }))
      setKernels('wasm')
      expect(toArray(matmul(a, a, { transposeA: tA, transposeB: tB }))).toEqual(js) // small integers: exact
    }
  })

  it('are bitwise identical on 1, 2 and 3 threads, for each kernel set and form, row and column splits', async () => {
    const random = lcg(7)
    // M >= 64: row blocks; M < 64: column blocks; tails in every dimension
    const shapes: [number, number, number][] = [
      [32, 300, 100],
      [97, 151, 40],
      [130, 53, 71],
      [7, 400, 150],
    ]
    for (const [M, K, N] of shapes) {
      expect(M * K * N).toBeGreaterThanOrEqual(WASM_POOL_MIN_MADDS)
      expect(wasmChunkGrid(M, N).chunks).toBeGreaterThan(1)
      const a = random(M * K)
      const b = random(K * N)
      for (const set of ['js', 'wasm'] as const)
        for (const form of forms) {
          const one = product(set, 1, form, a, b, M, K, N)
          for (const threads of [2, 3]) {
            setThreads(threads)
            if (form === 'AB')
              expect(await untilWorkersRun(() => product(set, threads, form, a, b, M, K, N))).toBeGreaterThan(
                0,
              )
            expect(firstBitDifference(product(set, threads, form, a, b, M, K, N), one)).toBe(-1)
          }
        }
    }
  })

  it('reject an unknown kernel set by name', () => {
    // @ts-expect-error: not a kernel set
    expect(() => setKernels('gpu')).toThrow(/expected 'js' or 'wasm', got gpu/)
  })
})

describe('wasm outer kernel: blocked summation order', () => {
  it('sums blocks of K_BLOCK k from zero, then the block sums in order (A·B and Aᵀ·B, 4- and 1-row tiles, partial panels)', () => {
    // a = [1, 2⁻²⁵ × 255] against b = 1: a running float32 sum stays at 1 (each 2⁻²⁵ is below
    // half an ulp of 1); in blocks of 16, the first block rounds to 1 and each of the other 15
    // sums exactly to 16·2⁻²⁵ = 2⁻²¹, added exactly: 1 + 15·2⁻²¹. (The exact sum is 1 + 255·2⁻²⁵.)
    expect(K_BLOCK).toBe(16)
    const K = 256
    for (const [M, N] of [
      [5, 9],
      [1, 3],
    ] as const) {
      const row = Float32Array.from({ length: K }, (_, k) => (k === 0 ? 1 : 2 ** -25))
      const a = new Float32Array(M * K)
      for (let i = 0; i < M; i++) a.set(row, i * K)
      const aT = new Float32Array(K * M)
      for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) aT[k * M + i] = row[k]!
      const b = new Float32Array(K * N).fill(1)
      const expected = new Float32Array(M * N).fill(1 + 15 * 2 ** -21)
      expect(Array.from(product('wasm', 1, 'AB', a, b, M, K, N))).toEqual(Array.from(expected))
      expect(Array.from(product('wasm', 1, 'AtB', aT, b, M, K, N))).toEqual(Array.from(expected))
    }
  })
})

/**
 * Each form's summation order, written out in scalar float32 (every operation rounded by
 * Math.fround), independently of the kernels: A·B and Aᵀ·B sum blocks of K_BLOCK k's, each
 * from zero k ascending, then the block sums in order; A·Bᵀ keeps four partial sums over
 * k ≡ 0, 1, 2, 3 (mod 4) up to the last multiple of 4, combines them as (s0 + s2) + (s1 + s3),
 * then adds the last K mod 4 products in order.
 */
const orderedProduct = (form: Form, a: Float32Array, b: Float32Array, M: number, K: number, N: number) => {
  const f = Math.fround
  const c = new Float32Array(M * N)
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      const ab = (k: number) => f(at(form, a, M, K, i, k) * bt(form, b, K, N, k, j))
      let total = 0
      if (form === 'ABt') {
        const k4 = K - (K % 4)
        const s = [0, 0, 0, 0]
        for (let k = 0; k < k4; k++) s[k % 4] = f(s[k % 4]! + ab(k))
        total = f(f(s[0]! + s[2]!) + f(s[1]! + s[3]!))
        for (let k = k4; k < K; k++) total = f(total + ab(k))
      } else
        for (let k0 = 0; k0 < K; k0 += K_BLOCK) {
          let block = 0
          for (let k = k0; k < Math.min(K, k0 + K_BLOCK); k++) block = f(block + ab(k))
          total = f(total + block)
        }
      c[i * N + j] = total
    }
  return c
}

describe('wasm matmul kernels: fixed summation order', () => {
  it("equal, bitwise, the scalar float32 sums in each form's order, random shapes with edges (M, N, K not multiples of the tiles)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...forms),
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 27 }),
        fc.integer({ min: 1, max: 1000 }),
        (form, M, K, N, seed) => {
          const random = lcg(seed)
          const a = random(M * K)
          const b = random(K * N)
          return (
            firstBitDifference(
              product('wasm', 1, form, a, b, M, K, N),
              orderedProduct(form, a, b, M, K, N),
            ) === -1
          )
        },
      ),
      { seed: 1414, numRuns: 200 },
    )
    // the step's kind of shapes: several row tiles and panels, chunk grids with row and column blocks
    const random = lcg(3)
    for (const [M, K, N] of [
      [70, 37, 45],
      [9, 300, 20],
      [261, 19, 11],
    ] as const) {
      const a = random(M * K)
      const b = random(K * N)
      for (const form of forms)
        expect(
          firstBitDifference(product('wasm', 1, form, a, b, M, K, N), orderedProduct(form, a, b, M, K, N)),
        ).toBe(-1)
    }
  })
  it('Aᵀ·B reads A in place up to K = STRIDED_MAX_K and packs it above: both in the same order, on 1, 2 and 3 threads', async () => {
    expect(STRIDED_MAX_K).toBe(64)
    const random = lcg(11)
    // odd M (a 3-row tile last) and N (a partial panel); pool-sized, so 2 and 3 threads split it
    for (const K of [STRIDED_MAX_K - 1, STRIDED_MAX_K, STRIDED_MAX_K + 1, STRIDED_MAX_K + 7]) {
      const [M, N] = [131, 53]
      expect(M * K * N).toBeGreaterThanOrEqual(WASM_POOL_MIN_MADDS)
      const a = random(K * M)
      const b = random(K * N)
      const expected = orderedProduct('AtB', a, b, M, K, N)
      for (const threads of [1, 2, 3]) {
        setThreads(threads)
        if (threads > 1)
          expect(await untilWorkersRun(() => product('wasm', threads, 'AtB', a, b, M, K, N))).toBeGreaterThan(
            0,
          )
        expect(firstBitDifference(product('wasm', threads, 'AtB', a, b, M, K, N), expected)).toBe(-1)
      }
    }
  })
})
