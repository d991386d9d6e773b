import { beforeAll, describe, expect, it } from 'vitest'
import { matmulInto, POOL_MIN_MADDS, rowsPerChunk } from '../src/internal/matmul.js'
import { __poolForTests, parseThreadsEnv, parseWorkerTimeoutEnv } from '../src/internal/pool.js'
import { setKernels } from '../src/kernelset.js'
import { dropout, key } from '../src/random.js'
import { fromBuffer } from '../src/tensor.js'
import { getThreads, getWorkerTimeout, setThreads, setWorkerTimeout } from '../src/threads.js'

/** Deterministic inputs: a 32-bit LCG, values in [-1, 1), on shared memory or not. */
const lcg = (seed: number) => {
  let s = seed >>> 0
  return (n: number, shared = n >= 1 << 14): Float32Array => {
    const x = shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n)
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      x[i] = s / 2 ** 31 - 1
    }
    return x
  }
}

/** C = A·B (A·Bᵀ with `bT`, B stored [N,K]) through matmulInto on `threads` threads, into a fresh buffer. */
const product = (
  threads: number,
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  bT = false,
) => {
  setThreads(threads)
  const c = new Float32Array(M * N)
  matmulInto(a, 0, b, 0, c, 0, M, K, N, bT)
  return c
}

/** Index of the first element whose bits differ, or -1. */
const firstBitDifference = (x: Float32Array, y: Float32Array): number => {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length)
  const v = new Uint32Array(y.buffer, y.byteOffset, y.length)
  if (u.length !== v.length) return 0
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return i
  return -1
}

/**
 * The worker pool must really run chunks: ops until a worker has taken one. Bounded by time
 * (20 s) rather than by a count of tries, since on a loaded machine a worker thread may not
 * be scheduled before the calling thread has claimed every chunk of many ops in a row.
 */
const untilWorkersRun = async (op: () => void): Promise<number> => {
  const before = __poolForTests.chunksByWorkers()
  const deadline = performance.now() + 20_000
  while (performance.now() < deadline && __poolForTests.chunksByWorkers() === before) {
    op()
    await new Promise((r) => setTimeout(r, 5))
  }
  return __poolForTests.chunksByWorkers() - before
}

// [M, K, N]: all large enough for the pool; M not a multiple of the 3-row tile nor of the
// chunk size, N not a multiple of the 4-column tile, one product of the training step.
const shapes: [number, number, number][] = [
  [32, 784, 300],
  [50, 97, 61],
  [7, 200, 150],
  [100, 33, 130],
  [97, 301, 10],
]

