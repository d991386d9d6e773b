import { key, mul, ones, sum, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import { checkGrads, float32Arb } from '@purenn/testing'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type ActivationName, dense, fromConfig, initializers, l1, l2 } from '../src/index.js'

const denseFromConfig = (config: unknown) =>
  fromConfig({ kind: 'Dense', config: config as { [k: string]: unknown } })

import { dense64, expectClose, t32 } from './helpers/fd64.js'

const valuesArb = (n: number) => fc.array(float32Arb(), { minLength: n, maxLength: n })

const dims = fc.record({
  rows: fc.integer({ min: 1, max: 4 }),
  nIn: fc.integer({ min: 1, max: 5 }),
  units: fc.integer({ min: 1, max: 5 }),
})

/** Inputs of one gradient case: x, W, b and the cotangent, all float32-exact. */
const caseArb = dims.chain((d) =>
  fc.record({
    d: fc.constant(d),
    x: valuesArb(d.rows * d.nIn),
    w: valuesArb(d.nIn * d.units),
    b: valuesArb(d.units),
    cot: valuesArb(16),
    useBias: fc.boolean(),
  }),
)

// Forward values and the gradients with respect to kernel, bias and input of `Σ cot·dense(x)`,
// against float64 central differences of the float64 reference.
describe('dense: forward and gradients against float64 finite differences', () => {
  const acts: ActivationName[] = ['linear', 'tanh', 'sigmoid', 'elu', 'softmax', 'relu']
  acts.forEach((act, i) => {
    it(`${act}: kernel, bias and input`, () =>
      fc.assert(
        fc.property(caseArb, ({ d, x, w, b, cot, useBias }) => {
          const { rows, nIn, units } = d
          const ref = (xs: readonly Float64Array[]) =>
            dense64(act, xs[0]!, xs[1]!, useBias ? xs[2]! : undefined, rows, nIn, units)
          const x64 = [Float64Array.from(x), Float64Array.from(w), Float64Array.from(b)]
          const layer = dense({ units, activation: act, useBias })
          const params = useBias
            ? { kernel: t32(w, [nIn, units]), bias: t32(b, [units]) }
            : { kernel: t32(w, [nIn, units]) }
          const y = layer.apply(params, {}, t32(x, [rows, nIn]), { training: false }).y
          expect(y.shape).toEqual([rows, units])
          expectClose(`${act} forward`, y.data, ref(x64).y, 1e-5)
          // relu: pre-activations at or near 0 are kinks, which checkGrads detects
          const apply = (xt: Tensor, kernel: Tensor, bias?: Tensor) =>
            layer.apply(bias ? { kernel, bias } : { kernel }, {}, xt, { training: false }).y
          const args = [t32(x, [rows, nIn]), params.kernel, ...(params.bias ? [params.bias] : [])]
          checkGrads(apply, args, {
            reference: (...xs) => ref([xs[0]!, xs[1]!, xs[2] ?? new Float64Array(units)]).y,
            cotangent: cot,
          })
          if (!useBias) {
            const { grad } = valueAndGrad((p: { kernel: Tensor; bias?: Tensor }) =>
              sum(mul(layer.apply(p, {}, args[0]!, { training: false }).y, 1)),
            )(params)
            expect(grad.bias).toBeUndefined()
          }
        }),
        { seed: 500 + i, numRuns: 30 },
      ))
  })

  it('works on inputs with extra leading axes ([batch, t, features]) and broadcasts the kernel gradient back', () => {
    const layer = dense({ units: 2, kernelInitializer: 'ones' })
    const { params, state, outputShape } = layer.init(key(0), [3, 4])
    expect(outputShape).toEqual([3, 2])
    const x = ones([2, 3, 4])
    expect(layer.apply(params, state, x, { training: false }).y.toArray()).toEqual(
      Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => [4, 4])),
    )
    const g = valueAndGrad((p: typeof params) => sum(layer.apply(p, state, x, { training: false }).y))(
      params,
    ).grad
    expect(g.kernel.shape).toEqual([4, 2])
    expect([...g.kernel.data]).toEqual(new Array(8).fill(6)) // 2·3 rows of ones
    expect([...g.bias!.data]).toEqual([6, 6])
  })
})

