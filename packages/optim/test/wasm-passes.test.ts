import { setKernels, setThreads } from '@purenn/tensor'
import { fromBuffer } from '@purenn/tensor/internal'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { scaleByLearningRate } from '../src/scale.js'
import { applyUpdates } from '../src/transform.js'
import { bits, values } from './helpers/wasm-bits.js'

// The learning rate's scaling and applyUpdates run as WebAssembly passes on large leaves
// with the 'wasm' kernel set. Both must give bitwise what the plain loops give (the 'js'
// set): `x·c` rounded once from float64, `w + u` correctly rounded, `w` kept bit for bit
// where u is ±0; NaN only has to stay NaN (its payload is the platform's). And each set
// must give the same bits on 1, 2 and 3 threads.

const run = (set: 'js' | 'wasm', threads: number, w: Float32Array, u: Float32Array, lr: number) => {
  setKernels(set)
  setThreads(threads)
  const shape = [w.length]
  const scaled = scaleByLearningRate(lr).update({ u: fromBuffer(shape, u.slice()) }, { count: 0 }, {}).updates
    .u
  const applied = applyUpdates({ w: fromBuffer(shape, w.slice()) }, { w: fromBuffer(shape, u.slice()) }).w
  return { scaled: bits(scaled), applied: bits(applied) }
}

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

describe('the wasm passes of an update step (scaling, applyUpdates)', () => {
  it('give bitwise the plain loops, on random lengths and values (special values included)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 1100 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        (n, seed, lr) => {
          const w = values(seed, n)
          const u = values(seed + 1, n)
          expect(run('wasm', 1, w, u, lr)).toEqual(run('js', 1, w, u, lr))
        },
      ),
      { seed: 14, numRuns: 30 },
    )
  })

  it('are bitwise the same on 1, 2 and 3 threads, for each kernel set (leaves above the pool threshold)', () => {
    const n = (1 << 15) + 5
    const w = values(3, n)
    const u = values(4, n)
    for (const set of ['js', 'wasm'] as const) {
      const one = run(set, 1, w, u, 0.001)
      for (const threads of [2, 3]) expect(run(set, threads, w, u, 0.001)).toEqual(one)
    }
  })
})
