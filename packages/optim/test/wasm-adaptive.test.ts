import { setKernels, setThreads, type Tensor } from '@purenn/tensor'
import { fromBuffer } from '@purenn/tensor/internal'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { scaleByNadam } from '../src/adam.js'
import { scaleByRms } from '../src/rms.js'
import type { GradientTransformation } from '../src/transform.js'
import { bits, values } from './helpers/wasm-bits.js'

// scaleByRms (plain and centered) and scaleByNadam run as one WebAssembly pass per large
// leaf with the 'wasm' kernel set (`f64x2` arithmetic, float32 stores, as the plain loops
// do in JavaScript numbers). They must give bitwise what the plain loops give (the 'js'
// set), NaN only staying NaN (its payload is the platform's), and the same bits on 1, 2
// and 3 threads.

/** Three steps of `tx` from its initial state on gradients from `seed`; the bits of each step's updates and of the final state. */
const run = (
  set: 'js' | 'wasm',
  threads: number,
  tx: GradientTransformation<unknown>,
  seed: number,
  n: number,
) => {
  setKernels(set)
  setThreads(threads)
  const shape = [n]
  const grads = [0, 1, 2].map((k) => ({ g: fromBuffer(shape, values(seed + k, n)) }))
  let state = tx.init(grads[0]!)
  const steps: (number | 'NaN')[][] = []
  for (const gr of grads) {
    const r = tx.update(gr, state, gr)
    state = r.state
    steps.push(bits((r.updates as Record<string, Tensor>).g!))
  }
  const moments = Object.entries(state as Record<string, unknown>)
    .filter(([, t]) => typeof t === 'object' && t !== null)
    .map(([k, t]) => [k, bits((t as Record<string, Tensor>).g!)])
  return { steps, moments }
}

const txs = (rho: number, b1: number, b2: number, eps: number) =>
  ({
    rms: scaleByRms({ rho, epsilon: eps }),
    centered: scaleByRms({ rho, epsilon: eps, centered: true }),
    nadam: scaleByNadam({ beta1: b1, beta2: b2, epsilon: eps }),
  }) as Record<string, GradientTransformation<unknown>>

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

describe('the wasm passes of scaleByRms and scaleByNadam', () => {
  it('give bitwise the plain loops on random lengths, values and hyperparameters (special values included)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 1100 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        fc.constantFrom(0, 1e-7, 1e-3),
        (n, seed, b1, b2, eps) => {
          for (const [name, tx] of Object.entries(txs(b2, b1, b2, eps)))
            expect(run('wasm', 1, tx, seed, n), name).toEqual(run('js', 1, tx, seed, n))
        },
      ),
      { seed: 14, numRuns: 15 },
    )
  })

  it('match the formulas on an example (the wasm passes really run: length ≥ 1024)', () => {
    const n = 1024
    const g = fromBuffer([n], new Float32Array(n).fill(2))
    // RMSprop, rho 0.75, eps 0: v = 0.25·4 = 1, update 2/√1 = 2; centered: m = 0.25·2 = 0.5,
    // update 2/√(1 − 0.25) = 2/√0.75
    setKernels('wasm')
    const plain = scaleByRms({ rho: 0.75, epsilon: 0 }).update(
      { g },
      { nu: { g: fromBuffer([n], new Float32Array(n)) } },
      {},
    )
    expect(Array.from((plain.updates as Record<string, Tensor>).g!.data)).toEqual(new Array(n).fill(2))
    const c = scaleByRms({ rho: 0.75, epsilon: 0, centered: true })
    const cr = c.update({ g }, c.init({ g }), {})
    expect(Array.from((cr.updates as Record<string, Tensor>).g!.data)).toEqual(
      new Array(n).fill(Math.fround(2 / Math.sqrt(0.75))),
    )
  })

  it('are bitwise the same on 1, 2 and 3 threads, for each kernel set', () => {
    const n = (1 << 15) + 5
    for (const set of ['js', 'wasm'] as const)
      for (const [name, tx] of Object.entries(txs(0.9, 0.9, 0.999, 1e-7))) {
        const one = run(set, 1, tx, 7, n)
        for (const threads of [2, 3]) expect(run(set, threads, tx, 7, n), `${set} ${name}`).toEqual(one)
      }
  })
})
