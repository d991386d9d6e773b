import { setKernels, setThreads, type Tensor } from '@purenn/tensor'
import { fromBuffer } from '@purenn/tensor/internal'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { traceMomentum } from '../src/momentum.js'
import { bits, values } from './helpers/wasm-bits.js'

// traceMomentum runs as one WebAssembly pass per large leaf with the 'wasm' kernel set
// (`f64x2` arithmetic, float32 stores, as the plain loop does in JavaScript numbers). It
// must give bitwise what the plain loop gives (the 'js' set), NaN only staying NaN (its
// payload is the platform's), and the same bits on 1, 2 and 3 threads.

const run = (
  set: 'js' | 'wasm',
  threads: number,
  v: Float32Array,
  g: Float32Array,
  decay: number,
  nesterov: boolean,
) => {
  setKernels(set)
  setThreads(threads)
  const shape = [g.length]
  const tx = traceMomentum({ decay, nesterov })
  const r = tx.update({ g: fromBuffer(shape, g.slice()) }, { trace: { g: fromBuffer(shape, v.slice()) } }, {})
  const leaf = (t: unknown): Tensor => (t as Record<string, Tensor>).g!
  return { updates: bits(leaf(r.updates)), trace: bits(leaf(r.state.trace)) }
}

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

describe('the wasm pass of traceMomentum', () => {
  it('gives bitwise the plain loop, with and without Nesterov, on random lengths and values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1020, max: 1100 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        fc.boolean(),
        (n, seed, decay, nesterov) => {
          const v = values(seed, n)
          const g = values(seed + 1, n)
          expect(run('wasm', 1, v, g, decay, nesterov)).toEqual(run('js', 1, v, g, decay, nesterov))
        },
      ),
      { seed: 14, numRuns: 30 },
    )
  })

  it('matches the formula trace = μ·v + g and μ·trace + g on an example (the wasm pass really runs: length ≥ 1024)', () => {
    const n = 1027
    const v = Float32Array.from({ length: n }, (_, i) => i)
    const g = Float32Array.from({ length: n }, (_, i) => 0.5 * i)
    const r = run('wasm', 1, v, g, 0.25, true)
    // exact in float32: trace μ·i + i/2 = 0.75·i, Nesterov μ·0.75·i + i/2 = 0.6875·i
    const f32bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!
    expect(r.trace).toEqual(Array.from({ length: n }, (_, i) => f32bits(0.75 * i)))
    expect(r.updates).toEqual(Array.from({ length: n }, (_, i) => f32bits(0.6875 * i)))
  })

  it('is bitwise the same on 1, 2 and 3 threads, for each kernel set (leaves above the pool threshold)', () => {
    const n = (1 << 15) + 5
    const v = values(3, n)
    const g = values(4, n)
    for (const set of ['js', 'wasm'] as const)
      for (const nesterov of [false, true]) {
        const one = run(set, 1, v, g, 0.9, nesterov)
        for (const threads of [2, 3]) expect(run(set, threads, v, g, 0.9, nesterov)).toEqual(one)
      }
  })
})
