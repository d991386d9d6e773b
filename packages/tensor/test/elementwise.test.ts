import { describe, expect, it } from 'vitest'
import {
  ELEMENTWISE_CHUNK,
  ELEMENTWISE_POOL_MIN,
  elementwiseKernel,
  runElementwise,
} from '../src/internal/elementwise.js'
import { __poolForTests } from '../src/internal/pool.js'
import { setThreads } from '../src/threads.js'

/** A loop whose result a wrong index or a skipped element would change. */
const kernel = elementwiseKernel(
  'test:affineSin',
  ([x, out, c]: readonly [Float32Array, Float32Array, number], i0: number, i1: number): void => {
    for (let i = i0; i < i1; i++) out[i] = Math.sin(x[i]! * c + i)
  },
)

const input = (n: number, shared: boolean): Float32Array => {
  const x = shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n)
  for (let i = 0; i < n; i++) x[i] = Math.cos(i) * 3
  return x
}

const run = (threads: number, x: Float32Array, shared = true): Float32Array => {
  setThreads(threads)
  const out = input(x.length, shared).fill(0)
  runElementwise(kernel, [x, out, 0.5], x.length)
  return out
}

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length))

describe('runElementwise', () => {
  it('computes every element once, bitwise the same on 1, 2 and 3 threads', async () => {
    const n = 5 * ELEMENTWISE_CHUNK + 7 // large enough for the pool, a partial last chunk
    expect(n).toBeGreaterThanOrEqual(ELEMENTWISE_POOL_MIN)
    const x = input(n, true)
    const one = run(1, x)
    expect(Array.from(one.subarray(0, 3))).toEqual(
      [0, 1, 2].map((i) => Math.fround(Math.sin(x[i]! * 0.5 + i))),
    )
    expect(one[n - 1]).toBe(Math.fround(Math.sin(x[n - 1]! * 0.5 + n - 1)))
    for (const threads of [2, 3]) {
      expect(bits(run(threads, x))).toEqual(bits(one)) // (re)builds the pool of this size
      const before = __poolForTests.chunksByWorkers()
      const deadline = performance.now() + 20_000
      // the workers must really take chunks (they may not be scheduled at once on a loaded machine)
      while (__poolForTests.chunksByWorkers() === before && performance.now() < deadline) {
        expect(bits(run(threads, x))).toEqual(bits(one))
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(__poolForTests.chunksByWorkers()).toBeGreaterThan(before)
    }
  })

  it('runs inline for small inputs and for arrays not on shared memory', () => {
    run(2, input(ELEMENTWISE_POOL_MIN, true)) // a pool of 2 threads, whose chunk count is read below
    const before = __poolForTests.chunksByWorkers()
    const small = input(ELEMENTWISE_POOL_MIN - 1, true)
    expect(bits(run(2, small))).toEqual(bits(run(1, small)))
    const unshared = input(ELEMENTWISE_POOL_MIN * 2, false)
    expect(bits(run(2, unshared, false))).toEqual(bits(run(1, unshared, false)))
    expect(__poolForTests.chunksByWorkers()).toBe(before)
  })
})
