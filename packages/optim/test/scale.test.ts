import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyUpdates, piecewiseConstant, scale, scaleByLearningRate, setToZero } from '../src/index.js'
import { bits, float, problemArb, values } from './helpers/trees.js'

describe('scaleByLearningRate', () => {
  it('multiplies by −lr and counts the updates', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 1 }), float, ([, [g]], lr) => {
        const tx = scaleByLearningRate(lr)
        const { updates, state } = tx.update(g!, tx.init(g!), g!)
        expect(state.count).toBe(1)
        expect(values(updates)).toEqual(values(g!).map((x) => Math.fround(-lr * x)))
      }),
      { seed: 31, numRuns: 50 },
    )
  })

  it('evaluates a schedule at the number of updates done before (0 first), as Keras', () => {
    const seen: number[] = []
    const tx = scaleByLearningRate((step) => {
      seen.push(step)
      return piecewiseConstant([1], [1, 0.5])(step)
    })
    const g = { w: tensor([1]) }
    let state = tx.init(g)
    const out: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = tx.update(g, state, g)
      out.push(...values(r.updates))
      state = r.state
    }
    expect(seen).toEqual([0, 1, 2])
    expect(out).toEqual([-1, -1, -0.5])
    expect(state).toEqual({ count: 3 })
  })

  it('flipSign: false multiplies by +lr', () => {
    const g = { w: tensor([2]) }
    const tx = scaleByLearningRate(0.5, { flipSign: false })
    expect(values(tx.update(g, tx.init(g), g).updates)).toEqual([1])
  })

  it('rejects a non-finite constant rate', () => {
    expect(() => scaleByLearningRate(Number.POSITIVE_INFINITY)).toThrow(RangeError)
  })
})

describe('scale', () => {
  it('multiplies by the factor', () => {
    const g = { a: [tensor([1, -2])], b: tensor([[0.5]]) }
    expect(values(scale(-2).update(g, {}, g).updates)).toEqual([-2, 4, -1])
  })
})

describe('setToZero', () => {
  it('gives zero updates, so applyUpdates leaves the params bitwise unchanged', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 1 }), ([params, [g]]) => {
        const { updates } = setToZero().update(g!, {}, params)
        expect(values(updates).every((x) => x === 0)).toBe(true)
        expect(bits(applyUpdates(params, updates))).toEqual(bits(params))
      }),
      { seed: 32, numRuns: 30 },
    )
  })
})
