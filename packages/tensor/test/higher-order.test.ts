import { describe, expect, it } from 'vitest'
import { add, exp, mul, sub } from '../src/arith.js'
import { denseOp } from '../src/fused.js'
import { grad, stopGradient, valueAndGrad } from '../src/grad.js'
import { hessian, hessianVectorProduct, hvp, jacobian } from '../src/hessian.js'
import { matmul } from '../src/linalg.js'
import { sigmoid, tanh } from '../src/nn.js'
import { sum } from '../src/reduce.js'
import { reshape } from '../src/shape.js'
import { type Tensor, tensor } from '../src/tensor.js'

// Expected values are worked out by hand from the formulas (and agree with JAX).
const cube = (x: Tensor) => sum(mul(mul(x, x), x)) // Σx³

describe('nested tape (higher-order reverse mode)', () => {
  it('grad of the sum of a gradient: Σx³ at 2 gives 6x = 12, as JAX', () => {
    expect(grad(cube)(tensor([2])).toArray()).toEqual([12])
    expect(grad((x: Tensor) => sum(grad(cube)(x)))(tensor([2])).toArray()).toEqual([12])
  })

  it('grad(grad(f)) of a scalar function: (x³)″ at 2 is 12', () => {
    const f = (x: Tensor) => mul(mul(x, x), x)
    expect(grad(grad(f))(tensor(2)).item()).toBe(12)
    expect(grad(grad(grad(f)))(tensor(2)).item()).toBe(6)
  })

  it('third order: d³/dx³ x³ = 6, and a fourth is 0', () => {
    const d2 = (x: Tensor) => sum(grad((y: Tensor) => sum(grad(cube)(y)))(x))
    expect(grad(d2)(tensor([2, -1])).toArray()).toEqual([6, 6])
    expect(grad((x: Tensor) => sum(grad(d2)(x)))(tensor([2])).toArray()).toEqual([0])
  })

  it('a function calling valueAndGrad inside: value and gradient both differentiate', () => {
    // h(x) = v + Σg with v = Σx³, g = 3x²: h'(x) = 3x² + 6x; at [1, 2]: [9, 24]
    const h = (x: Tensor) => {
      const { value, grad: g } = valueAndGrad(cube)(x)
      return add(value, sum(g))
    }
    expect(grad(h)(tensor([1, 2])).toArray()).toEqual([9, 24])
  })

  it('hasAux output stays differentiable by the enclosing trace', () => {
    // aux = 2x; outer objective Σ aux² = 4Σx², gradient 8x
    const outer = (x: Tensor) => {
      const { aux } = valueAndGrad((y: Tensor) => [sum(y), mul(y, 2)] as const, { hasAux: true })(x)
      return sum(mul(aux, aux))
    }
    expect(grad(outer)(tensor([1, -3])).toArray()).toEqual([8, -24])
  })

  it('an inner gradient that closes over the outer variable (no perturbation confusion)', () => {
    // d/dx [x · d/dy (x·y)] = d/dx x² = 2x, at 3: 6 (Siskind & Pearlmutter's example, reverse form)
    const outer = (x: Tensor) => sum(mul(x, grad((y: Tensor) => sum(mul(x, y)))(tensor([5]))))
    expect(grad(outer)(tensor([3])).toArray()).toEqual([6])
  })

  it('stopGradient cuts every level', () => {
    const f = (x: Tensor) => sum(mul(mul(x, x), stopGradient(x))) // x²·c: f' = 2xc, f'' = 2c
    expect(grad((x: Tensor) => sum(grad(f)(x)))(tensor([3])).toArray()).toEqual([6])
  })

  it('second derivatives through smooth activations and broadcasting', () => {
    // tanh'' = −2 tanh (1 − tanh²); σ'' = σ(1−σ)(1−2σ)
    const x = 0.7
    const t = Math.tanh(x)
    const s = 1 / (1 + Math.exp(-x))
    const d2t = grad((v: Tensor) => sum(grad((u: Tensor) => sum(tanh(u)))(v)))(tensor([x])).item()
    const d2s = grad((v: Tensor) => sum(grad((u: Tensor) => sum(sigmoid(u)))(v)))(tensor([x])).item()
    expect(d2t).toBeCloseTo(-2 * t * (1 - t * t), 5)
    expect(d2s).toBeCloseTo(s * (1 - s) * (1 - 2 * s), 5)
    // f(w) = Σ_i exp(w + b_i) with w scalar broadcast against b: f'' = Σ exp(w + b_i)
    const b = tensor([0, 1])
    const d2 = grad((w: Tensor) => sum(grad((u: Tensor) => sum(exp(add(u, b))))(w)))(tensor(0.5)).item()
    expect(d2).toBeCloseTo(Math.exp(0.5) + Math.exp(1.5), 5)
  })

  it('a fused op differentiated twice falls back to its composition (denseOp)', () => {
    // f(W) = Σ (x·W)² with x = [[1, 2]], W = [[a], [b]]: ∂f/∂W = 2 xᵀ(xW); Σ of that is
    // 2(1 + 2)(a + 2b), whose gradient is [[6], [12]]
    const x = tensor([[1, 2]])
    const viaDense = (w: Tensor) =>
      sum(grad((v: Tensor) => sum(mul(denseOp(x, v, undefined), denseOp(x, v, undefined))))(w))
    const viaMatmul = (w: Tensor) => sum(grad((v: Tensor) => sum(mul(matmul(x, v), matmul(x, v))))(w))
    const w = tensor([[0.5], [-1]])
    expect(grad(viaDense)(w).toArray()).toEqual([[6], [12]])
    expect(grad(viaMatmul)(w).toArray()).toEqual([[6], [12]])
  })

  it('gradients of gradients leave no node behind on the results', () => {
    const g = grad((x: Tensor) => sum(grad(cube)(x)))(tensor([2]))
    expect((g as { node?: unknown }).node).toBeUndefined()
    const inner = grad(cube)(tensor([2]))
    expect((inner as { node?: unknown }).node).toBeUndefined()
    expect(sub(inner, 12).item()).toBe(0)
  })
})

