import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cosineDecay, exponentialDecay, oneCycle, piecewiseConstant } from '../src/index.js'

const step = fc.integer({ min: 0, max: 10_000 })

describe('exponentialDecay (Keras ExponentialDecay)', () => {
  it('is lr0 · rate^(step / decaySteps)', () => {
    const lr = exponentialDecay({ initialLearningRate: 0.01, decaySteps: 1000, decayRate: 0.1 })
    expect(lr(0)).toBe(0.01)
    expect(lr(1000)).toBeCloseTo(0.001, 15)
    expect(lr(500)).toBeCloseTo(0.01 * 0.1 ** 0.5, 15)
    expect(lr(2500)).toBeCloseTo(0.01 * 0.1 ** 2.5, 15)
  })

  it('staircase floors the exponent', () => {
    const lr = exponentialDecay({ initialLearningRate: 1, decaySteps: 10, decayRate: 0.5, staircase: true })
    expect([0, 9, 10, 19, 20, 35].map(lr)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125])
  })

  it('decreases with the step for a rate below 1, and staircase is never below the smooth curve', () => {
    const smooth = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.3 })
    const stairs = exponentialDecay({
      initialLearningRate: 0.1,
      decaySteps: 100,
      decayRate: 0.3,
      staircase: true,
    })
    fc.assert(
      fc.property(step, (s) => {
        expect(smooth(s + 1)).toBeLessThan(smooth(s))
        expect(stairs(s)).toBeGreaterThanOrEqual(smooth(s))
      }),
      { seed: 41, numRuns: 100 },
    )
  })

  it('rejects decaySteps ≤ 0', () => {
    expect(() => exponentialDecay({ initialLearningRate: 1, decaySteps: 0, decayRate: 0.5 })).toThrow(
      RangeError,
    )
  })
})

describe('piecewiseConstant (Keras PiecewiseConstantDecay)', () => {
  it('takes values[i] on (boundaries[i−1], boundaries[i]], boundaries included on the left value', () => {
    const lr = piecewiseConstant([100, 110], [1.0, 0.5, 0.1])
    expect([0, 100, 101, 110, 111, 5000].map(lr)).toEqual([1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
  })

  it('with no boundaries is a constant', () => {
    expect(piecewiseConstant([], [0.3])(12)).toBe(0.3)
  })

  it('rejects bad lengths and unordered boundaries', () => {
    expect(() => piecewiseConstant([1, 2], [1, 2])).toThrow(/expected 3 values for 2 boundaries, got 2/)
    expect(() => piecewiseConstant([2, 1], [1, 2, 3])).toThrow(/increase strictly/)
  })
})

describe('cosineDecay (Keras CosineDecay)', () => {
  const formula = (lr0: number, s: number, decaySteps: number, alpha: number) =>
    lr0 * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * Math.min(s, decaySteps)) / decaySteps)) + alpha)

  it('is lr0 · ((1 − α) · ½(1 + cos(π·min(s, D)/D)) + α)', () => {
    const lr = cosineDecay({ initialLearningRate: 0.1, decaySteps: 1000, alpha: 0.2 })
    for (const s of [0, 1, 250, 500, 999, 1000, 1500])
      expect(lr(s)).toBeCloseTo(formula(0.1, s, 1000, 0.2), 15)
    expect(lr(0)).toBe(0.1)
    expect(lr(1000)).toBeCloseTo(0.02, 15)
    expect(lr(2000)).toBeCloseTo(0.02, 15)
  })

  it('defaults alpha to 0 (decays to zero)', () => {
    const lr = cosineDecay({ initialLearningRate: 1, decaySteps: 10 })
    expect(lr(5)).toBeCloseTo(0.5, 15)
    expect(lr(10)).toBeCloseTo(0, 15)
  })

  it('warms up linearly to warmupTarget, then decays from it', () => {
    const lr = cosineDecay({
      initialLearningRate: 0,
      warmupTarget: 0.1,
      warmupSteps: 100,
      decaySteps: 1000,
      alpha: 0.1,
    })
    expect(lr(0)).toBe(0)
    expect(lr(25)).toBeCloseTo(0.025, 15)
    expect(lr(100)).toBeCloseTo(0.1, 15)
    expect(lr(600)).toBeCloseTo(formula(0.1, 500, 1000, 0.1), 15)
    expect(lr(1100)).toBeCloseTo(0.01, 15)
    expect(lr(9999)).toBeCloseTo(0.01, 15)
  })

  it('stays between alpha · lr0 and lr0', () => {
    const lr = cosineDecay({ initialLearningRate: 0.5, decaySteps: 3000, alpha: 0.1 })
    fc.assert(
      fc.property(step, (s) => {
        expect(lr(s)).toBeLessThanOrEqual(0.5)
        expect(lr(s)).toBeGreaterThanOrEqual(0.05 - 1e-15)
      }),
      { seed: 42, numRuns: 100 },
    )
  })
})

describe('oneCycle (Smith 2018, the chapter’s OneCycleScheduler)', () => {
  // totalSteps 1000, maxLearningRate 0.1: start 0.01, lastSteps 101, half 449, last 1e-5
  const lr = oneCycle({ totalSteps: 1000, maxLearningRate: 0.1 })

  it('goes up linearly over the first half, down over the second, then anneals to lastLearningRate', () => {
    expect(lr(0)).toBeCloseTo(0.01, 15)
    expect(lr(100)).toBeCloseTo(0.01 + (0.09 * 100) / 449, 15)
    expect(lr(449)).toBeCloseTo(0.1, 15)
    expect(lr(600)).toBeCloseTo(0.1 - (0.09 * (600 - 449)) / 449, 15)
    expect(lr(898)).toBeCloseTo(0.01, 15)
    expect(lr(950)).toBeCloseTo(0.01 + ((1e-5 - 0.01) * (950 - 898)) / 102, 15)
    expect(lr(1000)).toBeCloseTo(1e-5, 15)
    expect(lr(5000)).toBeCloseTo(1e-5, 15)
  })

  it('is continuous: neighbouring steps differ by at most one phase slope', () => {
    const maxSlope = Math.max(0.09 / 449, 0.01 / 102)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1100 }), (s) => {
        expect(Math.abs(lr(s + 1) - lr(s))).toBeLessThanOrEqual(maxSlope * (1 + 1e-9))
      }),
      { seed: 43, numRuns: 200 },
    )
  })

  it('takes explicit start, last and lastSteps', () => {
    const custom = oneCycle({
      totalSteps: 20,
      maxLearningRate: 1,
      startLearningRate: 0.2,
      lastSteps: 4,
      lastLearningRate: 0,
    })
    // half = floor((20 − 4) / 2) = 8: up over 0..8, down over 8..16, annealing over 16..20
    const expected = [0.2, 0.6, 1, 0.6, 0.2, 0.1, 0]
    ;[0, 4, 8, 12, 16, 18, 20].forEach((s, i) => {
      expect(custom(s)).toBeCloseTo(expected[i]!, 15)
    })
  })

  it('rejects lastSteps beyond totalSteps', () => {
    expect(() => oneCycle({ totalSteps: 10, maxLearningRate: 1, lastSteps: 11 })).toThrow(RangeError)
  })
})
