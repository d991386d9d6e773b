import {
  type AnyLayer,
  accuracy as accuracyMetric,
  dense,
  freeze,
  initModel,
  l2,
  type Model,
  sequential,
  setWeights,
  sparseCategoricalCrossentropy,
} from '@purenn/layers'
import { adamw, sgd } from '@purenn/optim'
import { customVjp, key, type Tensor, tensor, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { makeTrainer } from '../src/index.js'
import { blobs, bnModel, modelBits } from './helpers/problems.js'

/**
 * A tiny model with fixed weights: a linear dense layer 2 → 2 (l2 0.5 on its kernel), then a
 * softmax dense layer 2 → 2 (l2 0.01 on its kernel).
 */
const W1 = [
  [1, 0.5],
  [-0.5, 1],
]
const b1 = [0.1, -0.1]
const W2 = [
  [0.2, -0.3],
  [0.4, 0.1],
]
const b2 = [0, 0.05]
const c1 = 0.5
const c2 = 0.01
const tiny = (): Model =>
  setWeights(
    initModel(
      sequential(
        [
          dense({ units: 2, kernelRegularizer: l2(c1) }),
          dense({ units: 2, activation: 'softmax', kernelRegularizer: l2(c2) }),
        ],
        { inputShape: [2] },
      ),
      { key: key(0) },
    ),
    [tensor(W1), tensor(b1), tensor(W2), tensor(b2)],
  )
const batch = {
  x: tensor([
    [1, 2],
    [0.5, -1],
    [-1, 0.25],
  ]),
  y: tensor([1, 0, 0]),
}

/** The forward pass, loss and gradients of `tiny` on `batch`, in float64 by hand. */
const byHand = () => {
  const xs = [
    [1, 2],
    [0.5, -1],
    [-1, 0.25],
  ]
  const ys = [1, 0, 0]
  const B = xs.length
  const h = xs.map((x) => [0, 1].map((j) => x[0]! * W1[0]![j]! + x[1]! * W1[1]![j]! + b1[j]!))
  const p = h.map((hi) => {
    const z = [0, 1].map((j) => hi[0]! * W2[0]![j]! + hi[1]! * W2[1]![j]! + b2[j]!)
    const m = Math.max(...z)
    const e = z.map((v) => Math.exp(v - m))
    return e.map((v) => v / (e[0]! + e[1]!))
  })
  const dataLoss = -p.reduce((s, pi, i) => s + Math.log(pi[ys[i]!]!), 0) / B
  const sumSq = (w: number[][]) => w.flat().reduce((s, v) => s + v * v, 0)
  const penalty = c1 * sumSq(W1) + c2 * sumSq(W2)
  const dz = p.map((pi, i) => pi.map((v, j) => (v - (j === ys[i] ? 1 : 0)) / B))
  const dW2 = [0, 1].map((r) =>
    [0, 1].map((j) => h.reduce((s, hi, i) => s + hi[r]! * dz[i]![j]!, 0) + 2 * c2 * W2[r]![j]!),
  )
  const db2 = [0, 1].map((j) => dz.reduce((s, d) => s + d[j]!, 0))
  const accuracy = p.filter((pi, i) => (pi[1]! > pi[0]! ? 1 : 0) === ys[i]).length / B
  return { dataLoss, penalty, dW2, db2, accuracy }
}

const values = (t: Tensor) => Array.from(t.data)

describe('makeTrainer: the training step', () => {
  const loss = sparseCategoricalCrossentropy()

  it('reports loss + Σ c·w² (frozen layers included) and updates only the trainable params', () => {
    const lr = 0.1
    const model = freeze(tiny(), ['dense'])
    const trainer = makeTrainer({ loss, metrics: [accuracyMetric], optimizer: sgd({ learningRate: lr }) })
    const { state, logs } = trainer.step(trainer.init(model), batch, key(1))
    const h = byHand()
    expect(logs.loss).toBeCloseTo(h.dataLoss + h.penalty, 6)
    expect(h.penalty).toBeGreaterThan(0.5) // the penalty matters in the comparison
    expect(logs.metrics).toEqual({ accuracy: Math.fround(h.accuracy) }) // a float32 mean
    const next = state.model.params as unknown as Record<string, Record<string, Tensor>>
    // the frozen layer: bitwise unchanged, although its penalty has a gradient 2·c1·W1
    expect(modelBits(state.model).params['dense.kernel']).toEqual(modelBits(model).params['dense.kernel'])
    expect(modelBits(state.model).params['dense.bias']).toEqual(modelBits(model).params['dense.bias'])
    // ... and the very same tensor: nothing is allocated or copied for a frozen layer
    const before = model.params as unknown as Record<string, Record<string, Tensor>>
    expect(next.dense!.kernel).toBe(before.dense!.kernel)
    // the trainable layer: W2 − lr·(hᵀ·dz + 2·c2·W2), b2 − lr·Σdz
    for (const [i, v] of values(next.dense_1!.kernel!).entries())
      expect(v).toBeCloseTo(W2.flat()[i]! - lr * h.dW2.flat()[i]!, 6)
    for (const [i, v] of values(next.dense_1!.bias!).entries())
      expect(v).toBeCloseTo(b2[i]! - lr * h.db2[i]!, 6)
    expect(state.step).toBe(1)
  })

  it('is pure: the state passed in is unchanged, and the same call gives bitwise the same result', () => {
    const model = bnModel(key(2))
    const p = blobs(key(3), 16)
    const trainer = makeTrainer({ loss, metrics: [], optimizer: adamw({ learningRate: 0.01 }) })
    const s0 = trainer.init(model)
    const before = modelBits(s0.model)
    const a = trainer.step(s0, p, key(4))
    const b = trainer.step(s0, p, key(4))
    expect(modelBits(s0.model)).toEqual(before)
    expect(s0.step).toBe(0)
    expect(modelBits(a.state.model)).toEqual(modelBits(b.state.model))
    expect(a.logs).toEqual(b.logs)
  })

  it("returns batch norm's new moving statistics from apply", () => {
    const model = bnModel(key(2))
    const p = blobs(key(3), 16)
    const trainer = makeTrainer({ loss, metrics: [], optimizer: sgd() })
    const { state } = trainer.step(trainer.init(model), p, key(4))
    // moving = 0.99·moving + 0.01·(batch mean of the BN input), the moving mean starting at 0
    const { kernel, bias } = (model.params as Record<string, Record<string, Tensor>>).dense!
    const x = values(p.x)
    const hidden = [...Array(16).keys()].map((i) =>
      [...Array(8).keys()].map((j) =>
        Math.max(0, x[2 * i]! * kernel!.data[j]! + x[2 * i + 1]! * kernel!.data[8 + j]! + bias!.data[j]!),
      ),
    )
    const batchMean = [...Array(8).keys()].map((j) => hidden.reduce((s, h) => s + h[j]!, 0) / 16)
    const movingMean = (state.model.state as Record<string, Record<string, Tensor>>).batch_normalization!
      .movingMean!
    for (const [j, v] of values(movingMean).entries())
      expect(v).toBeCloseTo(0.99 * 0 + 0.01 * batchMean[j]!, 6)
  })

  it('learningRateFactor 0 keeps the params (the optimizer state still advances)', () => {
    const model = tiny()
    const trainer = makeTrainer({ loss, metrics: [], optimizer: adamw({ learningRate: 0.1 }) })
    const s0 = trainer.init(model)
    const { state } = trainer.step(s0, batch, key(1), 0)
    expect(modelBits(state.model).params).toEqual(modelBits(model).params)
    expect(state.optState).not.toEqual(s0.optState)
  })

  it('accepts a mask that stops early ({ dense: false, ... }), the same as freeze', () => {
    const model = bnModel(key(5))
    const prefix: Model = { ...model, trainable: { dense: false, batch_normalization: true, dense_1: true } }
    const p = blobs(key(6), 16)
    const trainer = makeTrainer({
      loss,
      metrics: [],
      optimizer: adamw({ learningRate: 0.05, weightDecay: 0.5 }),
    })
    const a = trainer.step(trainer.init(prefix), p, key(7)).state.model
    const b = trainer.step(trainer.init(freeze(model, ['dense'])), p, key(7)).state.model
    expect(modelBits(a)).toEqual(modelBits(b))
    expect(modelBits(a).params['dense.kernel']).toEqual(modelBits(model).params['dense.kernel'])
  })

  it('frozen params are bitwise unchanged, any selection of params (property)', () => {
    const model = bnModel(key(8))
    const paths = tree.flatten(model.params).map(([path]) => path)
    const p = blobs(key(9), 16)
    const trainer = (frozen: readonly string[]) =>
      makeTrainer({ loss, metrics: [], optimizer: adamw({ learningRate: 0.05, weightDecay: 0.1 }) }).init(
        freeze(model, (path) => frozen.includes(path)),
      )
    const step = makeTrainer({
      loss,
      metrics: [],
      optimizer: adamw({ learningRate: 0.05, weightDecay: 0.1 }),
    }).step
    fc.assert(
      fc.property(fc.subarray(paths), fc.integer({ min: 0, max: 1000 }), (frozen, k) => {
        let s = trainer(frozen)
        for (let i = 0; i < 2; i++) s = step(s, p, key(k + i)).state
        const before = modelBits(model).params
        const after = modelBits(s.model).params
        for (const path of paths)
          if (frozen.includes(path)) expect(after[path], path).toEqual(before[path])
          else expect(after[path], path).not.toEqual(before[path])
      }),
      { seed: 61, numRuns: 20 },
    )
  })
})

describe('the backward pass of frozen layers', () => {
  /** The identity, with a VJP that counts its calls: it shows which parts of the graph backprop visits. */
  const probe = () => {
    let calls = 0
    const layer: AnyLayer = {
      kind: 'Probe',
      config: {},
      init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
      apply: (_params, state, x: Tensor) => ({
        y: customVjp(
          (v: Tensor) => v,
          (g) => {
            calls++
            return [g]
          },
          { name: 'probe' },
        )(x),
        state,
      }),
    }
    return { layer, calls: () => calls }
  }
  const model = (layer: AnyLayer) =>
    initModel(
      sequential(
        [dense({ units: 4, activation: 'relu' }), layer, dense({ units: 2, activation: 'softmax' })],
        {
          inputShape: [2],
        },
      ),
      { key: key(10) },
    )
  const p = blobs(key(11), 8)
  const loss = sparseCategoricalCrossentropy()

  it('is skipped below the first trainable layer: frozen params are constants, not traced', () => {
    const frozen = probe()
    const m = freeze(model(frozen.layer), ['dense'])
    const trainer = makeTrainer({ loss, metrics: [], optimizer: sgd() })
    trainer.step(trainer.init(m), p, key(12))
    expect(frozen.calls()).toBe(0)

    const trainable = probe()
    const t = makeTrainer({ loss, metrics: [], optimizer: sgd() })
    t.step(t.init(model(trainable.layer)), p, key(12))
    expect(trainable.calls()).toBe(1)
  })
})
