import { key, normal, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { adaptNormalization, fromConfig, normalization, toSpec } from '../src/index.js'

describe('normalization (Keras Normalization) and adaptNormalization (Keras adapt)', () => {
  it('y = (x − mean)/max(√variance, 1e-7), per feature of the last axis (float64, 1e-5)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (seed) => {
        const x = normal(key(seed), [5, 3], { mean: 2, stddev: 3 })
        const mean = [0.5, -1, 2]
        const variance = [4, 0, 0.25]
        const layer = normalization({ mean, variance })
        const { params, state } = layer.init(key(0), [3])
        const y = layer.apply(params, state, x, { training: false }).y
        x.data.forEach((v, i) => {
          const want = (v - mean[i % 3]!) / Math.max(Math.sqrt(variance[i % 3]!), 1e-7)
          expect(Math.abs(y.data[i]! - want)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want)))
        })
      }),
      { seed: 81, numRuns: 20 },
    )
  })

  it('adapt computes the mean and population variance of each feature over the other axes', () => {
    const x = tensor([[[1, 10]], [[3, 30]], [[5, 20]]])
    const layer = adaptNormalization(x)
    expect(layer.config.mean).toEqual([3, 20])
    const v = layer.config.variance as number[]
    expect(v[0]).toBeCloseTo(8 / 3, 5)
    expect(v[1]).toBeCloseTo(200 / 3, 4)
    const { params, state } = layer.init(key(0), [1, 2])
    expect(state.mean.shape).toEqual([1, 2])
    const y = layer.apply(params, state, x, { training: false }).y
    // adapted on x, the output has mean 0 and variance 1 per feature
    for (const j of [0, 1]) {
      const col = [0, 1, 2].map((r) => y.data[r * 2 + j]!)
      expect(col.reduce((a, b) => a + b, 0) / 3).toBeCloseTo(0, 5)
      expect(col.reduce((a, b) => a + b * b, 0) / 3).toBeCloseTo(1, 5)
    }
    expect(
      adaptNormalization(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        { axis: 0 },
      ).config.mean,
    ).toEqual([2, 3])
    // axis 0 of [2, 3] rows: two features, each averaged over the batch and the last axis
    expect(
      adaptNormalization(
        tensor([
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
        ]),
        { axis: 0 },
      ).config.mean,
    ).toEqual([2, 5])
  })

  it('round-trips its config; bad statistics and shapes are errors', () => {
    const layer = normalization({ mean: [1], variance: [2], name: 'n' })
    const back = fromConfig(JSON.parse(JSON.stringify(toSpec(layer))))
    expect(back._tag === 'Right' && back.right.config).toEqual(layer.config)
    expect(() => normalization({ mean: [1, 2], variance: [1] })).toThrow(
      'mean has 2 values but variance has 1',
    )
    expect(() => normalization({ mean: [1], variance: [-1] })).toThrow('variance[0] = -1 is negative')
    expect(() => layer.init(key(0), [3])).toThrow('the input has 3 features on axis -1, the statistics 1')
    const bad = fromConfig({ kind: 'Normalization', config: { axis: -1, mean: [1], variance: [] } })
    expect(bad._tag === 'Left' && bad.left).toBe(
      'Normalization config: variance must be a non-empty array of finite numbers',
    )
  })
})
