import {
  applyModel,
  batchNormalization,
  dense,
  dropout,
  initModel,
  l1,
  l2,
  type Model,
  sequential,
} from '@purenn/layers'
import { full, key, type Tensor, tensor, tree } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { evaluate, mcPredict, predict } from '../src/index.js'
import { bits, blobs, bnModel, dropoutModel } from './helpers/problems.js'

const values = (t: Tensor) => Array.from(t.data)

/** A batch-norm model whose moving statistics are far from a batch's own (mean 0.5, variance 4). */
const withMovingStats = (m: Model): Model => ({
  ...m,
  state: tree.map(m.state as never, (t, path) => full(t.shape, path.endsWith('movingVariance') ? 4 : 0.5)),
})

describe('predict', () => {
  const p = blobs(key(1), 10)

  it('returns one output row per input row, the same whatever the batch size', () => {
    const model = withMovingStats(bnModel(key(2)))
    const y = predict(model, p.x)
    expect(y.shape).toEqual([10, 2])
    expect(bits(predict(model, p.x, { batchSize: 3 }))).toEqual(bits(y))
    expect(bits(predict(model, p.x, { batchSize: 1 }))).toEqual(bits(y))
  })

  it('runs in inference mode: batch norm on its moving statistics, as apply with training: false', () => {
    const model = withMovingStats(bnModel(key(2)))
    const y = predict(model, p.x)
    expect(bits(y)).toEqual(bits(applyModel(model, p.x, { training: false }).y))
    const training = applyModel(model, p.x, { training: true }).y
    expect(values(y).some((v, i) => Math.abs(v - training.data[i]!) > 1e-3)).toBe(true)
  })

  it('runs dropout as the identity', () => {
    const model = dropoutModel(key(3), 0.5)
    const noDropout = { ...model, layer: dropoutModel(key(3), 0).layer }
    expect(bits(predict(model, p.x))).toEqual(bits(predict(noDropout, p.x)))
  })

  it('rejects an input without rows', () => {
    expect(() => predict(bnModel(key(2)), tensor([], [0, 2]))).toThrow(/no rows/)
  })
})

