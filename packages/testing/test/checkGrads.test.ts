import { abs, clip, exp, matmul, maximum, mul, relu, sum, type Tensor, tanh, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { broadcastShapesArb, checkGrads, tensorArb } from '../src/index.js'

const runs = (seed: number, numRuns = 20) => ({ seed, numRuns })

describe('checkGrads, order 1', () => {
  it('passes on correct gradients, with a float64 reference and without one', () => {
    fc.assert(
      fc.property(tensorArb([2, 3]), tensorArb([3, 2]), (a, b) => {
        const ref = (x: Float64Array, y: Float64Array) => {
          const out: number[] = []
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 2; j++) {
              let s = 0
              for (let k = 0; k < 3; k++) s += x[i * 3 + k]! * y[k * 2 + j]!
              out.push(Math.tanh(s))
            }
          return out
        }
        const f = (x: Tensor, y: Tensor) => tanh(matmul(x, y))
        expect(checkGrads(f, [a, b], { reference: ref }).checked).toBe(12)
        expect(checkGrads(f, [a, b]).checked).toBe(12)
      }),
      runs(1),
    )
  })

  it('fails on a wrong gradient and names the element, the analytic and the numeric value', () => {
    // the reference is 3·x where f is 2·x: every derivative is off by 1 (times the cotangent)
    const f = (x: Tensor) => mul(x, 2)
    const x = tensor([
      [0.5, -1],
      [2, 0.25],
    ])
    expect(() =>
      checkGrads(f, [x], { reference: (v) => v.map((e) => 3 * e), cotangent: [1, 1, 1, 4] }),
    ).toThrow(/^checkGrads: d\/d\(args\[0\]\)\[1,1\] is 8 \(reverse mode\), 12 numerically/)
  })

  it('detects kinks (relu, abs, maximum, clip at their kinks) instead of failing', () => {
    const x = tensor([0, 1, -1, 0.5])
    expect(checkGrads(relu, [x]).kinks).toBe(1)
    expect(checkGrads(abs, [x]).kinks).toBe(1)
    expect(checkGrads((a: Tensor, b: Tensor) => maximum(a, b), [x, tensor([0, 2, -1, 0])]).kinks).toBe(4)
    expect(checkGrads((a: Tensor) => clip(a, -1, 0.5), [x]).kinks).toBe(2)
  })

  it('still fails at a kink when the reverse-mode value is outside both one-sided slopes', () => {
    // relu′ at 0 in [0, 1] is fine; the reference 3·relu makes the slopes 0 and 3 and the
    // analytic 0 is inside, but at x = 1 the analytic 1 is not 3
    expect(() =>
      checkGrads(relu, [tensor([0, 1])], {
        reference: (v) => v.map((e) => 3 * Math.max(e, 0)),
        cotangent: [1],
      }),
    ).toThrow(/d\/d\(args\[0\]\)\[1\] is 1 \(reverse mode\), 3/)
  })

  it('checks broadcasting gradients on random broadcast-compatible shapes', () => {
    fc.assert(
      fc.property(
        broadcastShapesArb(2).chain(([, a, b]) => fc.tuple(tensorArb(a!), tensorArb(b!))),
        ([a, b]) => {
          checkGrads((x: Tensor, y: Tensor) => mul(exp(mul(x, 0.3)), y), [a, b])
        },
      ),
      runs(2),
    )
  })

  it('throws when f writes into an input', () => {
    const f = (x: Tensor) => {
      ;(x.data as Float32Array)[0] = 0
      return sum(x)
    }
    expect(() => checkGrads(f, [tensor([1, 2])])).toThrow(/args\[0\] was modified at element \[0\]/)
  })
})
