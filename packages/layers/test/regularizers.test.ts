import { add, matmul, mean, square, sub, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  l1,
  l1l2,
  l2,
  type Regularizer,
  regularizerFromConfig,
  regularizers,
  regularizerToConfig,
} from '../src/regularizers.js'

// Independent float64 formulas (Keras'): l1 = c·Σ|w|, l2 = c·Σw² (no ½).
const l1Ref = (c: number, w: readonly number[]) => c * w.reduce((s, v) => s + Math.abs(v), 0)
const l2Ref = (c: number, w: readonly number[]) => c * w.reduce((s, v) => s + v * v, 0)

const f32 = (lo: number, hi: number) =>
  fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true })
const weights = fc.array(f32(-3, 3), { minLength: 1, maxLength: 12 })
const factor = f32(0, 1)
/** Weights at least 0.01 away from the kink of |w| at 0. */
const awayFromZero = fc.array(
  fc.tuple(f32(0.01, 3), fc.boolean()).map(([v, negative]) => (negative ? -v : v)),
  { minLength: 1, maxLength: 12 },
)

const close = (got: number, want: number, rel = 1e-5) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1e-3, Math.abs(want)))

describe('regularizer values', () => {
  it('pins worked examples', () => {
    expect(
      l1(0.5)
        .penalty(tensor([-1, 2, 0]))
        .item(),
    ).toBe(1.5)
    expect(
      l2(0.5)
        .penalty(tensor([1, 2]))
        .item(),
    ).toBe(2.5) // 0.5·(1 + 4), not 0.25·5
    expect(
      l1l2({ l1: 0.5, l2: 0.25 })
        .penalty(tensor([-2, 2]))
        .item(),
    ).toBe(4) // 0.5·4 + 0.25·8
    expect(
      l2()
        .penalty(tensor([[3, 4]]))
        .item(),
    ).toBeCloseTo(0.25, 7) // default 0.01
  })

  it('defaults: 0.01, as Keras (l1_l2() too)', () => {
    expect(l1().config).toEqual({ l1: 0.01 })
    expect(l2().config).toEqual({ l2: 0.01 })
    expect(l1l2().config).toEqual({ l1: 0.01, l2: 0.01 })
    expect(l1l2({ l2: 0.1 }).config).toEqual({ l1: 0.01, l2: 0.1 })
  })

  it('the penalty is a scalar (shape [])', () => {
    for (const r of [l1(), l2(), l1l2(), l1l2({ l1: 0, l2: 0 })])
      expect(
        r.penalty(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ).shape,
      ).toEqual([])
  })

  it('property: values equal the float64 formulas on any shape', () => {
    fc.assert(
      fc.property(weights, factor, factor, (w, a, b) => {
        const t = tensor(w)
        close(l1(a).penalty(t).item(), l1Ref(a, w))
        close(l2(b).penalty(t).item(), l2Ref(b, w))
        close(l1l2({ l1: a, l2: b }).penalty(t).item(), l1Ref(a, w) + l2Ref(b, w))
      }),
      { seed: 17, numRuns: 100 },
    )
  })

  it('l1l2 with a zero factor is exactly the other one (terms are skipped, as Keras)', () => {
    const w = tensor([0.5, -1.25, 2])
    expect(l1l2({ l1: 0, l2: 0.3 }).penalty(w).item()).toBe(l2(0.3).penalty(w).item())
    expect(l1l2({ l1: 0.3, l2: 0 }).penalty(w).item()).toBe(l1(0.3).penalty(w).item())
    expect(l1l2({ l1: 0, l2: 0 }).penalty(w).item()).toBe(0)
  })
})

describe('regularizer gradients', () => {
  const gradOf = (r: Regularizer, w: readonly number[]): number[] =>
    Array.from(valueAndGrad((p: Tensor) => r.penalty(p))(tensor(w)).grad.data)

  it('property: l2 gradient is 2c·w (not c·w: there is no ½)', () => {
    fc.assert(
      fc.property(weights, factor, (w, c) => {
        gradOf(l2(c), w).forEach((g, i) => {
          close(g, 2 * c * w[i]!)
        })
      }),
      { seed: 18, numRuns: 100 },
    )
  })

  it('property: l1 gradient is c·sign(w), 0 at w = 0 (the subgradient TF uses)', () => {
    fc.assert(
      fc.property(weights, factor, (w, c) => {
        gradOf(l1(c), w).forEach((g, i) => {
          close(g, c * Math.sign(w[i]!))
        })
      }),
      { seed: 19, numRuns: 100 },
    )
    expect(gradOf(l1(0.5), [0, -0, 2]).map((g) => g + 0)).toEqual([0, 0, 0.5]) // + 0 folds −0 into 0
  })

  it('property: every regularizer against central differences of its float64 formula (away from 0)', () => {
    fc.assert(
      fc.property(awayFromZero, factor, factor, (w, a, b) => {
        const cases: readonly (readonly [Regularizer, (x: readonly number[]) => number])[] = [
          [l1(a), (x) => l1Ref(a, x)],
          [l2(b), (x) => l2Ref(b, x)],
          [l1l2({ l1: a, l2: b }), (x) => l1Ref(a, x) + l2Ref(b, x)],
        ]
        // checkGrads of @purenn/testing: float64 central differences (h = 1e-6) of the formula,
        // tolerance 5e-5·(1 + |numeric|) ≤ 1e-4·max(1, |numeric|); |w| ≥ 1e-2: no kink in reach
        for (const [r, ref] of cases) {
          const report = checkGrads((p: Tensor) => r.penalty(p), [tensor(w)], {
            cotangent: [1],
            reference: (x) => [ref(Array.from(x))],
            rtol: 5e-5,
            atol: 5e-5,
          })
          expect(report.kinks).toBe(0)
        }
      }),
      { seed: 20, numRuns: 100 },
    )
  })

  it('added to a loss, the penalty adds 2c·w to the gradient of the kernel', () => {
    const x = tensor([
      [1, 2],
      [3, -1],
      [0.5, 0.5],
    ])
    const y = tensor([[1], [0], [2]])
    const reg = l2(0.1)
    const mse = (p: { kernel: Tensor }) => mean(square(sub(matmul(x, p.kernel), y)))
    const kernel = tensor([[0.3], [-0.7]])
    const plain = valueAndGrad(mse)({ kernel })
    const regularized = valueAndGrad((p: { kernel: Tensor }) => add(mse(p), reg.penalty(p.kernel)))({
      kernel,
    })
    expect(regularized.value.item()).toBeCloseTo(plain.value.item() + 0.1 * (0.09 + 0.49), 6)
    const d = Array.from(regularized.grad.kernel.data).map((g, i) => g - plain.grad.kernel.data[i]!)
    d.forEach((v, i) => {
      expect(v).toBeCloseTo(2 * 0.1 * kernel.data[i]!, 6)
    })
  })
})

