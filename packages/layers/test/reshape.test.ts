import { arange, key, mul, reshape as reshapeOp, sum, type Tensor, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { flatten, reshape, reshapeFromConfig } from '../src/index.js'
import { dot64, gridValue, t32 } from './helpers/fd64.js'
import { flat, fromNested, kerasFixture } from './helpers/window64.js'

describe('reshape layer', () => {
  it('Keras Reshape((3, -1)) on (6,): row-major, the −1 inferred (fixture from real Keras 3)', () => {
    const c = kerasFixture.reshape!
    const layer = reshape({ targetShape: [3, -1] })
    expect(layer.init(key(0), c.xShape.slice(1)).outputShape).toEqual(c.yShape.slice(1))
    const y = layer.apply({}, {}, fromNested(c.x, c.xShape), { training: false }).y
    expect(y.shape).toEqual(c.yShape)
    expect(Array.from(y.data)).toEqual(flat(c.y))
  })
  it('then flatten is the identity, and the gradient is the cotangent reshaped back', () => {
    const x = reshapeOp(arange(24), [2, 12])
    const y = reshape({ targetShape: [2, 3, 2] }).apply({}, {}, x, { training: false }).y
    expect(y.shape).toEqual([2, 2, 3, 2])
    expect(Array.from(flatten().apply({}, {}, y, { training: false }).y.data)).toEqual(Array.from(x.data))
    const w = reshapeOp(arange(24), [2, 2, 3, 2])
    const g = valueAndGrad((v: Tensor) =>
      sum(mul(reshape({ targetShape: [2, 3, 2] }).apply({}, {}, v, { training: true }).y, w)),
    )(x).grad
    expect(g.shape).toEqual([2, 12])
    expect(Array.from(g.data)).toEqual(Array.from({ length: 24 }, (_, i) => i))
  })
  it('property: any target shape of the same size; the gradient is the cotangent in the input shape', () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom([12], [2, 6], [3, -1], [-1, 2, 2], [1, 12, 1]),
        fc.array(gridValue, { minLength: 36, maxLength: 36 }),
        (n, target, w) => {
          const layer = reshape({ targetShape: target })
          const x = t32(w.slice(0, 12 * n), [n, 3, 4])
          const out = layer.init(key(0), [3, 4]).outputShape
          const wT = t32(w.slice(0, 12 * n).reverse(), [n, ...out])
          const { value, grad } = valueAndGrad((v: Tensor) =>
            sum(mul(layer.apply({}, {}, v, { training: true }).y, wT)),
          )(x)
          expect(grad.shape).toEqual([n, 3, 4])
          expect(Array.from(grad.data)).toEqual(Array.from(wT.data))
          expect(value.item()).toBeCloseTo(dot64(x.data, Array.from(wT.data)), 3)
        },
      ),
      { seed: 1701, numRuns: 20 },
    ))

  it('rejects bad target shapes, naming them', () => {
    expect(() => reshape({ targetShape: [-1, -1] })).toThrow(
      'reshape: targetShape must hold positive integers and at most one -1, got [-1,-1]',
    )
    expect(() => reshape({ targetShape: [0] })).toThrow(/positive integers/)
    expect(() => reshape({ targetShape: [5] }).init(key(0), [6])).toThrow(
      'reshape: cannot reshape an input of shape (6) (6 values) to (5)',
    )
    expect(() => reshape({ targetShape: [4, -1] }).init(key(0), [6])).toThrow(/cannot reshape/)
  })
  it('rebuilds from its config', () => {
    const r = reshapeFromConfig(reshape({ targetShape: [7, -1], name: 'r' }).config)
    expect(E.isRight(r) && r.right.config).toEqual({ targetShape: [7, -1], name: 'r' })
    const bad = reshapeFromConfig({ targetShape: [-2] })
    expect(E.isLeft(bad) && bad.left).toMatch(/^Reshape config: targetShape must hold/)
  })
})
