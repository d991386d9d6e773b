import { describe, expect, it } from 'vitest'
import { abs, clip, maximum, minimum, sign } from '../src/arith.js'
import { grad } from '../src/grad.js'
import { elu, gelu, leakyRelu, relu, selu, sigmoid, softplus, tanh } from '../src/nn.js'
import { max, sum } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'
import fixture from './fixtures/activation-kinks.json' with { type: 'json' }

// Derivatives at each kink (x = 0, and ±1 for clip) and on either side, against TensorFlow
// 2.21 / Keras 3 (scripts/fixtures/activation_kinks.py). Tolerance: float32 rounding (1e-6 relative).
const ops: Record<string, (x: Tensor) => Tensor> = {
  relu,
  'leakyRelu(0.2)': (x) => leakyRelu(x, 0.2),
  elu,
  selu,
  gelu,
  softplus,
  sigmoid,
  tanh,
  abs,
  'maximum(x, 0) wrt x': (x) => maximum(x, 0),
  'minimum(x, 0) wrt x': (x) => minimum(x, 0),
  'maximum(0, x) wrt x': (x) => maximum(0, x),
  'minimum(0, x) wrt x': (x) => minimum(0, x),
  'clip(x, -1, 1)': (x) => clip(x, -1, 1),
  sign,
}

describe('derivatives at kinks follow TensorFlow/Keras', () => {
  for (const [name, want] of Object.entries(fixture.derivatives))
    it(name, () => {
      const op = ops[name]
      expect(op, `no op for fixture entry ${name}`).toBeDefined()
      const got = Array.from(grad((x: Tensor) => sum(op!(x)))(tensor(fixture.xs)).data)
      got.forEach((g, i) => {
        expect(
          Math.abs(g - want[i]!),
          `${name}'(${fixture.xs[i]}) = ${g}, TF ${want[i]}`,
        ).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]!)))
      })
    })

  it("SELU'(0) is λ ≈ 1.0507 (Keras), not λα ≈ 1.758", () => {
    expect(grad((x: Tensor) => sum(selu(x)))(tensor([0])).item()).toBeCloseTo(1.0507009873554805, 6)
  })

  it('max shares the cotangent equally among tied elements', () => {
    expect(Array.from(grad((x: Tensor) => max(x))(tensor(fixture.maxTie.x)).data)).toEqual(
      fixture.maxTie.grad,
    )
  })
})
