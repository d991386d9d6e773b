import { denseOp, exp, logSoftmax, mul, relu, sigmoid, sum, type Tensor, tanh, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkGrads, tensorArb } from '../src/index.js'

describe('checkGrads, order 2', () => {
  it('second derivatives of Σx³ against the float64 reference (6x on the diagonal, 0 off it)', () => {
    const f = (x: Tensor) => sum(mul(mul(x, x), x))
    const r = checkGrads(f, [tensor([2, -1])], {
      order: 2,
      reference: (v) => [v.reduce((s, e) => s + e ** 3, 0)],
    })
    // 2 first derivatives + 4 entries of the Hessian
    expect(r.checked).toBe(6)
  })

  it('random points: tanh·exp, sigmoid and log-softmax, with and without a reference', () => {
    fc.assert(
      fc.property(tensorArb([2, 3], { min: -2, max: 2 }), (x) => {
        checkGrads((t: Tensor) => mul(tanh(t), exp(mul(t, 0.5))), [x], {
          order: 2,
          reference: (v) => v.map((e) => Math.tanh(e) * Math.exp(e / 2)),
        })
        checkGrads(sigmoid, [x], { order: 2 })
        checkGrads((t: Tensor) => logSoftmax(t, -1), [x], { order: 2 })
      }),
      { seed: 5, numRuns: 10 },
    )
  })

  it('a fused op: denseOp with relu, second derivatives in x, kernel and bias (kinks skipped)', () => {
    fc.assert(
      fc.property(tensorArb([2, 3]), tensorArb([3, 2]), tensorArb([2]), (x, w, b) => {
        checkGrads((a: Tensor, k: Tensor, c: Tensor) => denseOp(a, k, c, 'relu'), [x, w, b], { order: 2 })
      }),
      { seed: 6, numRuns: 5 },
    )
  })

  it('relu at exactly 0: the first derivative jumps there, so that Hessian entry is skipped, not failed', () => {
    const r = checkGrads((t: Tensor) => mul(relu(t), t), [tensor([0, 1])], { order: 2 })
    expect(r.kinks).toBeGreaterThanOrEqual(1)
  })

  it('fails when a second derivative is wrong (a reference of another function)', () => {
    // f = x³ but the reference is x³ + x²: first derivatives differ too, so check only where they agree: x = 0
    expect(() =>
      checkGrads((t: Tensor) => mul(mul(t, t), t), [tensor([0])], {
        order: 2,
        reference: ([v]) => [v! ** 3 + v! ** 2],
        cotangent: [1],
      }),
    ).toThrow(/^checkGrads: d²\/d\(args\[0\]\)\[0\] d\(args\[0\]\)\[0\] is 0 \(reverse mode\), 2 numerically/)
  })
})

describe('checkGrads, order 2 along a direction (H·v)', () => {
  it('Σx³ along v: H·v = 6x⊙v, every element checked once (n first derivatives + n of H·v)', () => {
    const f = (x: Tensor) => sum(mul(mul(x, x), x))
    const r = checkGrads(f, [tensor([2, -1, 0.5])], {
      order: 2,
      direction: [1, 2, -1],
      reference: (v) => [v.reduce((s, e) => s + e ** 3, 0)],
    })
    expect(r.checked).toBe(6)
    expect(r.kinks).toBe(0)
  })

  it('random points, several arguments moving at once (mixed partials), with and without a reference', () => {
    fc.assert(
      fc.property(
        tensorArb([2, 3], { min: -2, max: 2 }),
        tensorArb([3], { min: -2, max: 2 }),
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 9 }),
        (x, b, v) => {
          const f = (t: Tensor, c: Tensor) => mul(tanh(mul(t, c)), exp(mul(t, 0.5)))
          const reference = (t: Float64Array, c: Float64Array) =>
            t.map((e, i) => Math.tanh(e * c[i % 3]!) * Math.exp(e / 2))
          checkGrads(f, [x, b], { order: 2, direction: v, reference })
          checkGrads(f, [x, b], { order: 2, direction: v })
        },
      ),
      { seed: 7, numRuns: 10 },
    )
  })

  it('fails when H·v is wrong (a reference of another function), naming the element', () => {
    // f = Σx³, reference Σ(x³ + x²): the same first derivatives at x = 0, H·v = 0 against 2v
    expect(() =>
      checkGrads((t: Tensor) => sum(mul(mul(t, t), t)), [tensor([0, 0])], {
        order: 2,
        direction: [1, -1],
        cotangent: [1],
        reference: (t) => [t.reduce((s, e) => s + e ** 3 + e * e, 0)],
      }),
    ).toThrow(/^checkGrads: \(H·v\) of args\[0\]\[\d\] is 0 \(reverse mode\), -?2 numerically/)
  })

  it('skips an element at a kink of the first derivative (relu·x at 0)', () => {
    const r = checkGrads((t: Tensor) => mul(relu(t), t), [tensor([0, 1])], { order: 2, direction: [1] })
    expect(r.kinks).toBeGreaterThanOrEqual(1)
  })

  it('skip leaves an element out of H·v and of the Hessian too, and counts it', () => {
    // the reference is wrong for element 1 only (2·x₁³ instead of x₁³): without skip that
    // element fails at first order; skipped, the rest is still compared
    const f = (t: Tensor) => sum(mul(mul(t, t), t))
    const reference = (v: Float64Array) => [v[0]! ** 3 + 2 * v[1]! ** 3]
    expect(() =>
      checkGrads(f, [tensor([2, -1])], { order: 2, direction: [1, 0.5], reference, cotangent: [1] }),
    ).toThrow(/^checkGrads: d\/d\(args\[0\]\)\[1\] is 3 \(reverse mode\), 6 numerically/)
    const skip = [[false, true]]
    const hv = checkGrads(f, [tensor([2, -1])], { order: 2, direction: [1, 0.5], reference, skip })
    expect([hv.checked, hv.skipped]).toEqual([2, 2]) // d/dx₀ and (H·v)₀; d/dx₁ and (H·v)₁ skipped
    const full = checkGrads(f, [tensor([2, -1])], { order: 2, reference, skip })
    expect([full.checked, full.skipped]).toEqual([3, 3]) // row 1 of the Hessian skipped in both columns
    // a wrong second derivative on a compared element still fails
    expect(() =>
      checkGrads(f, [tensor([2, -1])], {
        order: 2,
        direction: [1, 0.5],
        reference: (v) => [v[0]! ** 3 + v[0]! ** 2 + 2 * v[1]! ** 3],
        skip,
        rtol: 1e-3,
        atol: 1e-3,
      }),
    ).toThrow(/checkGrads: /)
  })

  it('rejects a direction with order 1, an empty one and a non-finite one', () => {
    const f = (t: Tensor) => sum(t)
    expect(() => checkGrads(f, [tensor([1])], { direction: [1] })).toThrow(/direction \(H·v\) needs order: 2/)
    expect(() => checkGrads(f, [tensor([1])], { order: 2, direction: [] })).toThrow(/direction is empty/)
    expect(() => checkGrads(f, [tensor([1])], { order: 2, direction: [Number.NaN] })).toThrow(
      /direction\[0\] is NaN/,
    )
  })
})
