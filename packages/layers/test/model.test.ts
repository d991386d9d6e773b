import { key, tensor, tree } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  applyModel,
  batchNormalization,
  countParams,
  type DenseOptions,
  dense,
  dropout,
  flatten,
  freeze,
  initModel,
  isSequential,
  l2,
  sequential,
} from '../src/index.js'
import { chapterModel } from './helpers/chapter.js'

describe('initModel', () => {
  it("uses the sequential's declared input shape and marks every param trainable", () => {
    const model = initModel(chapterModel(), { key: key(42) })
    expect(model.inputShape).toEqual([28, 28])
    expect(model.params.dense.kernel.shape).toEqual([784, 300])
    expect(model.state.batch_normalization.movingMean.shape).toEqual([784])
    expect(model.trainable).toEqual(tree.map(model.params, () => true))
    const mask = model.trainable as Record<string, unknown>
    expect(mask.dense).toEqual({ kernel: true, bias: true })
    expect(mask.flatten).toEqual({})
  })

  it('takes an explicit input shape for other layers, and fails without one', () => {
    const model = initModel(dense({ units: 3 }), { key: key(0), inputShape: [5] })
    expect(model.params.kernel.shape).toEqual([5, 3])
    expect(() => initModel(dense({ units: 3 }), { key: key(0) })).toThrow(/no input shape for this Dense/)
    expect(() => initModel(sequential([dense({ units: 3 })]), { key: key(0) })).toThrow(/no input shape/)
    expect(() => initModel(chapterModel(), { key: key(0), inputShape: [784] })).toThrow(
      /inputShape \[784\] differs from the sequential's declared input shape \[28,28\]/,
    )
  })

  it('same key, same model', () => {
    const a = initModel(chapterModel(), { key: key(3) })
    const b = initModel(chapterModel(), { key: key(3) })
    expect(tree.leaves(a.params).map((t) => [...t.data])).toEqual(
      tree.leaves(b.params).map((t) => [...t.data]),
    )
  })
})

describe('applyModel', () => {
  const model = initModel(
    sequential([dense({ units: 2, kernelInitializer: 'ones' }), batchNormalization()]),
    {
      key: key(0),
      inputShape: [1],
    },
  )
  const x = tensor([[1], [3]])

  it('runs in inference mode by default: moving statistics, state unchanged', () => {
    const r = applyModel(model, x)
    expect(r.state).toEqual(model.state)
    // (x·1 − 0)/sqrt(1 + 1e-3)
    expect(r.y.data[0]).toBeCloseTo(1 / Math.sqrt(1.001), 6)
  })

  it('in training, returns the new moving statistics', () => {
    const r = applyModel(model, x, { training: true })
    expect([...r.state.batch_normalization.movingMean.data].map((v) => +v.toFixed(6))).toEqual([0.02, 0.02])
  })

  it("passes the model's trainable mask: a frozen batch-norm layer keeps its statistics", () => {
    const frozen = freeze(model, ['batch_normalization'])
    expect(applyModel(frozen, x, { training: true }).state).toEqual(model.state)
  })

  it('passes the key and the dropout flag', () => {
    const m = initModel(sequential([dropout({ rate: 0.5 })]), { key: key(0), inputShape: [100] })
    const ones = tensor(new Float32Array(100).fill(1), [1, 100])
    expect(applyModel(m, ones).y.data.every((v) => v === 1)).toBe(true)
    const y = applyModel(m, ones, { dropout: true, key: key(1) }).y
    expect(new Set(y.data)).toEqual(new Set([0, 2]))
  })
})

describe('countParams', () => {
  it("the chapter's model: 271,346 = 268,978 trainable + 2,368 moving statistics", () => {
    expect(countParams(initModel(chapterModel(), { key: key(0) }))).toEqual({
      total: 271346,
      trainable: 268978,
      nonTrainable: 2368,
    })
  })

  it('frozen params are non-trainable', () => {
    const model = freeze(initModel(chapterModel(), { key: key(0) }), (path) => path.startsWith('dense_2.'))
    expect(countParams(model)).toEqual({ total: 271346, trainable: 268978 - 1010, nonTrainable: 2368 + 1010 })
  })
})

describe('isSequential', () => {
  it('tells sequentials from other layers', () => {
    expect(isSequential(chapterModel())).toBe(true)
    expect(isSequential(dense({ units: 1 }))).toBe(false)
  })
})

describe('layer factories by partial application (functools.partial)', () => {
  it("builds the chapter's RegularizedDense model; its penalty is Σ 0.01·Σw² over the kernels", () => {
    const regularizedDense = (o: Partial<DenseOptions> & { units: number }) =>
      dense({ activation: 'elu', kernelInitializer: 'heNormal', kernelRegularizer: l2(0.01), ...o })
    const arch = sequential(
      [
        flatten(),
        regularizedDense({ units: 100 }),
        regularizedDense({ units: 100 }),
        regularizedDense({ units: 10, activation: 'softmax' }),
      ],
      { inputShape: [28, 28] },
    )
    expect(arch.layers.slice(1).map((l) => l.config.activation)).toEqual([
      { name: 'elu', alpha: 1 },
      { name: 'elu', alpha: 1 },
      'softmax',
    ])
    expect(arch.layers.slice(1).map((l) => l.config.kernelRegularizer)).toEqual(
      new Array(3).fill({ name: 'l2', l2: 0.01 }),
    )
    const model = initModel(arch, { key: key(7) })
    expect(countParams(model).total).toBe(784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10)
    let expected = 0
    for (const name of ['dense', 'dense_1', 'dense_2'] as const)
      for (const w of model.params[name].kernel.data) expected += 0.01 * w * w
    expect(model.layer.penalty!(model.params).item()).toBeCloseTo(expected, 4)
    expect(Math.abs(model.layer.penalty!(model.params).item() / expected - 1)).toBeLessThan(1e-5)
  })
})