describe('dense: init, config and penalty', () => {
  it('has a kernel [nIn, units] and a zero bias [units]; useBias: false drops the bias', () => {
    const { params, outputShape } = dense({ units: 300 }).init(key(0), [784])
    expect(params.kernel.shape).toEqual([784, 300])
    expect(params.bias!.shape).toEqual([300])
    expect(params.bias!.data.every((v) => v === 0)).toBe(true)
    expect(outputShape).toEqual([300])
    expect(Object.keys(dense({ units: 3, useBias: false }).init(key(0), [2]).params)).toEqual(['kernel'])
  })

  it('draws the default kernel from Glorot uniform: |w| ≤ sqrt(6/(n_in + units))', () => {
    const { kernel } = dense({ units: 300 }).init(key(1), [784]).params
    const limit = Math.sqrt(6 / (784 + 300))
    expect(kernel.data.every((v) => Math.abs(v) <= limit)).toBe(true)
    expect(Math.max(...kernel.data.map(Math.abs))).toBeGreaterThan(0.99 * limit)
  })

  it('same key, same weights; another key, other weights', () => {
    const layer = dense({ units: 4, kernelInitializer: 'heNormal' })
    const a = layer.init(key(7), [5]).params.kernel
    expect([...layer.init(key(7), [5]).params.kernel.data]).toEqual([...a.data])
    expect([...layer.init(key(8), [5]).params.kernel.data]).not.toEqual([...a.data])
  })

  it('rejects a non-positive or fractional number of units, and an input without axes', () => {
    expect(() => dense({ units: 0 })).toThrow(/units must be a positive integer, got 0/)
    expect(() => dense({ units: 2.5 })).toThrow(/got 2.5/)
    expect(() => dense({ units: 2 }).init(key(0), [])).toThrow(/at least one axis/)
  })

  it('penalty = Σ regularizer terms (kernel l2, bias l1), none without regularizers', () => {
    const layer = dense({ units: 2, kernelRegularizer: l2(0.01), biasRegularizer: l1(0.5) })
    const params = {
      kernel: tensor([
        [1, -2],
        [3, 0.5],
      ]),
      bias: tensor([-1, 2]),
    }
    expect(layer.penalty!(params).item()).toBeCloseTo(0.01 * (1 + 4 + 9 + 0.25) + 0.5 * 3, 6)
    expect(dense({ units: 2 }).penalty).toBeUndefined()
    const noBias = dense({ units: 2, useBias: false, biasRegularizer: l1(0.5) })
    expect(noBias.penalty!({ kernel: params.kernel }).item()).toBe(0)
  })

  it('config is plain JSON that rebuilds the same layer', () => {
    const layer = dense({
      units: 3,
      activation: 'elu',
      kernelInitializer: initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' }),
      kernelRegularizer: l2(0.01),
      name: 'hidden',
    })
    const json = JSON.parse(JSON.stringify(layer.config))
    expect(json).toEqual(layer.config)
    const rebuilt = denseFromConfig(json)
    if (E.isLeft(rebuilt)) throw new Error(rebuilt.left)
    expect(rebuilt.right.config).toEqual(layer.config)
    const a = layer.init(key(3), [4])
    const b = rebuilt.right.init(key(3), [4])
    expect([...b.params.kernel.data]).toEqual([...a.params.kernel.data])
    const x = tensor([[1, -2, 0.5, 3]])
    expect(rebuilt.right.apply(b.params, b.state, x, { training: false }).y.toArray()).toEqual(
      layer.apply(a.params, a.state, x, { training: false }).y.toArray(),
    )
    expect(rebuilt.right.penalty!(b.params).item()).toBeCloseTo(layer.penalty!(a.params).item(), 6)
  })

  it('a bad config is a Left naming the field, not a throw', () => {
    const bad = denseFromConfig({ ...dense({ units: 3 }).config, units: 2.5 })
    expect(E.isLeft(bad) && bad.left).toMatch(/^Dense config: units/)
    const missing = denseFromConfig({ activation: 'relu' })
    expect(E.isLeft(missing) && missing.left).toMatch(/^Dense config/)
  })

  it('never writes into its inputs', () => {
    const layer = dense({ units: 2, activation: 'relu' })
    const { params, state } = layer.init(key(0), [3])
    const x = tensor([[1, 2, 3]])
    const before = [...params.kernel.data]
    layer.apply(params, state, x, { training: true })
    expect([...params.kernel.data]).toEqual(before)
    expect(x.toArray()).toEqual([[1, 2, 3]])
  })
})