describe('worker pool', () => {
  // the plain TypeScript kernels (the wasm ones are tested in wasm-matmul.test.ts)
  beforeAll(() => setKernels('js'))

  it('gives bitwise identical products on 1, 2 and 3 threads', async () => {
    const random = lcg(7)
    for (const [M, K, N] of shapes) {
      expect(M * K * N).toBeGreaterThanOrEqual(POOL_MIN_MADDS)
      expect(M).toBeGreaterThan(rowsPerChunk(M))
      const a = random(M * K)
      const b = random(K * N)
      const one = product(1, a, b, M, K, N)
      const oneBT = product(1, a, b, M, K, N, true)
      for (const threads of [2, 3]) {
        setThreads(threads)
        // let the workers start, then check that they really compute chunks
        expect(await untilWorkersRun(() => product(threads, a, b, M, K, N))).toBeGreaterThan(0)
        for (let rep = 0; rep < 3; rep++) {
          expect(firstBitDifference(product(threads, a, b, M, K, N), one)).toBe(-1)
          expect(firstBitDifference(product(threads, a, b, M, K, N, true), oneBT)).toBe(-1)
        }
      }
    }
  })

  it('copies operands and results that are not on shared memory, honouring offsets', () => {
    const random = lcg(11)
    const [M, K, N] = [40, 90, 70]
    const a = random(5 + M * K, false)
    const b = random(3 + K * N, true)
    const run = (threads: number): Float32Array => {
      setThreads(threads)
      const c = new Float32Array(2 + M * N)
      matmulInto(a, 5, b, 3, c, 2, M, K, N)
      return c
    }
    const one = run(1)
    expect(one[0]).toBe(0)
    expect(one[1]).toBe(0)
    expect(firstBitDifference(run(2), one)).toBe(-1)
    expect(firstBitDifference(run(3), one)).toBe(-1)
  })

  it('equals a float64 triple loop within 1e-5·K (relative to max|a|·max|b|)', () => {
    const random = lcg(3)
    for (const [M, K, N] of shapes) {
      const a = random(M * K)
      const b = random(K * N)
      const c = product(2, a, b, M, K, N)
      let worst = 0
      let exact = true
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let ref = 0
          for (let k = 0; k < K; k++) ref += a[i * K + k]! * b[k * N + j]!
          worst = Math.max(worst, Math.abs(c[i * N + j]! - ref))
          // the kernel sums in float64 in k order and rounds once: the reference rounded
          exact &&= c[i * N + j] === Math.fround(ref)
        }
      expect(worst).toBeLessThanOrEqual(1e-5 * K) // inputs in [-1, 1): max|a|·max|b| <= 1
      expect(exact).toBe(true)
    }
  })

  it('gives bitwise identical dropout masks on 1, 2 and 3 threads, inputs shared or not', async () => {
    const random = lcg(13)
    const n = 40_001 // above the pool threshold, not a multiple of the chunk
    for (const shared of [true, false]) {
      const x = fromBuffer([n], random(n, shared))
      setThreads(1)
      const one = dropout(key(3), x, 0.3).data as Float32Array
      for (const threads of [2, 3]) {
        setThreads(threads)
        expect(await untilWorkersRun(() => dropout(key(3), x, 0.3))).toBeGreaterThan(0)
        expect(firstBitDifference(dropout(key(3), x, 0.3).data as Float32Array, one)).toBe(-1)
      }
    }
  })

  it('reads the thread count set with setThreads and rejects bad counts', () => {
    setThreads(3)
    expect(getThreads()).toBe(3)
    expect(() => setThreads(0)).toThrow(RangeError)
    expect(() => setThreads(1.5)).toThrow(/integer from 1 to 256/)
    expect(getThreads()).toBe(3)
  })

  it('restarts a worker that was terminated between ops', async () => {
    const random = lcg(5)
    const [M, K, N] = [64, 200, 120]
    const a = random(M * K)
    const b = random(K * N)
    const one = product(1, a, b, M, K, N)
    setThreads(2)
    expect(await untilWorkersRun(() => product(2, a, b, M, K, N))).toBeGreaterThan(0)
    const ids = __poolForTests.threadIds()
    await __poolForTests.terminate(1)
    expect(firstBitDifference(product(2, a, b, M, K, N), one)).toBe(-1)
    expect(__poolForTests.threadIds()).not.toEqual(ids)
    expect(await untilWorkersRun(() => product(2, a, b, M, K, N))).toBeGreaterThan(0)
  })

  it('makes the pending op throw when a worker dies during it, then works again', async () => {
    const random = lcg(9)
    const [M, K, N] = [64, 200, 120]
    const a = random(M * K)
    const b = random(K * N)
    const one = product(1, a, b, M, K, N)
    for (const threads of [2, 3]) {
      setThreads(threads)
      __poolForTests.crashOnNextOp(1)
      expect(() => product(threads, a, b, M, K, N)).toThrow(
        'purenn worker pool: worker 1 exited with code 1 during matmul',
      )
      expect(firstBitDifference(product(threads, a, b, M, K, N), one)).toBe(-1)
      expect(await untilWorkersRun(() => product(threads, a, b, M, K, N))).toBeGreaterThan(0)
      expect(__poolForTests.workers()).toBe(threads - 1)
    }
  })
})

describe('PURENN_THREADS', () => {
  it('is read strictly: decimal digits from 1 to 256, as setThreads takes', () => {
    expect(parseThreadsEnv('3')).toBe(3)
    expect(parseThreadsEnv(' 2 ')).toBe(2)
    expect(parseThreadsEnv('256')).toBe(256)
    expect(parseThreadsEnv(undefined)).toBeGreaterThanOrEqual(1)
    for (const bad of ['1000', '0', '1e1', '0x2', '-1', '2.5', 'many'])
      expect(() => parseThreadsEnv(bad)).toThrow(
        `PURENN_THREADS must be a decimal integer from 1 to 256 (threads incl. the calling one), got '${bad}'`,
      )
  })
})

describe('a stuck worker', () => {
  it('makes the op throw after the worker timeout; the pool is replaced and works again', () => {
    const random = lcg(11)
    const [M, K, N] = [64, 200, 120]
    const a = random(M * K)
    const b = random(K * N)
    const one = product(1, a, b, M, K, N)
    const before = getWorkerTimeout()
    setThreads(2)
    product(2, a, b, M, K, N) // the pool is up
    const ids = __poolForTests.threadIds()
    setWorkerTimeout(300)
    try {
      __poolForTests.stallOnNextOp(1)
      expect(() => product(2, a, b, M, K, N)).toThrow(
        'purenn worker pool: the workers did not finish matmul within 300 ms; the pool is replaced',
      )
      expect(firstBitDifference(product(2, a, b, M, K, N), one)).toBe(-1)
      expect(__poolForTests.threadIds()).not.toEqual(ids)
    } finally {
      setWorkerTimeout(before)
    }
  })

  it('PURENN_WORKER_TIMEOUT_MS is read strictly', () => {
    expect(parseWorkerTimeoutEnv(undefined)).toBe(60_000)
    expect(parseWorkerTimeoutEnv('250')).toBe(250)
    for (const bad of ['0', '1e3', '-5', 'soon'])
      expect(() => parseWorkerTimeoutEnv(bad)).toThrow(
        `PURENN_WORKER_TIMEOUT_MS must be a decimal integer of milliseconds, at least 1, got '${bad}'`,
      )
    expect(() => setWorkerTimeout(0)).toThrow(
      'setWorkerTimeout: expected a positive integer of milliseconds, got 0',
    )
  })
})
