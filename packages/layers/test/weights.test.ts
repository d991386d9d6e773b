import { key, ones, type Tensor, tensor, zeros } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  applyModel,
  batchNormalization,
  cloneModel,
  dense,
  freeze,
  getWeights,
  initModel,
  sequential,
  setWeights,
  weightNames,
} from '../src/index.js'
import { chapterModel } from './helpers/chapter.js'

const initialized = () => initModel(chapterModel(), { key: key(0) })

describe('getWeights', () => {
  it("lists the weights in Keras' order: kernel, bias; gamma, beta, moving mean, moving variance", () => {
    const model = initialized()
    expect(weightNames(model)).toEqual([
      'batch_normalization.gamma',
      'batch_normalization.beta',
      'batch_normalization.movingMean',
      'batch_normalization.movingVariance',
      'dense.kernel',
      'dense.bias',
      'batch_normalization_1.gamma',
      'batch_normalization_1.beta',
      'batch_normalization_1.movingMean',
      'batch_normalization_1.movingVariance',
      'dense_1.kernel',
      'dense_1.bias',
      'batch_normalization_2.gamma',
      'batch_normalization_2.beta',
      'batch_normalization_2.movingMean',
      'batch_normalization_2.movingVariance',
      'dense_2.kernel',
      'dense_2.bias',
    ])
    const ws = getWeights(model)
    expect(ws.map((w) => w.shape)).toEqual([
      [784],
      [784],
      [784],
      [784],
      [784, 300],
      [300],
      [300],
      [300],
      [300],
      [300],
      [300, 100],
      [100],
      [100],
      [100],
      [100],
      [100],
      [100, 10],
      [10],
    ])
    expect(ws[4]).toBe(model.params.dense.kernel) // the model's own immutable tensors
    expect(ws[2]).toBe(model.state.batch_normalization.movingMean)
  })

  it('goes into nested sequentials layer by layer', () => {
    const inner = sequential([dense({ units: 2 }), batchNormalization({ center: false })], { name: 'block' })
    const model = initModel(sequential([inner, dense({ units: 1 })]), { key: key(0), inputShape: [3] })
    expect(weightNames(model)).toEqual([
      'block.dense.kernel',
      'block.dense.bias',
      'block.batch_normalization.gamma',
      'block.batch_normalization.movingMean',
      'block.batch_normalization.movingVariance',
      'dense.kernel',
      'dense.bias',
    ])
  })
})

describe('setWeights', () => {
  it('returns a new model with the given weights; the original is unchanged', () => {
    const model = initModel(sequential([dense({ units: 2 }), batchNormalization()]), {
      key: key(0),
      inputShape: [3],
    })
    const before = getWeights(model).map((w) => [...w.data])
    const ws = [ones([3, 2]), tensor([1, 2]), tensor([3, 4]), tensor([5, 6]), tensor([7, 8]), tensor([9, 10])]
    const updated = setWeights(model, ws)
    expect(getWeights(updated).map((w) => w.toArray())).toEqual(ws.map((w) => w.toArray()))
    expect(updated.state.batch_normalization.movingVariance.toArray()).toEqual([9, 10])
    expect(getWeights(model).map((w) => [...w.data])).toEqual(before)
    expect(updated.layer).toBe(model.layer)
    expect(updated.trainable).toBe(model.trainable)
  })

  it('keeps the trainable mask (a frozen model stays frozen)', () => {
    const model = freeze(initModel(dense({ units: 1 }), { key: key(0), inputShape: [2] }))
    expect(setWeights(model, [zeros([2, 1]), zeros([1])]).trainable).toEqual({ kernel: false, bias: false })
  })

  it('copies weights between models of one architecture: same outputs', () => {
    const a = initialized()
    const b = setWeights(cloneModel(a, { key: key(99) }), getWeights(a))
    const x = tensor(
      Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 17) / 17),
      [2, 28, 28],
    )
    expect([...applyModel(b, x).y.data]).toEqual([...applyModel(a, x).y.data])
  })

  it('names the layer and the weight on a shape mismatch', () => {
    const model = initialized()
    const ws: Tensor[] = getWeights(model)
    ws[10] = zeros([100, 300])
    expect(() => setWeights(model, ws)).toThrow('setWeights: dense_1.kernel expects [300,100], got [100,300]')
  })

  it('rejects a wrong number of weights', () => {
    const model = initModel(dense({ units: 1 }), { key: key(0), inputShape: [2] })
    expect(() => setWeights(model, [zeros([2, 1])])).toThrow(
      'setWeights: the model has 2 weights (kernel, bias), got 1',
    )
  })
})
