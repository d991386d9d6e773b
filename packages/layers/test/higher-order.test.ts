import {
  add,
  hessianVectorProduct,
  key,
  mul,
  normal,
  scalar,
  sub,
  type Tensor,
  tensor,
  tree,
  valueAndGrad,
} from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  batchNormalization,
  dense,
  initModel,
  sequential,
  sparseCategoricalCrossentropy,
} from '../src/index.js'

// A Hessian-vector product through a real model (fused dense with relu and tanh, batch norm in
// training mode, a softmax cross-entropy) against central differences of the gradient along v:
// (∇L(θ + hv) − ∇L(θ − hv)) / 2h. Both sides are float32; h = 1e-3 keeps the rounding error of the
// difference (~6e-8·|∇L|/h ≈ 1e-4 relative) and its truncation error (h²·|L⁗| ≲ 1e-5 relative)
// well under the tolerance, 1e-2 of the largest component. The keys are fixed, and no ReLU
// pre-activation is within h·|v| of its kink for them (with h = 1e-2 one is, and the
// difference jumps). A missing second derivative (the old silent zero) is off by O(1).
describe('higher-order gradients through layers', () => {
  it('hvp of a dense/batch-norm/softmax model equals differences of its gradient', () => {
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
    const x = normal(key(1), [6, 3])
    const y = tensor([0, 1, 2, 0, 1, 2])
    const loss = sparseCategoricalCrossentropy()
    const L = (params: typeof model.params) =>
      loss.fn(y, model.layer.apply(params, model.state, x, { training: true, trainable: model.trainable }).y)
    const v = tree.map(model.params, (p, path) => normal(key(path.length + p.size), p.shape))
    const hv = hessianVectorProduct(L)(model.params, v)
    const h = 1e-3
    const at = (s: number) => tree.map2(model.params, v, (p, d) => add(p, mul(d, scalar(s))))
    const gPlus = valueAndGrad(L)(at(h)).grad
    const gMinus = valueAndGrad(L)(at(-h)).grad
    const numeric = tree.map2(gPlus, gMinus, (a, b) => mul(sub(a, b), 1 / (2 * h)))
    const got = tree.leaves(hv).flatMap((t: Tensor) => Array.from(t.data))
    const want = tree.leaves(numeric).flatMap((t: Tensor) => Array.from(t.data))
    const scale = Math.max(...want.map(Math.abs))
    expect(scale).toBeGreaterThan(1e-3) // a non-trivial curvature
    got.forEach((g, i) => {
      expect(Math.abs(g - want[i]!), `component ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(1e-2 * scale)
    })
  })
})
