import { key, mul, sum, type Tensor, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type AnyLayer,
  averagePooling2d,
  fromConfig,
  globalAveragePooling2d,
  maxPooling2d,
} from '../src/index.js'
import { expectClose, gridValue, t32, valuesArb } from './helpers/fd64.js'
import { checkLayerGrad, flat, fromNested, kerasFixture, type Padding, pool64 } from './helpers/window64.js'

const againstKeras = (name: string, layer: AnyLayer) => {
  const c = kerasFixture[name]!
  const x = fromNested(c.x, c.xShape)
  const init = layer.init(key(0), c.xShape.slice(1))
  expect(init.outputShape).toEqual(c.yShape.slice(1))
  expect(c.paramCount).toBe(0)
  const u = fromNested(c.u, c.yShape)
  const { grad } = valueAndGrad((v: Tensor) => sum(mul(layer.apply({}, {}, v, { training: true }).y, u)))(x)
  const y = layer.apply({}, {}, x, { training: false }).y
  expect(y.shape).toEqual(c.yShape)
  expectClose(`${name} forward`, y.data, flat(c.y), 1e-6)
  expectClose(`${name} dx`, grad.data, flat(c.grads![0]), 1e-6)
}

describe('pooling layers: Keras semantics (fixture from real Keras 3)', () => {
  it("maxPooling2d: pool 3, strides 2, 'same'", () =>
    againstKeras('maxpool_3_2_same', maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })))
  it('maxPooling2d: the defaults (pool 2, strides 2, valid) on 5x5', () =>
    againstKeras('maxpool_default', maxPooling2d()))
  it("averagePooling2d: pool 2 'same' leaves the padding out of the mean", () =>
    againstKeras('avgpool_2_same', averagePooling2d({ padding: 'same' })))
  it('averagePooling2d: pool 3, strides 1, valid', () =>
    againstKeras('avgpool_3_1_valid', averagePooling2d({ poolSize: 3, strides: 1 })))
  it('globalAveragePooling2d', () => againstKeras('gap', globalAveragePooling2d()))
  it('globalAveragePooling2d keepdims', () => {
    const layer = globalAveragePooling2d({ keepdims: true })
    expect(layer.init(key(0), [5, 5, 3]).outputShape).toEqual([1, 1, 3])
    expect(layer.apply({}, {}, t32([1, 2, 3, 4], [1, 2, 2, 1]), { training: false }).y.shape).toEqual([
      1, 1, 1, 1,
    ])
  })
})

describe('pooling layers: gradients (float64 central differences)', () => {
  const caseArb = fc
    .record({
      n: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 2, max: 5 }),
      w: fc.integer({ min: 2, max: 5 }),
      c: fc.integer({ min: 1, max: 2 }),
      size: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      s: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      padding: fc.constantFrom<Padding>('valid', 'same'),
    })
    .chain((r) =>
      fc.record({
        r: fc.constant(r),
        x: valuesArb(r.n * r.h * r.w * r.c),
        w: fc.array(gridValue, { minLength: 16, maxLength: 16 }),
      }),
    )
  const shape = (r: { n: number; h: number; w: number; c: number }) => [r.n, r.h, r.w, r.c]

  it('averagePooling2d', () =>
    fc.assert(
      fc.property(caseArb, ({ r, x, w }) =>
        checkLayerGrad(
          'averagePooling2d',
          averagePooling2d({ poolSize: r.size, strides: r.s, padding: r.padding }),
          {},
          t32(x, shape(r)),
          (x64) => pool64(x64, shape(r), r.size, r.s, r.padding, 'avg').y,
          w,
        ),
      ),
      { seed: 1301, numRuns: 30 },
    ))

  it('maxPooling2d (elements tied within 1e-2 of another in some window are skipped)', () =>
    fc.assert(
      fc.property(caseArb, ({ r, x, w }) => {
        // skip an element when any other element lies within 1e-2 of it: a finite difference
        // could then change which one is the maximum
        const skip = x.map((v, i) => x.some((o, j) => j !== i && Math.abs(o - v) < 1e-2))
        checkLayerGrad(
          'maxPooling2d',
          maxPooling2d({ poolSize: r.size, strides: r.s, padding: r.padding }),
          {},
          t32(x, shape(r)),
          (x64) => pool64(x64, shape(r), r.size, r.s, r.padding, 'max').y,
          w,
          skip,
        )
      }),
      { seed: 1302, numRuns: 30 },
    ))

  it('globalAveragePooling2d', () =>
    fc.assert(
      fc.property(caseArb, ({ r, x, w }) =>
        checkLayerGrad(
          'globalAveragePooling2d',
          globalAveragePooling2d(),
          {},
          t32(x, shape(r)),
          (x64) => {
            const y = new Float64Array(r.n * r.c)
            for (let i = 0; i < x64.length; i++) {
              const b = Math.floor(i / (r.h * r.w * r.c))
              y[b * r.c + (i % r.c)] = y[b * r.c + (i % r.c)]! + x64[i]! / (r.h * r.w)
            }
            return y
          },
          w,
        ),
      ),
      { seed: 1303, numRuns: 30 },
    ))
})

describe('pooling layers: options and config', () => {
  it('config holds Keras defaults and rebuilds', () => {
    expect(maxPooling2d().config).toEqual({ poolSize: [2, 2], strides: [2, 2], padding: 'valid' })
    expect(averagePooling2d({ poolSize: 3 }).config).toEqual({
      poolSize: [3, 3],
      strides: [3, 3],
      padding: 'valid',
    })
    const m = maxPooling2d({ poolSize: [3, 2], strides: 1, padding: 'same', name: 'p' })
    const r = fromConfig({ kind: 'MaxPooling2D', config: JSON.parse(JSON.stringify(m.config)) })
    expect(E.isRight(r) && r.right.config).toEqual(m.config)
    const a = fromConfig({ kind: 'AveragePooling2D', config: averagePooling2d().config })
    expect(E.isRight(a) && a.right.kind).toBe('AveragePooling2D')
    const g = fromConfig({
      kind: 'GlobalAveragePooling2D',
      config: globalAveragePooling2d({ keepdims: true }).config,
    })
    expect(E.isRight(g) && g.right.config).toEqual({ keepdims: true })
  })
  it('rejects bad options and inputs, naming them', () => {
    expect(() => maxPooling2d({ poolSize: 0 })).toThrow(
      'maxPooling2d: poolSize must be a positive integer or a pair of them, got 0',
    )
    expect(() => averagePooling2d({ padding: 'full' as Padding })).toThrow(
      /averagePooling2d: padding must be/,
    )
    expect(() => maxPooling2d({ poolSize: 3 }).init(key(0), [2, 2, 1])).toThrow(/3x3 window does not fit/)
    expect(() => globalAveragePooling2d().init(key(0), [4, 4])).toThrow(/\(height, width, channels\)/)
    const bad = fromConfig({
      kind: 'MaxPooling2D',
      config: { poolSize: [2, 2], strides: [2, 0], padding: 'valid' },
    })
    expect(E.isLeft(bad) && bad.left).toBe(
      'MaxPooling2D config: strides must be a positive integer or a pair of them, got [2,0]',
    )
  })
})
