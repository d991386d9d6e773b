import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scaleByAdagrad, scaleByAdam, scaleByNadam } from '../src/index.js'
import {
  expectRelClose,
  fixedGradients,
  mapValues,
  nonZeroFloat,
  problemArb,
  run,
  runFixed,
  values,
} from './helpers/trees.js'

describe('scaleByAdam (Keras epsilon-hat form)', () => {
  it('is √(1 − β2^t)/(1 − β1^t) · m/(√v + ε)', () => {
    const gs = fixedGradients
    const [b1, b2, eps] = [0.8, 0.95, 1e-3]
    const steps = runFixed(scaleByAdam({ beta1: b1, beta2: b2, epsilon: eps }))
    let m = [0, 0]
    let v = [0, 0]
    steps.forEach((s, k) => {
      const g = gs[k]!
      const t = k + 1
      m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!)
      v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i]! ** 2)
      expect(s.state.count).toBe(t)
      expectRelClose(values(s.state.mu), m)
      expectRelClose(values(s.state.nu), v)
      const c = Math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
      expectRelClose(
        values(s.updates),
        m.map((mi, i) => (c * mi) / (Math.sqrt(v[i]!) + eps)),
      )
    })
  })

  it('adds ε to the uncorrected √v: the first step is g/(|g| + ε/√(1 − β2)), not g/(|g| + ε)', () => {
    const tx = scaleByAdam({ epsilon: 0.1 })
    const g = { w: tensor([1]) }
    const [u] = values(tx.update(g, tx.init(g), g).updates)
    expect(u).toBeCloseTo(1 / (1 + 0.1 / Math.sqrt(0.001)), 6)
  })

  it('AMSGrad divides by the running maximum of v, which never decreases', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 6 }), ([params, grads]) => {
        const steps = run(scaleByAdam({ amsgrad: true, beta2: 0.5 }), params, grads)
        let prev = values(scaleByAdam({ amsgrad: true }).init(params).nuMax ?? {})
        for (const s of steps) {
          const mx = values(s.state.nuMax ?? {})
          const nu = values(s.state.nu)
          mx.forEach((x, i) => {
            expect(x).toBeGreaterThanOrEqual(prev[i]!)
            expect(x).toBeGreaterThanOrEqual(nu[i]!)
          })
          prev = mx
        }
      }),
      { seed: 71, numRuns: 30 },
    )
  })

  it('is invariant to the scale of the gradients when ε = 0 (the reason AdamW exists, see decay.test.ts)', () => {
    fc.assert(
      fc.property(
        problemArb({ min: 1, max: 5 }, nonZeroFloat),
        fc.integer({ min: -8, max: 8 }),
        ([params, grads], k) => {
          const scaled = grads.map((g) => mapValues(g, (x) => x * 2 ** k))
          const a = run(scaleByAdam({ epsilon: 0 }), params, grads)
          const b = run(scaleByAdam({ epsilon: 0 }), params, scaled)
          a.forEach((s, i) => {
            expectRelClose(values(b[i]!.updates), values(s.updates))
          })
        },
      ),
      { seed: 72, numRuns: 20 },
    )
  })

  it('checks its options', () => {
    expect(() => scaleByAdam({ beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/)
    expect(Object.keys(scaleByAdam().init({ w: tensor([1]) }))).toEqual(['count', 'mu', 'nu'])
  })
})

describe('scaleByNadam (Keras Nadam)', () => {
  it("follows Dozat's momentum schedule μ_t = β1(1 − ½·0.96^t)", () => {
    const gs = fixedGradients
    const steps = runFixed(scaleByNadam())
    const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** t)
    let prod = 1
    let m = [0, 0]
    let v = [0, 0]
    steps.forEach((s, k) => {
      const g = gs[k]!
      const t = k + 1
      prod *= mu(t)
      m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]!)
      v = v.map((vi, i) => 0.999 * vi + 0.001 * g[i]! ** 2)
      expect(s.state.muProduct).toBeCloseTo(prod, 15)
      const mHat = m.map(
        (mi, i) => (mu(t + 1) * mi) / (1 - prod * mu(t + 1)) + ((1 - mu(t)) * g[i]!) / (1 - prod),
      )
      const vHat = v.map((vi) => vi / (1 - 0.999 ** t))
      expectRelClose(
        values(s.updates),
        mHat.map((x, i) => x / (Math.sqrt(vHat[i]!) + 1e-7)),
      )
    })
  })
})

describe('scaleByAdagrad (Keras Adagrad)', () => {
  it('accumulates g² from the initial value and divides by √(s + ε)', () => {
    const gs = fixedGradients
    const steps = runFixed(scaleByAdagrad({ initialAccumulatorValue: 0.5, epsilon: 0.01 }))
    let s = [0.5, 0.5]
    steps.forEach((st, k) => {
      const g = gs[k]!
      s = s.map((si, i) => si + g[i]! ** 2)
      expectRelClose(values(st.state.sumOfSquares), s)
      expectRelClose(
        values(st.updates),
        g.map((x, i) => x / Math.sqrt(s[i]! + 0.01)),
      )
    })
  })

  it('starts the accumulators at 0.1 by default', () => {
    expect(values(scaleByAdagrad().init({ w: tensor([5, 6]) }).sumOfSquares)).toEqual([
      Math.fround(0.1),
      Math.fround(0.1),
    ])
  })
})