describe('regularizer construction', () => {
  it('factors must be finite numbers', () => {
    expect(() => l1(Number.NaN)).toThrow(/l1: c must be a finite number, got NaN/)
    expect(() => l2(Number.POSITIVE_INFINITY)).toThrow(RangeError)
    expect(() => l1l2({ l2: Number.NaN })).toThrow(/l1l2: l2 must be a finite number/)
  })

  it('regularizers are frozen values; the namespace has the three', () => {
    expect(Object.isFrozen(l2())).toBe(true)
    expect(Object.isFrozen(l2().config)).toBe(true)
    expect(regularizers.l2(0.2).config).toEqual({ l2: 0.2 })
    expect(Object.keys(regularizers)).toEqual(['l1', 'l2', 'l1l2'])
  })
})

describe('regularizer config', () => {
  it('writes { name, ...factors }', () => {
    expect(regularizerToConfig(l2(0.01))).toEqual({ name: 'l2', l2: 0.01 })
    expect(regularizerToConfig(l1(0.2))).toEqual({ name: 'l1', l1: 0.2 })
    expect(regularizerToConfig(l1l2({ l1: 0, l2: 0.001 }))).toEqual({ name: 'l1l2', l1: 0, l2: 0.001 })
  })

  it('property: fromConfig(toConfig(r)) has the same penalty and gradient (through JSON text)', () => {
    const regArb = fc.oneof(
      factor.map((c) => l1(c)),
      factor.map((c) => l2(c)),
      fc.tuple(factor, factor).map(([a, b]) => l1l2({ l1: a, l2: b })),
    )
    fc.assert(
      fc.property(regArb, weights, (r, w) => {
        const back = regularizerFromConfig(JSON.parse(JSON.stringify(regularizerToConfig(r))))
        if (back._tag === 'Left') throw new Error(back.left)
        expect(back.right.name).toBe(r.name)
        expect(back.right.config).toEqual(r.config)
        const f = (reg: Regularizer) => valueAndGrad((p: Tensor) => reg.penalty(p))(tensor(w))
        const [a, b] = [f(r), f(back.right)]
        expect(b.value.data).toEqual(a.value.data)
        expect(b.grad.data).toEqual(a.grad.data)
      }),
      { seed: 21, numRuns: 60 },
    )
  })

  it('accepts a bare name and missing factors, with the default 0.01', () => {
    const s = regularizerFromConfig('l2')
    expect(s._tag === 'Right' && s.right.config).toEqual({ l2: 0.01 })
    const o = regularizerFromConfig({ name: 'l1l2', l2: 0.5 })
    expect(o._tag === 'Right' && o.right.config).toEqual({ l1: 0.01, l2: 0.5 })
  })

  it.each([
    ['L2', "regularizer: expected one of 'l1' | 'l2' | 'l1l2', got \"L2\""],
    [0.01, 'regularizer: expected a regularizer name or { name, ...factors }, got 0.01'],
    [{ l2: 0.01 }, "regularizer.name: expected one of 'l1' | 'l2' | 'l1l2', got nothing"],
    [{ name: 'l3' }, "regularizer.name: expected one of 'l1' | 'l2' | 'l1l2', got \"l3\""],
    [{ name: 'l2', l2: '0.01' }, 'regularizer.l2: expected a finite number, got "0.01"'],
    [{ name: 'l1', l1: null }, 'regularizer.l1: expected a finite number, got null'],
    [{ name: 'l2', l1: 0.1 }, "regularizer.l1: 'l2' takes only l2, got a field 'l1'"],
    [{ name: 'l1l2', l3: 0.1 }, "regularizer.l3: 'l1l2' takes only l1, l2, got a field 'l3'"],
  ] as const)('bad config %j gives an error naming the field', (config, message) => {
    const r = regularizerFromConfig(config)
    expect(r._tag).toBe('Left')
    expect(r._tag === 'Left' && r.left).toBe(message)
  })

  it('error messages use the path of the caller', () => {
    const r = regularizerFromConfig({ name: 'l2', l2: 'x' }, 'kernelRegularizer')
    expect(r._tag === 'Left' && r.left).toBe('kernelRegularizer.l2: expected a finite number, got "x"')
  })
})
