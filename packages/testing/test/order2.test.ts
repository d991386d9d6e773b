import { exp, mul, sum, type Tensor, tanh, tensor } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { checkGrads } from '../src/index.js'

describe('checkGrads, order 2', () => {
  it('x³', () => {
    const f = (x: Tensor) => sum(mul(mul(x, x), x))
    const r = checkGrads(f, [tensor([2, -1])], { order: 2, reference: (v) => [v.reduce((s, e) => s + e ** 3, 0)] })
    expect(r.checked).toBe(6)
  })
  it('tanh·exp', () => {
    const f = (x: Tensor) => mul(tanh(x), exp(x))
    checkGrads(f, [tensor([0.5, -1])], { order: 2 })
  })
})
