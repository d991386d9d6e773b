import { checkGrads, tensorArb } from '@purenn/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, exp, log, mul, sign, sub } from '../src/arith.js'
import { customVjp } from '../src/custom.js'
import { ShapeError } from '../src/errors.js'
import { grad, valueAndGrad } from '../src/grad.js'
import { max, sum } from '../src/reduce.js'
import { fromBuffer, type Tensor, tensor } from '../src/tensor.js'

const cube = customVjp(
  (x: Tensor) => mul(mul(x, x), x),
  (g, _y, x) => [mul(g, mul(mul(x, x), 3))],
  { name: 'cube' },
)

describe('customVjp', () => {
  it('uses the given VJP, not the forward ops (straight-through sign)', () => {
    const ste = customVjp(
      (x: Tensor) => sign(x),
      (g) => [g],
    )
    const { value, grad: g } = valueAndGrad((x: Tensor) => sum(mul(ste(x), tensor([1, 2, 3]))))(
      tensor([-2, 0, 5]),
    )
    expect(value.item()).toBe(-1 + 0 + 3)
    expect(g.toArray()).toEqual([1, 2, 3]) // sign's own gradient would be 0
  })

  it('two inputs, a broadcast cotangent summed down, called once per cotangent', () => {
    let calls = 0
    const scaled = customVjp(
      (x: Tensor, s: Tensor) => mul(x, s),
      (g, _y, x, s) => {
        calls++
        return [mul(g, s), mul(g, x)] // the second has the output's shape [3]; s is [1]
      },
    )
    const g = grad((p: { x: Tensor; s: Tensor }) => sum(scaled(p.x, p.s)))({
      x: tensor([1, 2, 3]),
      s: tensor([2]),
    })
    expect(g.x.toArray()).toEqual([2, 2, 2])
    expect(g.s.toArray()).toEqual([6])
    expect(calls).toBe(1)
  })

  it('a VJP written with tensor ops is differentiated by an enclosing grad', () => {
    // d²/dx² x³ = 6x
    expect(grad((x: Tensor) => sum(grad((y: Tensor) => sum(cube(y)))(x)))(tensor([2, -1])).toArray()).toEqual(
      [12, -6],
    )
  })

  it("higherOrder 'forward' differentiates the forward when the VJP reads raw data", () => {
    // log-sum-exp with a VJP (softmax) computed on raw numbers
    const lse = (x: Tensor) => {
      const m = max(x)
      return add(log(sum(exp(sub(x, m)))), m)
    }
    const rawVjp = (g: Tensor, y: Tensor, x: Tensor): [Tensor] => [
      fromBuffer(
        x.shape,
        Float32Array.from(x.data, (v) => g.item() * Math.exp(v - y.item())),
      ),
    ]
    const fast = customVjp(lse, rawVjp, { higherOrder: 'forward' })
    const x = tensor([0.5, -1, 2])
    expect(Array.from(grad(fast)(x).data)).toEqual(Array.from(grad(lse)(x).data))
    // second derivative along 1: Σ_j H_ij = 0 for log-sum-exp (shift invariance); pick a
    // weighted sum instead: d/dx Σ w·softmax(x) with w = [1, 0, 0] is p₀(e₀ − p)
    const w = tensor([1, 0, 0])
    const d2 = grad((v: Tensor) => sum(mul(grad(fast)(v), w)))(x)
    const e = [0.5, -1, 2].map(Math.exp)
    const p = e.map((v) => v / (e[0]! + e[1]! + e[2]!))
    const want = p.map((pj, j) => p[0]! * ((j === 0 ? 1 : 0) - pj))
    Array.from(d2.data).forEach((v, j) => {
      expect(v).toBeCloseTo(want[j]!, 5)
    })
  })

  it('names what was wrong: a non-tensor input, a missing cotangent, a wrong shape', () => {
    const bad = customVjp(
      (x: Tensor) => x,
      () => [] as unknown as [Tensor],
      { name: 'bad' },
    )
    expect(() => grad((x: Tensor) => sum(bad(x)))(tensor([1]))).toThrow(
      'bad: the VJP must return 1 cotangent(s), one per input',
    )
    const wrong = customVjp(
      (x: Tensor) => sum(x),
      () => [tensor([1, 2, 3])],
      { name: 'wrong' },
    )
    expect(() => grad((x: Tensor) => wrong(x))(tensor([1, 2]))).toThrow(ShapeError)
    expect(() => grad((x: Tensor) => wrong(x))(tensor([1, 2]))).toThrow(
      "wrong: cotangent 0 has shape [3], expected the input's [2] or the output's []",
    )
    expect(() => cube(3 as unknown as Tensor)).toThrow('cube: input 0 is not a tensor')
  })

  it('records nothing outside a gradient', () => {
    const y = cube(tensor([2]))
    expect(y.toArray()).toEqual([8])
    expect((y as { node?: unknown }).node).toBeUndefined()
  })
})

describe("customVjp: a user's fused op checked by @purenn/testing", () => {
  // log Σ eˣ along the last axis, fused: forward with the max subtracted, VJP g·softmax(x)
  // written with tensor ops so that it can be differentiated again
  const logSumExp = customVjp(
    (x: Tensor) => {
      const m = max(x, -1, true)
      return add(log(sum(exp(sub(x, m)), -1, true)), m)
    },
    (g, y, x) => [mul(g, exp(sub(x, y)))],
    { name: 'logSumExp' },
  )
  const reference = (x: Float64Array): number[] => {
    const m = Math.max(...x)
    return [Math.log(x.reduce((s, v) => s + Math.exp(v - m), 0)) + m]
  }

  it('first and second derivatives against float64 differences of the formula (stated tolerance 1e-4)', () => {
    fc.assert(
      fc.property(tensorArb([5], { min: -3, max: 3 }), (x) => {
        for (const order of [1, 2] as const) {
          const r = checkGrads(logSumExp, [x], { order, reference, rtol: 1e-4, atol: 1e-4 })
          expect(r.kinks).toBe(0)
        }
      }),
      { seed: 3, numRuns: 20 },
    )
  })
})
