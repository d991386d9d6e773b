import { key, mul, ones, sum, type Tensor, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { add, concatenate, fromConfig } from '../src/index.js'
import { expectClose, gridValue, t32, valuesArb } from './helpers/fd64.js'
import { flat, fromNested, kerasFixture } from './helpers/window64.js'

const addFromConfig = (config: { readonly [k: string]: unknown }) => fromConfig({ kind: 'Add', config })
const concatenateFromConfig = (config: { readonly [k: string]: unknown }) =>
  fromConfig({ kind: 'Concatenate', config })

const keras = (name: string) => {
  const c = kerasFixture[name]! as unknown as { x: unknown[]; y: unknown; yShape: number[] }
  const xs = (c.x as number[][][]).map((v) => {
    const shape = [
      v.length,
      ...(Array.isArray(v[0]) ? [v[0]!.length] : []),
      ...(Array.isArray(v[0]?.[0]) ? [(v[0]![0] as unknown as number[]).length] : []),
    ]
    return fromNested(v, shape)
  })
  return { xs, y: flat(c.y), yShape: c.yShape }
}

describe('add layer', () => {
  it('sums a list of inputs as Keras Add (fixture from real Keras 3)', () => {
    const c = keras('add')
    const layer = add()
    expect(
      layer.init(
        key(0),
        c.xs.map((x) => x.shape.slice(1)),
      ).outputShape,
    ).toEqual(c.yShape.slice(1))
    const y = layer.apply({}, {}, c.xs, { training: false }).y
    expect(y.shape).toEqual(c.yShape)
    expectClose('add', y.data, c.y, 0)
  })
  it('each input gets the cotangent (summed over broadcast axes)', () =>
    fc.assert(
      fc.property(
        valuesArb(6),
        valuesArb(6),
        valuesArb(3),
        fc.array(gridValue, { minLength: 6, maxLength: 6 }),
        (a, b, c, w) => {
          const wT = t32(w, [2, 3])
          const g = valueAndGrad((p: Tensor[]) => sum(mul(add().apply({}, {}, p, { training: true }).y, wT)))(
            [t32(a, [2, 3]), t32(b, [2, 3]), t32(c, [1, 3])],
          ).grad
          expectClose('d/da', g[0]!.data, w, 0)
          expectClose('d/db', g[1]!.data, w, 0)
          expectClose('d/dc', g[2]!.data, [w[0]! + w[3]!, w[1]! + w[4]!, w[2]! + w[5]!])
        },
      ),
      { seed: 1601, numRuns: 30 },
    ))
  it('rejects an empty list and shapes that do not broadcast, naming the input', () => {
    expect(() => add().init(key(0), [])).toThrow(
      'add: a merge layer needs a list of at least one input, got none',
    )
    expect(() => add().init(key(0), [[3], [3], [4]])).toThrow(
      'add: input 2 has shape (4), which does not match (3) of the inputs before it',
    )
    expect(
      add().init(key(0), [
        [4, 1],
        [1, 3],
      ]).outputShape,
    ).toEqual([4, 3])
  })
})

describe('concatenate layer', () => {
  it('joins along the last axis by default, as Keras Concatenate (fixture from real Keras 3)', () => {
    for (const [name, layer] of [
      ['concatenate', concatenate()],
      ['concatenate_axis1', concatenate({ axis: 1 })],
    ] as const) {
      const c = keras(name)
      expect(
        layer.init(
          key(0),
          c.xs.map((x) => x.shape.slice(1)),
        ).outputShape,
      ).toEqual(c.yShape.slice(1))
      const y = layer.apply({}, {}, c.xs, { training: false }).y
      expect(y.shape).toEqual(c.yShape)
      expectClose(name, y.data, c.y, 0)
    }
  })
  it('each input gets its slice of the cotangent', () =>
    fc.assert(
      fc.property(
        valuesArb(2),
        valuesArb(4),
        fc.array(gridValue, { minLength: 6, maxLength: 6 }),
        (a, b, w) => {
          const g = valueAndGrad((p: Tensor[]) =>
            sum(mul(concatenate().apply({}, {}, p, { training: true }).y, t32(w, [2, 3]))),
          )([t32(a, [2, 1]), t32(b, [2, 2])]).grad
          expectClose('d/da', g[0]!.data, [w[0]!, w[3]!], 0)
          expectClose('d/db', g[1]!.data, [w[1]!, w[2]!, w[4]!, w[5]!], 0)
        },
      ),
      { seed: 1602, numRuns: 30 },
    ))
  it('rejects the batch axis and mismatched shapes, naming them', () => {
    expect(() => concatenate({ axis: 0 }).init(key(0), [[2], [2]])).toThrow(/axis 0 is the batch axis/)
    expect(() => concatenate({ axis: 3 }).init(key(0), [[2], [2]])).toThrow(/axis 3 is out of range/)
    expect(() =>
      concatenate().init(key(0), [
        [2, 3],
        [3, 3],
      ]),
    ).toThrow('concatenate: input 1 has shape (3, 3), input 0 has (2, 3); all axes but axis -1 must agree')
    expect(() => concatenate().apply({}, {}, [], { training: false })).toThrow(/at least one input/)
    expect(concatenate().apply({}, {}, [ones([1, 2])], { training: false }).y.shape).toEqual([1, 2])
  })
  it('merge layers rebuild from their configs', () => {
    const a = addFromConfig(add({ name: 'sum' }).config)
    expect(E.isRight(a) && a.right.kind).toBe('Add')
    const c = concatenateFromConfig(concatenate({ axis: 1 }).config)
    expect(E.isRight(c) && c.right.config).toEqual({ axis: 1 })
    const bad = concatenateFromConfig({ axis: 1.5 })
    expect(E.isLeft(bad) && bad.left).toBe('Concatenate config: axis must be an integer, got 1.5')
  })
})
