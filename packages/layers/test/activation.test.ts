import { key, sum, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import { checkGrads, tensorArb } from '@purenn/testing'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { activation, activations, fromConfig, leakyRelu } from '../src/index.js'
import { activation64, expectClose } from './helpers/fd64.js'

describe('activation layer', () => {
  it('applies the activation and keeps the shape; no params', () => {
    const layer = activation('relu')
    const { params, state, outputShape } = layer.init(key(0), [3])
    expect(outputShape).toEqual([3])
    expect(params).toEqual({})
    expect(layer.apply(params, state, tensor([[-1, 0, 2]]), { training: false }).y.toArray()).toEqual([
      [0, 0, 2],
    ])
  })

  it('accepts activation values with parameters', () => {
    const layer = activation(activations.leakyRelu(0.1))
    expect(layer.apply({}, {}, tensor([[-10, 1]]), { training: false }).y.toArray()).toEqual([[-1, 1]])
    expect(layer.config).toEqual({ activation: { name: 'leakyRelu', alpha: 0.1 } })
  })

  const names = ['tanh', 'sigmoid', 'elu', 'softmax'] as const
  names.forEach((name, i) => {
    it(`${name}: input gradient matches float64 finite differences`, () =>
      fc.assert(
        fc.property(tensorArb([2, 3]), tensorArb([2, 3]), (xt, cot) => {
          const layer = activation(name)
          const ref = (x: Float64Array) => activation64[name]!(x, 3)
          expectClose(
            'forward',
            layer.apply({}, {}, xt, { training: false }).y.data,
            ref(Float64Array.from(xt.data)),
            1e-5,
          )
          checkGrads((t: Tensor) => layer.apply({}, {}, t, { training: false }).y, [xt], {
            reference: ref,
            cotangent: cot.data,
          })
        }),
        { seed: 300 + i, numRuns: 30 },
      ))
  })

  it('config rebuilds the layer', () => {
    const r = fromConfig({ kind: 'Activation', config: activation('selu', { name: 'act' }).config })
    expect(E.isRight(r) && r.right.config).toEqual({ activation: 'selu', name: 'act' })
    expect(E.isLeft(fromConfig({ kind: 'Activation', config: { activation: 'nope' } }))).toBe(true)
  })
})

describe('leakyRelu layer', () => {
  it('defaults to alpha 0.3 (tf.keras LeakyReLU layer), unlike the 0.2 of the activation function', () => {
    const x = tensor([[-1, 2]])
    expect(leakyRelu().apply({}, {}, x, { training: false }).y.data[0]).toBeCloseTo(-0.3, 7)
    expect(activations.leakyRelu().fn(x).data[0]).toBeCloseTo(-0.2, 7)
    expect(leakyRelu({ alpha: 0.2 }).apply({}, {}, x, { training: false }).y.data[0]).toBeCloseTo(-0.2, 7)
  })

  it('gradient is 1 for x > 0 and alpha for x < 0', () => {
    const x = tensor([[-2, -0.5, 0.5, 3]])
    const g = valueAndGrad((t: Tensor) =>
      sum(leakyRelu({ alpha: 0.25 }).apply({}, {}, t, { training: true }).y),
    )(x)
    expect(g.grad.toArray()).toEqual([[0.25, 0.25, 1, 1]])
  })

  it('config holds alpha and rebuilds; a non-number alpha is a Left', () => {
    const layer = leakyRelu({ alpha: 0.2, name: 'lr' })
    expect(layer.config).toEqual({ alpha: 0.2, name: 'lr' })
    const r = fromConfig({ kind: 'LeakyReLU', config: layer.config })
    expect(E.isRight(r) && r.right.config).toEqual(layer.config)
    expect(E.isLeft(fromConfig({ kind: 'LeakyReLU', config: { alpha: 'x' } }))).toBe(true)
  })
})