describe('hessianVectorProduct, jacobian, hessian', () => {
  // f(x) = (Σx)² + Σx³ + Σ x·exp(x): H = 2·11ᵀ + diag(6x + (2 + x)eˣ), worked out by hand
  const f = (x: Tensor) => add(add(mul(sum(x), sum(x)), cube(x)), sum(mul(x, exp(x))))
  const hessianOf = (x: number[]) =>
    x.map((xi, i) => x.map((_, j) => 2 + (i === j ? 6 * xi + (2 + xi) * Math.exp(xi) : 0)))

  it('hessian matches the formula and is symmetric', () => {
    const x = [0.5, -1, 2]
    const H = hessian(f)(tensor(x))
    expect(H.shape).toEqual([3, 3])
    const want = hessianOf(x)
    const got = H.toArray() as number[][]
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        expect(got[i]![j]!).toBeCloseTo(want[i]![j]!, 4)
        expect(got[i]![j]!).toBeCloseTo(got[j]![i]!, 4)
      }
  })

  it('hessianVectorProduct equals H·v on trees, and hvp is the same function', () => {
    const x = [0.5, -1, 2]
    const v = [1, 2, -0.5]
    const Hv = hessianOf(x).map((row) => row.reduce((s, h, j) => s + h * v[j]!, 0))
    const got = hessianVectorProduct((p: { a: Tensor }) => f(p.a))({ a: tensor(x) }, { a: tensor(v) })
    const gotA = got.a.toArray() as number[]
    for (let i = 0; i < 3; i++) expect(gotA[i]!).toBeCloseTo(Hv[i]!, 4)
    expect(hvp).toBe(hessianVectorProduct)
  })

  it('hessianVectorProduct names a mismatched vector', () => {
    expect(() =>
      hessianVectorProduct((p: { a: Tensor }) => cube(p.a))({ a: tensor([1, 2]) }, { a: tensor([1, 2, 3]) }),
    ).toThrow(/vector's leaf 'a' \[3\] does not match the parameter 'a' \[2\]/)
  })

  it('jacobian of a matrix map is the matrix, with shape [...y, ...x]', () => {
    const A = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const J = jacobian((x: Tensor) => matmul(A, x))(tensor([[1], [1], [1]]))
    expect(J.shape).toEqual([2, 1, 3, 1])
    expect(reshape(J, [2, 3]).toArray()).toEqual(A.toArray())
    expect(() => jacobian((() => 3) as unknown as (x: Tensor) => Tensor)(tensor([1]))).toThrow(TypeError)
  })
})
