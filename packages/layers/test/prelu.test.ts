import { full, key, ones, sum, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromConfig, initializers, l2, prelu, rrelu, toSpec } from '../src/index.js'
import { t32 } from './helpers/fd64.js'

/** `n` float32-exact values in [−3, 3] (a grid of step 2⁻¹²). */
const valuesArb = (n: number): fc.Arbitrary<number[]> =>
  fc.array(
    fc.integer({ min: -3 * 4096, max: 3 * 4096 }).map((i) => i / 4096),
    { minLength: n, maxLength: n },
  )

describe('prelu', () => {
  it('starts as a ReLU (alpha zeros, as Keras) with one slope per unit', () => {
    const layer = prelu()
    const { params, state, outputShape } = layer.init(key(0), [3])
    expect(params.alpha.shape).toEqual([3])
    expect(outputShape).toEqual([3])
    const y = layer.apply(params, state, tensor([[-2, 0, 5]]), { training: false }).y
    expect([...y.data]).toEqual([0, 0, 5])
  })

  it('y = max(0, x) + α·min(0, x); ∂/∂x and ∂/∂α pass checkGrads against the float64 formula', () => {
    fc.assert(
      fc.property(valuesArb(6), valuesArb(3), valuesArb(6), (xs, as, gs) => {
        fc.pre(xs.every((v) => Math.abs(v) >= 1e-2))
        const layer = prelu()
        const x = t32(xs, [2, 3])
        // forward against the float64 formula (1e-5 relative), then checkGrads of @purenn/testing:
        // objective Σ g ⊙ y, float64 central differences (h = 1e-6) of the same formula,
        // tolerance 1e-3·(1 + |numeric|); inputs at least 1e-2 from the kink at 0
        const ref64 = (xv: ArrayLike<number>, av: ArrayLike<number>) =>
          Array.from(xv, (v, i) => Math.max(0, v) + av[i % 3]! * Math.min(0, v))
        const alpha = t32(as, [3])
        const y = layer.apply({ alpha }, {}, x, { training: false }).y
        ref64(xs, as).forEach((want, i) => {
          expect(Math.abs(y.data[i]! - want)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want)))
        })
        const r = checkGrads(
          (xt: Tensor, at: Tensor) => layer.apply({ alpha: at }, {}, xt, { training: false }).y,
          [x, alpha],
          { cotangent: gs, reference: ref64, rtol: 1e-3, atol: 1e-3 },
        )
        expect(r.kinks).toBe(0)
        expect(r.checked).toBe(9)
      }),
      { seed: 31, numRuns: 60 },
    )
  })

  it('sharedAxes (batch axis = 0, as Keras) give one slope per channel', () => {
    const layer = prelu({ sharedAxes: [1, 2], alphaInitializer: initializers.constant(0.5) })
    const { params, state } = layer.init(key(0), [2, 2, 3])
    expect(params.alpha.shape).toEqual([1, 1, 3])
    const y = layer.apply(params, state, full([1, 2, 2, 3], -2), { training: false }).y
    expect([...new Set(y.data)]).toEqual([-1])
    expect(() => prelu({ sharedAxes: [3] }).init(key(0), [2, 2])).toThrow(
      'shared axis 3 is outside the input',
    )
    expect(() => prelu({ sharedAxes: [0] })).toThrow('sharedAxes must be an array of axes ≥ 1')
  })

  it('regularizer and constraint reach penalty and constrain; the config round-trips', () => {
    const layer = prelu({ alphaRegularizer: l2(0.5), alphaConstraint: 'nonNeg', name: 'p' })
    expect(layer.penalty!({ alpha: tensor([1, 2]) }).item()).toBe(2.5)
    expect([...layer.constrain!({ alpha: tensor([-1, 2]) }).alpha.data]).toEqual([0, 2])
    const back = fromConfig(JSON.parse(JSON.stringify(toSpec(layer))))
    expect(back._tag === 'Right' && back.right.config).toEqual(layer.config)
    const bad = fromConfig({
      kind: 'PReLU',
      config: { ...layer.config, alphaConstraint: { name: 'maxNorm', axis: 'x' } },
    })
    expect(bad._tag === 'Left' && bad.left).toContain('alphaConstraint.axis')
  })
})

describe('rrelu', () => {
  const n = 10_000
  const x = full([1, n], -1)

  it('at inference, the slope is the mean (lower + upper)/2 (PyTorch defaults 1/8, 1/3)', () => {
    const layer = rrelu()
    expect(layer.config).toEqual({ lower: 1 / 8, upper: 1 / 3 })
    const y = layer.apply({}, {}, tensor([[-1, 0, 2]]), { training: false }).y
    expect(y.data[0]).toBeCloseTo(-(1 / 8 + 1 / 3) / 2, 7)
    expect([y.data[1], y.data[2]]).toEqual([0, 2])
  })

  it('in training, slopes are U(lower, upper) per element, keyed: range, mean (±0.003 = 5 sd), same key same slopes', () => {
    const layer = rrelu({ lower: 0.1, upper: 0.3 })
    const a = layer.apply({}, {}, x, { training: true, key: key(3) }).y
    const b = layer.apply({}, {}, x, { training: true, key: key(3) }).y
    const c = layer.apply({}, {}, x, { training: true, key: key(4) }).y
    expect(a.data).toEqual(b.data)
    expect(a.data).not.toEqual(c.data)
    const slopes = [...a.data].map((v) => -v)
    expect(Math.min(...slopes)).toBeGreaterThanOrEqual(0.1)
    expect(Math.max(...slopes)).toBeLessThan(0.3)
    // sd of the mean: (0.2/√12)/√n ≈ 5.8e-4
    expect(Math.abs(slopes.reduce((s, v) => s + v, 0) / n - 0.2)).toBeLessThanOrEqual(0.003)
  })

  it('the gradient is 1 for x ≥ 0 and the drawn slope otherwise', () => {
    const layer = rrelu()
    const xs = tensor([[-1, -2, 3, 0.5]])
    const k = key(9)
    const { value, grad } = valueAndGrad((p: Tensor) =>
      sum(layer.apply({}, {}, p, { training: true, key: k }).y),
    )(xs)
    const y = layer.apply({}, {}, xs, { training: true, key: k }).y
    expect(grad.data[2]).toBe(1)
    expect(grad.data[3]).toBe(1)
    expect(grad.data[0]).toBeCloseTo(y.data[0]! / -1, 6)
    expect(grad.data[1]).toBeCloseTo(y.data[1]! / -2, 6)
    expect(Number.isFinite(value.item())).toBe(true)
  })

  it('training needs a key; bad bounds are refused', () => {
    expect(() => rrelu().apply({}, {}, ones([1, 2]), { training: true })).toThrow(
      'rrelu: training mode needs a key',
    )
    expect(() => rrelu({ lower: 0.5, upper: 0.1 })).toThrow('need finite 0 ≤ lower ≤ upper')
    const r = fromConfig({ kind: 'RReLU', config: { lower: -1, upper: 1 } })
    expect(r._tag === 'Left' && r.left).toContain('RReLU config: need finite 0 ≤ lower ≤ upper')
  })
})
