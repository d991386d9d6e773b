import { dense, initModel, mcDropout, sequential } from '@purenn/layers'
import { key, ones } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { mcPredict, predict } from '../src/index.js'

const model = initModel(
  sequential([mcDropout({ rate: 0.5 }), dense({ units: 3, activation: 'softmax' })], { inputShape: [6] }),
  { key: key(0) },
)
const x = ones([4, 6])

/** NumPy's default (linear) quantile of a list, in float64. */
const quantile = (values: readonly number[], q: number): number => {
  const v = [...values].sort((a, b) => a - b)
  const h = q * (v.length - 1)
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, v.length - 1)
  return v[lo]! + (h - lo) * (v[hi]! - v[lo]!)
}

describe('mcPredict: samples and quantiles', () => {
  it('returns the samples [S, rows, classes]; their mean and std are the ones returned', () => {
    const r = mcPredict(model, x, { samples: 7, key: key(1), returnSamples: true })
    expect(r.samples!.shape).toEqual([7, 4, 3])
    const size = 12
    for (let i = 0; i < size; i++) {
      const col = Array.from({ length: 7 }, (_, s) => r.samples!.data[s * size + i]!)
      const m = col.reduce((a, b) => a + b, 0) / 7
      expect(r.mean.data[i]).toBeCloseTo(m, 6)
      expect(r.std.data[i]).toBeCloseTo(Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / 7), 6)
    }
    expect(mcPredict(model, x, { samples: 2, key: key(1) }).samples).toBeUndefined()
  })

  it("quantiles follow NumPy's linear rule per output, in the order asked (1e-6)", () => {
    const qs = [0.975, 0.025, 0.5, 0, 1]
    const r = mcPredict(model, x, { samples: 9, key: key(2), returnSamples: true, quantiles: qs })
    expect(r.quantiles!.shape).toEqual([5, 4, 3])
    for (let i = 0; i < 12; i++) {
      const col = Array.from({ length: 9 }, (_, s) => r.samples!.data[s * 12 + i]!)
      qs.forEach((q, qi) => {
        expect(Math.abs(r.quantiles!.data[qi * 12 + i]! - quantile(col, q))).toBeLessThanOrEqual(1e-6)
      })
    }
    expect(() => mcPredict(model, x, { key: key(2), quantiles: [1.5] })).toThrow(
      'quantiles must be in [0, 1], got 1.5',
    )
  })

  it('same key, same samples', () => {
    const a = mcPredict(model, x, { samples: 3, key: key(5), returnSamples: true })
    const b = mcPredict(model, x, { samples: 3, key: key(5), returnSamples: true })
    expect(a.samples!.data).toEqual(b.samples!.data)
  })
})

describe('predict with a key', () => {
  it('runs a model with MC dropout (which throws without a key); same key, same output', () => {
    expect(() => predict(model, x)).toThrow('needs a key')
    const a = predict(model, x, { key: key(3), batchSize: 2 })
    const b = predict(model, x, { key: key(3), batchSize: 2 })
    expect(a.shape).toEqual([4, 3])
    expect(a.data).toEqual(b.data)
    expect(predict(model, x, { key: key(4), batchSize: 2 }).data).not.toEqual(a.data)
  })
})