describe('evaluate', () => {
  /** Dense layers with l2 and l1 penalties, so that the penalty term is visible in the loss. */
  const regularized = initModel(
    sequential(
      [
        dense({ units: 4, activation: 'relu', kernelRegularizer: l2(0.05) }),
        batchNormalization(),
        dense({ units: 3, activation: 'softmax', kernelRegularizer: l1(0.02) }),
      ],
      { inputShape: [2] },
    ),
    { key: key(4) },
  )
  const model = withMovingStats(regularized)
  const x = blobs(key(5), 10).x
  const y = tensor([0, 1, 2, 1, 0, 2, 2, 1, 0, 1])

  it('is the mean over rows of the per-row loss plus the penalties, and the mean accuracy, as Keras', () => {
    // computed independently: per-row crossentropy of the inference outputs, in float64
    const probs = applyModel(model, x).y
    const rows = [...Array(10).keys()].map((i) => values(probs).slice(3 * i, 3 * i + 3))
    const labels = values(y)
    const clip = (v: number) => Math.min(Math.max(v, 1e-7), 1 - 1e-7)
    const dataLoss = rows.reduce((s, r, i) => s - Math.log(clip(r[labels[i]!]!)), 0) / 10
    const params = model.params as Record<string, Record<string, Tensor>>
    const penalty =
      0.05 * values(params.dense!.kernel!).reduce((s, w) => s + w * w, 0) +
      0.02 * values(params.dense_1!.kernel!).reduce((s, w) => s + Math.abs(w), 0)
    const accuracy = rows.filter((r, i) => r.indexOf(Math.max(...r)) === labels[i]).length / 10
    expect(penalty).toBeGreaterThan(0.1)
    for (const batchSize of [4, 3, 10, 32]) {
      const e = evaluate(model, x, y, {
        loss: 'sparseCategoricalCrossentropy',
        metrics: ['accuracy'],
        batchSize,
      })
      expect(Object.keys(e)).toEqual(['loss', 'accuracy'])
      expect(e.loss!).toBeCloseTo(dataLoss + penalty, 5)
      expect(e.accuracy!).toBeCloseTo(accuracy, 6)
    }
  })

  it('gives ln 2 for a model that outputs one half everywhere', () => {
    const half = initModel(dense({ units: 2, activation: 'softmax', kernelInitializer: 'zeros' }), {
      key: key(0),
      inputShape: [2],
    })
    const r = evaluate(half, x, tensor([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), {
      loss: 'sparseCategoricalCrossentropy',
    })
    expect(r.loss!).toBeCloseTo(Math.LN2, 6)
  })

  it('names mismatched rows', () => {
    expect(() => evaluate(model, x, tensor([0, 1]), { loss: 'sparseCategoricalCrossentropy' })).toThrow(
      /x has 10 rows but y has 2/,
    )
  })
})

describe('mcPredict', () => {
  const x = blobs(key(6), 10).x

  it('with dropout rate 0: the mean is predict and the std is 0, up to float32 rounding (batch norm on moving statistics)', () => {
    const model = withMovingStats(
      initModel(
        sequential(
          [
            dense({ units: 8, activation: 'relu' }),
            batchNormalization(),
            dropout({ rate: 0 }),
            dense({ units: 3 }),
          ],
          {
            inputShape: [2],
          },
        ),
        { key: key(7) },
      ),
    )
    const y = predict(model, x)
    for (const samples of [1, 16, 100]) {
      const { mean, std } = mcPredict(model, x, { samples, key: key(8), batchSize: 4 })
      expect(mean.shape).toEqual([10, 3])
      expect(std.shape).toEqual([10, 3])
      // the samples are bitwise equal to predict; their float32 sum rounds (3·y is not always a float32)
      for (const [i, m] of values(mean).entries())
        expect(Math.abs(m - y.data[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(y.data[i]!))
      for (const [i, s] of values(std).entries()) expect(s).toBeLessThanOrEqual(1e-5 * Math.abs(y.data[i]!))
    }
    // one sample: exactly predict, and a std of exactly 0
    const one = mcPredict(model, x, { samples: 1, key: key(8) })
    expect(bits(one.mean)).toEqual(bits(y))
    expect(values(one.std).every((s) => s === 0)).toBe(true)
  })

  it('with dropout rate 0.5: a positive std, and a mean within 5 standard errors of predict', () => {
    // dropout then a linear layer: E[W·(h·m/(1 − rate))] = W·h, so the MC mean estimates predict
    const model = dropoutModel(key(9), 0.5)
    const samples = 2000
    const { mean, std } = mcPredict(model, x, { samples, key: key(10) })
    const y = predict(model, x)
    expect(values(std).every((s) => s > 0)).toBe(true)
    values(mean).forEach((m, i) => {
      const standardError = std.data[i]! / Math.sqrt(samples)
      expect(Math.abs(m - y.data[i]!)).toBeLessThan(5 * standardError + 1e-5)
    })
  })

  it('same key, bitwise the same; another key, other samples', () => {
    const model = dropoutModel(key(9), 0.3)
    const a = mcPredict(model, x, { samples: 8, key: key(11) })
    const b = mcPredict(model, x, { samples: 8, key: key(11) })
    const c = mcPredict(model, x, { samples: 8, key: key(12) })
    expect(bits(a)).toEqual(bits(b))
    expect(bits(a.mean)).not.toEqual(bits(c.mean))
  })

  it('rejects a number of samples that is not a positive integer, and an input without rows', () => {
    expect(() => mcPredict(dropoutModel(key(9), 0.3), x, { samples: 0, key: key(1) })).toThrow(
      /samples must be a positive integer, got 0/,
    )
    expect(() => mcPredict(dropoutModel(key(9), 0.3), tensor([], [0, 2]), { key: key(1) })).toThrow(
      /mcPredict: x has no rows/,
    )
  })
})
