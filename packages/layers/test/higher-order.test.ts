import { key, normal, type Tensor, tensor, tree } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import { describe, expect, it } from 'vitest'
import {
  batchNormalization,
  dense,
  initModel,
  sequential,
  sparseCategoricalCrossentropy,
} from '../src/index.js'
import { dense64 } from './helpers/fd64.js'

// A Hessian-vector product through a real model (fused dense with tanh and relu, batch norm in
// training mode, a softmax, a sparse cross-entropy), every parameter moving along one direction v
// at once, checked by `checkGrads` of `@purenn/testing` (order 2 with a `direction`) against an
// independent float64 reference of the whole model: the mixed differences
// [L(θ+εv+heᵢ) − L(θ+εv−heᵢ) − L(θ−εv+heᵢ) + L(θ−εv−heᵢ)] / 4εh, ε = h = 1e-4, and the first
// derivatives by central differences (h = 1e-6). Tolerance 1e-3·(1 + |numeric|): the float32
// reverse-mode values are good to ~1e-5 relative, a missing second derivative (the old silent
// zero) or a wrong one is off by O(1). The keys are fixed and no ReLU pre-activation lies within
// a step of its kink for them: no element is skipped.
describe('higher-order gradients through layers', () => {
  it('hvp of a dense/batch-norm/softmax model equals float64 differences of a reference model', () => {
    const model = initModel(
      sequential(
        [
          dense({ units: 5, activation: 'tanh' }),
          batchNormalization(),
          dense({ units: 4, activation: 'relu' }),
          dense({ units: 3, activation: 'softmax' }),
        ],
        { inputShape: [3] },
      ),
      { key: key(0) },
    )
    const rows = 6
    const x = normal(key(1), [rows, 3])
    const labels = [0, 1, 2, 0, 1, 2]
    const y = tensor(labels)
    const loss = sparseCategoricalCrossentropy()
    // the loss as a function of the parameter leaves (dense.kernel, dense.bias, gamma, beta, …)
    const L = (...leaves: Tensor[]): Tensor => {
      const params = tree.unflatten(model.params, leaves)
      return loss.fn(
        y,
        model.layer.apply(params, model.state, x, { training: true, trainable: model.trainable }).y,
      )
    }
    const paths = tree.flatten(model.params).map(([p]) => p)
    expect(paths).toEqual([
      'dense.kernel',
      'dense.bias',
      'batch_normalization.gamma',
      'batch_normalization.beta',
      'dense_1.kernel',
      'dense_1.bias',
      'dense_2.kernel',
      'dense_2.bias',
    ])
    const x64 = Float64Array.from(x.data)
    const reference = (
      k0: Float64Array,
      b0: Float64Array,
      gamma: Float64Array,
      beta: Float64Array,
      k1: Float64Array,
      b1: Float64Array,
      k2: Float64Array,
      b2: Float64Array,
    ): number[] => {
      const h0 = dense64('tanh', x64, k0, b0, rows, 3, 5).y
      // batch normalization in training mode: batch mean and biased variance per column, ε = 1e-3
      const bn = new Float64Array(h0.length)
      for (let c = 0; c < 5; c++) {
        let m = 0
        for (let r = 0; r < rows; r++) m += h0[r * 5 + c]! / rows
        let v = 0
        for (let r = 0; r < rows; r++) v += (h0[r * 5 + c]! - m) ** 2 / rows
        for (let r = 0; r < rows; r++)
          bn[r * 5 + c] = (gamma[c]! * (h0[r * 5 + c]! - m)) / Math.sqrt(v + 1e-3) + beta[c]!
      }
      const h1 = dense64('relu', bn, k1, b1, rows, 5, 4).y
      const p = dense64('softmax', h1, k2, b2, rows, 4, 3).y
      return [labels.reduce((s, l, r) => s - Math.log(p[r * 3 + l]!), 0) / rows]
    }
    const leaves = tree.leaves(model.params)
    const n = leaves.reduce((s, t) => s + t.size, 0)
    const r = checkGrads(L, leaves, {
      order: 2,
      direction: normal(key(2), [n]).data,
      cotangent: [1],
      reference,
    })
    expect(r.checked).toBe(2 * n) // every first derivative and every element of H·v
    expect(r.kinks).toBe(0)
  })
})
