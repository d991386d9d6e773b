import { key, mul, sum, type Tensor, tree, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromConfig, type LayerNormalizationParams, layerNormalization } from '../src/index.js'
import { expectClose, gridValue, t32, valuesArb } from './helpers/fd64.js'
import { checkLayerGrad, flat, fromNested, kerasFixture } from './helpers/window64.js'

/** Layer norm in float64 over the trailing `m` values of each of `rows` groups (the normalized axes last). */
const layerNorm64 = (x: Float64Array, m: number, eps: number, gamma?: Float64Array, beta?: Float64Array) => {
  const y = new Float64Array(x.length)
  for (let r = 0; r < x.length / m; r++) {
    const row = x.subarray(r * m, (r + 1) * m)
    const mu = row.reduce((s, v) => s + v, 0) / m
    const v = row.reduce((s, q) => s + (q - mu) ** 2, 0) / m
    for (let j = 0; j < m; j++)
      y[r * m + j] = ((row[j]! - mu) / Math.sqrt(v + eps)) * (gamma?.[j] ?? 1) + (beta?.[j] ?? 0)
  }
  return y
}

const againstKeras = (name: string, axis: number | number[]) => {
  const c = kerasFixture[name]!
  const layer = layerNormalization({ axis })
  const x = fromNested(c.x, c.xShape)
  const init = layer.init(key(0), c.xShape.slice(1))
  expect(tree.count(init.params)).toBe(c.paramCount)
  const [gamma, beta] = c.weights.map((w, i) => fromNested(w, c.weightShapes[i]!))
  expect(init.params.gamma!.shape).toEqual(gamma!.shape)
  const params: LayerNormalizationParams = { gamma: gamma!, beta: beta! }
  const u = fromNested(c.u, c.yShape)
  const { grad } = valueAndGrad((p: { x: Tensor; params: LayerNormalizationParams }) =>
    sum(mul(layer.apply(p.params, {}, p.x, { training: true }).y, u)),
  )({ x, params })
  expectClose(`${name} forward`, layer.apply(params, {}, x, { training: false }).y.data, flat(c.y), 1e-5)
  expectClose(`${name} dx`, grad.x.data, flat(c.grads![0]), 1e-4)
  expectClose(`${name} dgamma`, grad.params.gamma!.data, flat(c.grads![1]), 1e-5)
  expectClose(`${name} dbeta`, grad.params.beta!.data, flat(c.grads![2]), 1e-5)
}

describe('layerNormalization: Keras semantics (fixture from real Keras 3)', () => {
  it('axis −1, epsilon 1e-3: output, gamma/beta shapes, param count, gradients', () =>
    againstKeras('layernorm_last', -1))
  it('axis [1, 2] on (h, w, c): gamma of shape [h, w]', () => againstKeras('layernorm_12', [1, 2]))
  it('defaults: ones and zeros, no state, same output in training and inference', () => {
    const layer = layerNormalization()
    expect(layer.config).toEqual({ axis: -1, epsilon: 1e-3, center: true, scale: true })
    const { params, state, outputShape } = layer.init(key(0), [3, 5])
    expect(outputShape).toEqual([3, 5])
    expect(state).toEqual({})
    expect(Array.from(params.gamma!.data)).toEqual([1, 1, 1, 1, 1])
    const x = t32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [1, 3, 5])
    const a = layer.apply(params, state, x, { training: true }).y
    const b = layer.apply(params, state, x, { training: false }).y
    expect(Array.from(a.data)).toEqual(Array.from(b.data))
  })
})

describe('layerNormalization: gradients (float64 central differences)', () => {
  const caseArb = fc
    .record({
      rows: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 2, max: 5 }),
      center: fc.boolean(),
      scale: fc.boolean(),
    })
    .chain((r) =>
      fc.record({
        r: fc.constant(r),
        // values spread over [−3, 3] on a grid: variances far from 0
        x: valuesArb(r.rows * r.m).filter((v) => new Set(v).size === v.length),
        gamma: valuesArb(r.m),
        beta: valuesArb(r.m),
        w: fc.array(gridValue, { minLength: 16, maxLength: 16 }),
      }),
    )
  it('input, gamma and beta, with and without center/scale', () =>
    fc.assert(
      fc.property(caseArb, ({ r, x, gamma, beta, w }) => {
        const params: LayerNormalizationParams = {
          ...(r.scale ? { gamma: t32(gamma, [r.m]) } : {}),
          ...(r.center ? { beta: t32(beta, [r.m]) } : {}),
        }
        checkLayerGrad(
          'layerNormalization',
          layerNormalization({ center: r.center, scale: r.scale }),
          params,
          t32(x, [r.rows, r.m]),
          (x64, ...ps) =>
            layerNorm64(
              x64,
              r.m,
              1e-3,
              r.scale ? ps[0] : undefined,
              r.center ? ps[r.scale ? 1 : 0] : undefined,
            ),
          w,
        )
      }),
      { seed: 1401, numRuns: 40 },
    ))
})

describe('layerNormalization: options and config', () => {
  it('rebuilds from its config', () => {
    const l = layerNormalization({ axis: [1, 2], epsilon: 1e-5, center: false, name: 'ln' })
    const r = fromConfig({ kind: 'LayerNormalization', config: JSON.parse(JSON.stringify(l.config)) })
    expect(E.isRight(r) && r.right.config).toEqual(l.config)
  })
  it('rejects bad options and axes, naming them', () => {
    expect(() => layerNormalization({ epsilon: -1 })).toThrow(
      'layerNormalization: epsilon must be a finite number ≥ 0, got -1',
    )
    expect(() => layerNormalization({ axis: 0 }).init(key(0), [3])).toThrow(/axis 0 is the batch axis/)
    expect(() => layerNormalization({ axis: 3 }).init(key(0), [3])).toThrow(/axis 3 is out of range/)
    const bad = fromConfig({
      kind: 'LayerNormalization',
      config: { axis: [], epsilon: 0.001, center: true, scale: true },
    })
    expect(E.isLeft(bad) && bad.left).toBe(
      'LayerNormalization config: axis must name at least one axis, got []',
    )
  })
})
