// The playground's model and optimizer builders: parameter counts from the layer formulas,
// the first update of each optimizer choice from its update rule, clipping from its definition.
import { fashionMnistClassNames } from '@purenn/data'
import { countParams, initModel } from '@purenn/layers'
import { applyUpdates } from '@purenn/optim'
import { key, tensor } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  buildArchitecture,
  buildOptimizer,
  choices,
  classNames,
  defaultLearningRate,
  defaultOptions,
  optionProblems,
  type PlaygroundOptions,
} from './model.js'

const expectClose = (actual: readonly number[], expected: readonly number[], digits: number) => {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits)
}

const dense = (i: number, o: number, bias = true) => i * o + (bias ? o : 0)
const bn = (n: number) => 4 * n // gamma, beta, moving mean, moving variance

describe('the playground model', () => {
  it('names the classes as @purenn/data does', () => {
    expect(classNames).toEqual(fashionMnistClassNames)
  })

  it.each([
    ['after', bn(784) + dense(784, 300) + bn(300) + dense(300, 100) + bn(100) + dense(100, 10)],
    ['before', dense(784, 300, false) + bn(300) + dense(300, 100, false) + bn(100) + dense(100, 10)],
    ['none', dense(784, 300) + dense(300, 100) + dense(100, 10)],
  ] as const)('batch norm %s: %i params, whatever the dropout rate', (placement, expected) => {
    for (const dropoutRate of [0, 0.3]) {
      const arch = buildArchitecture({ ...defaultOptions, bn: placement, dropoutRate })
      expect(countParams(initModel(arch, { key: key(0) })).total).toBe(expected)
      const drops = arch.layers.filter((l) => l.kind === 'Dropout')
      expect(drops.map((l) => (l.config as { rate: number }).rate)).toEqual(
        dropoutRate > 0 ? [0.3, 0.3, 0.3] : [],
      )
    }
  })

  it('the default is the chapter first BN model (271,346 params) with the chosen initializer and activation', () => {
    expect(countParams(initModel(buildArchitecture(defaultOptions), { key: key(0) })).total).toBe(271_346)
    const arch = buildArchitecture({ ...defaultOptions, initializer: 'lecunNormal', activation: 'selu' })
    const denses = arch.layers.filter((l) => l.kind === 'Dense')
    expect(denses.map((l) => (l.config as { activation: unknown }).activation)).toEqual([
      'selu',
      'selu',
      'softmax',
    ])
    expect(
      denses.slice(0, 2).map((l) => (l.config as { kernelInitializer: unknown }).kernelInitializer),
    ).toEqual(['lecunNormal', 'lecunNormal'])
  })
})

/** The first update of the optimizer of `o` on params [0, 0] with gradient [3, −4] (norm 5). */
const firstStep = (o: PlaygroundOptions): number[] => {
  const tx = buildOptimizer(o)
  const params = { w: tensor([0, 0]) }
  const { updates } = tx.update({ w: tensor([3, -4]) }, tx.init(params), params)
  return Array.from(applyUpdates(params, updates).w.data)
}

describe('the playground optimizer', () => {
  const lr = 0.5
  const base = { ...defaultOptions, learningRate: lr, clipThreshold: 1 }
  it.each([
    // w ← w − lr·clip(g)
    ['none', [-lr * 3, lr * 4]],
    ['clipValue', [-lr * 1, lr * 1]], // each element into [−1, 1]
    ['clipNorm', [-lr * 0.6, lr * 0.8]], // g·1/‖g‖
    ['globalClipNorm', [-lr * 0.6, lr * 0.8]], // one tensor: its norm is the global norm
  ] as const)('sgd with clipping %s', (clipping, expected) => {
    expectClose(firstStep({ ...base, optimizer: 'sgd', clipping }), expected, 6)
  })

  it('momentum and Nesterov: the first step is −lr·g and −(1 + μ)·lr·g (μ = 0.9)', () => {
    const m = firstStep({ ...base, optimizer: 'momentum', clipping: 'none' })
    const n = firstStep({ ...base, optimizer: 'nesterov', clipping: 'none' })
    expectClose(m, [-1.5, 2], 6)
    expectClose(n, [-1.9 * 1.5, 1.9 * 2], 5)
  })

  it('adam and adamw: the first step is −lr·g/|g| (bias-corrected moments, ε = 1e-7)', () => {
    for (const optimizer of ['adam', 'adamw'] as const) {
      const w = firstStep({ ...base, optimizer, clipping: 'none' })
      expectClose(w, [-lr, lr], 5)
    }
  })

  it('every optimizer moves against the gradient', () => {
    for (const optimizer of choices.optimizer) {
      const w = firstStep({ ...base, optimizer, learningRate: defaultLearningRate(optimizer) })
      expect(w[0]).toBeLessThan(0)
      expect(w[1]).toBeGreaterThan(0)
    }
  })
})

describe('optionProblems', () => {
  it('accepts the defaults and names each bad field', () => {
    expect(optionProblems(defaultOptions)).toEqual([])
    const bad = optionProblems({
      ...defaultOptions,
      learningRate: 0,
      clipping: 'clipNorm',
      clipThreshold: -1,
      dropoutRate: 1,
      epochs: 0.5,
      batchSize: 0,
      seed: -1,
    })
    expect(bad.map((p) => p.split(' must')[0])).toEqual([
      'learning rate',
      'clipping threshold',
      'dropout rate',
      'epochs',
      'batch size',
      'seed',
    ])
  })
})
