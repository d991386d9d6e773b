import { arange, key, mul, reshape, sum, valueAndGrad } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { flatten, fromConfig } from '../src/index.js'

const flattenFromConfig = (config: unknown) =>
  fromConfig({ kind: 'Flatten', config: config as { [k: string]: unknown } })

describe('flatten', () => {
  it('keeps the batch axis and flattens the rest in row-major order', () => {
    const layer = flatten()
    const { params, state, outputShape } = layer.init(key(0), [2, 3])
    expect(outputShape).toEqual([6])
    expect(params).toEqual({})
    const x = reshape(arange(12), [2, 2, 3])
    const y = layer.apply(params, state, x, { training: false }).y
    expect(y.shape).toEqual([2, 6])
    expect(y.toArray()).toEqual([
      [0, 1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10, 11],
    ])
  })

  it('outputShape is the product of the input axes: 28x28 -> 784', () => {
    expect(flatten().init(key(0), [28, 28]).outputShape).toEqual([784])
    expect(flatten().init(key(0), [5]).outputShape).toEqual([5])
  })

  it('passes the gradient back unchanged, in the input shape', () => {
    const x = reshape(arange(6), [1, 2, 3])
    const w = reshape(arange(6), [1, 6])
    const g = valueAndGrad((t: typeof x) => sum(mul(flatten().apply({}, {}, t, { training: true }).y, w)))(
      x,
    ).grad
    expect(g.shape).toEqual([1, 2, 3])
    expect(g.toArray()).toEqual([
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    ])
  })

  it('config holds only the name, and rebuilds', () => {
    expect(flatten().config).toEqual({})
    const named = flattenFromConfig(flatten({ name: 'flat' }).config)
    expect(E.isRight(named) && named.right.config).toEqual({ name: 'flat' })
    const bad = flattenFromConfig({ name: 3 })
    expect(E.isLeft(bad) && bad.left).toMatch(/^Flatten config/)
  })
})
