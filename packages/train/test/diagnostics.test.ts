import { batchNormalization, dense, initModel, type Model, sequential } from '@purenn/layers'
import { key, normal, split, tensor, uniform } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { diagnose, diagnosticsOf, fit, recordDiagnostics } from '../src/index.js'

const withParams = (model: Model, params: unknown): Model => ({ ...model, params: params as Model['params'] })

describe('diagnose', () => {
  it('gives the gradient norms and output statistics worked out by hand (ReLU + MSE)', () => {
    // x·W1 + b1 = [[3, -10.5], [1, -12.25]] → ReLU h = [[3, 0], [1, 0]] (unit 2 dead);
    // out = h·W2 = [3, 1], y = [1, 1]: MSE = (2² + 0²)/2 = 2, ∂L/∂out = 2(out − y)/2 = [2, 0].
    // ∂W2 = hᵀ·g = [[6], [0]], ∂b2 = 2 → ‖·‖ = √40.
    // ∂h = g·W2ᵀ = [[2, 2], [0, 0]], masked by ReLU' → [[2, 0], [0, 0]];
    // ∂W1 = xᵀ·that = [[2, 0], [2, 0]], ∂b1 = [2, 0] → ‖·‖ = √12.
    const arch = sequential([dense({ units: 2, activation: 'relu' }), dense({ units: 1 })], {
      inputShape: [2],
    })
    const model = withParams(initModel(arch, { key: key(0) }), {
      dense: {
        kernel: tensor([
          [1, -1],
          [2, 0.5],
        ]),
        bias: tensor([0, -10]),
      },
      dense_1: { kernel: tensor([[1], [1]]), bias: tensor([0]) },
    })
    const d = diagnose(
      model,
      {
        x: tensor([
          [1, 1],
          [2, -0.5],
        ]),
        y: tensor([[1], [1]]),
      },
      { loss: 'meanSquaredError', bins: 3 },
    )
    expect(d.map((l) => l.name)).toEqual(['dense', 'dense_1'])
    expect(d[0]!.gradientNorm).toBeCloseTo(Math.sqrt(12), 5)
    expect(d[1]!.gradientNorm).toBeCloseTo(Math.sqrt(40), 5)
    // layer 1 outputs [3, 0, 1, 0]: mean 1, std √((4 + 1 + 0 + 1)/4); one unit of two dead
    expect(d[0]!.mean).toBeCloseTo(1, 6)
    expect(d[0]!.std).toBeCloseTo(Math.sqrt(1.5), 6)
    expect(d[0]!.dead).toBe(0.5)
    expect(d[0]!.activation).toBe('relu')
    // histogram of [3, 0, 1, 0] over [0, 3] in 3 bins: [0,1) holds 0, 0; [1,2) holds 1; [2,3] holds 3
    expect(d[0]!.histogram.edges).toEqual([0, 1, 2, 3])
    expect(d[0]!.histogram.counts).toEqual([2, 1, 1])
    expect(d[1]!.mean).toBeCloseTo(2, 6)
    expect(d[1]!.std).toBeCloseTo(1, 6)
    expect(d[1]!.dead).toBeUndefined()
  })

  it('counts saturated sigmoid and tanh outputs', () => {
    // pre-activations [[10, -10], [0, 0]]: σ gives 2 of 4 within 0.01 of 0 or 1; tanh likewise
    for (const activation of ['sigmoid', 'tanh'] as const) {
      const arch = sequential([dense({ units: 2, activation })], { inputShape: [1] })
      const model = withParams(initModel(arch, { key: key(0) }), {
        dense: { kernel: tensor([[1, -1]]), bias: tensor([0, 0]) },
      })
      const d = diagnose(
        model,
        {
          x: tensor([[10], [0]]),
          y: tensor([
            [0, 0],
            [0, 0],
          ]),
        },
        { loss: 'meanSquaredError' },
      )
      expect(d[0]!.saturated).toBe(0.5)
      expect(d[0]!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(4)
    }
  })

  it('rejects bad options and a probe whose x and y differ in rows', () => {
    const model = initModel(sequential([dense({ units: 1 })], { inputShape: [1] }), { key: key(0) })
    const probe = { x: tensor([[1]]), y: tensor([[1]]) }
    expect(() => diagnose(model, probe, { loss: 'meanSquaredError', bins: 0 })).toThrow(/bins/)
    expect(() => diagnose(model, probe, { loss: 'meanSquaredError', saturation: 0.7 })).toThrow(/saturation/)
    expect(() =>
      diagnose(model, { x: tensor([[1], [2]]), y: tensor([[1]]) }, { loss: 'meanSquaredError' }),
    ).toThrow(/2 rows.*1/)
  })

  it('shows vanishing gradients in a deep sigmoid net with Glorot init, not with He init + batch norm', () => {
    const depth = 20
    const width = 16
    const [kx, ky, k1, k2] = split(key(7), 4)
    const x = normal(kx!, [64, width])
    const y = tensor(Array.from(uniform(ky!, [64]).data, (u) => Math.floor(u * 10)))
    const probe = { x, y }
    const sigmoidNet = sequential(
      [
        ...Array.from({ length: depth }, () => dense({ units: width, activation: 'sigmoid' })),
        dense({ units: 10, activation: 'softmax' }),
      ],
      { inputShape: [width] },
    )
    const heBn = sequential(
      [
        ...Array.from({ length: depth }, () => [
          dense({ units: width, activation: 'relu', kernelInitializer: 'heNormal' }),
          batchNormalization(),
        ]).flat(),
        dense({ units: 10, activation: 'softmax' }),
      ],
      { inputShape: [width] },
    )
    const ratio = (m: Model) => {
      const norms = diagnose(m, probe, { loss: 'sparseCategoricalCrossentropy' })
        .filter((l) => l.kind === 'Dense')
        .map((l) => l.gradientNorm!)
      return norms[0]! / norms.at(-2)!
    }
    // first hidden layer vs last hidden layer: σ' ≤ 1/4 per layer shrinks it by orders of magnitude
    expect(ratio(initModel(sigmoidNet, { key: k1! }))).toBeLessThan(1e-3)
    expect(ratio(initModel(heBn, { key: k2! }))).toBeGreaterThan(0.1)
  })
})

describe('recordDiagnostics', () => {
  it('records one entry per epoch, kept in history.callbackStates', async () => {
    const model = initModel(
      sequential([dense({ units: 3, activation: 'tanh' }), dense({ units: 2, activation: 'softmax' })], {
        inputShape: [2],
      }),
      { key: key(1) },
    )
    const x = tensor([
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
    ])
    const y = tensor([0, 1, 0, 1])
    const probe = { x, y }
    const r = await fit(model, x, y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: 'sgd',
      epochs: 3,
      verbose: 0,
      callbacks: [recordDiagnostics(probe, { loss: 'sparseCategoricalCrossentropy' })],
    })
    const d = diagnosticsOf(r.history)!
    expect(d.epoch).toEqual([0, 1, 2])
    expect(d.layers).toHaveLength(3)
    // the last record is of the model fit returned
    expect(d.layers[2]).toEqual(diagnose(r.model, probe, { loss: 'sparseCategoricalCrossentropy' }))
    expect(d.layers[0]![0]!.gradientNorm).not.toBe(d.layers[2]![0]!.gradientNorm)
  })
})
