import { key, mul, sum, tensor, tree, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { embedding, embeddingFromConfig, l2 } from '../src/index.js'
import { expectClose, gridValue, t32, valuesArb } from './helpers/fd64.js'
import { checkLayerGrad, flat, fromNested, kerasFixture } from './helpers/window64.js'

describe('embedding layer', () => {
  it('looks rows up as Keras Embedding(5, 3) does (fixture from real Keras 3)', () => {
    const c = kerasFixture.embedding!
    const layer = embedding({ inputDim: 5, outputDim: 3 })
    const init = layer.init(key(0), c.xShape.slice(1))
    expect(init.outputShape).toEqual(c.yShape.slice(1))
    expect(tree.count(init.params)).toBe(c.paramCount)
    const params = { embeddings: fromNested(c.weights[0], c.weightShapes[0]!) }
    const y = layer.apply(params, {}, fromNested(c.x, c.xShape), { training: false }).y
    expect(y.shape).toEqual(c.yShape)
    expect(Array.from(y.data)).toEqual(flat(c.y))
  })
  it("Keras' default initializer: uniform on [−0.05, 0.05)", () => {
    const { params } = embedding({ inputDim: 100, outputDim: 10 }).init(key(1), [4])
    const v = Array.from(params.embeddings.data)
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(0.05)
    expect(Math.max(...v)).toBeGreaterThan(0.045)
    expect(Math.min(...v)).toBeLessThan(-0.045)
  })
  it('the table gradient adds up the cotangents of repeated indices (float64 central differences)', () =>
    fc.assert(
      fc.property(
        fc.record({
          idx: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
          table: valuesArb(4 * 2),
          w: fc.array(gridValue, { minLength: 12, maxLength: 12 }),
        }),
        ({ idx, table, w }) => {
          const x = t32(idx, [2, 3])
          // the indices get no gradient: check the table only, by giving the input's reference no dependence
          const layer = embedding({ inputDim: 4, outputDim: 2 })
          const { grad } = valueAndGrad((p: { embeddings: ReturnType<typeof t32> }) =>
            sum(mul(layer.apply(p, {}, x, { training: true }).y, t32(w, [2, 3, 2]))),
          )({ embeddings: t32(table, [4, 2]) })
          const want = new Float64Array(8)
          idx.forEach((r, i) => {
            want[2 * r] = want[2 * r]! + w[2 * i]!
            want[2 * r + 1] = want[2 * r + 1]! + w[2 * i + 1]!
          })
          expectClose('embedding table gradient', grad.embeddings.data, want)
          // and the general check, with the input's own derivative being zero
          checkLayerGrad(
            'embedding',
            { ...layer, apply: (p, s, _x, o) => layer.apply(p, s, x, o) },
            { embeddings: t32(table, [4, 2]) },
            t32(new Array(6).fill(0), [2, 3]),
            (_x64, tab) => Float64Array.from(idx.flatMap((r) => [tab![2 * r]!, tab![2 * r + 1]!])),
            w,
          )
        },
      ),
      { seed: 1501, numRuns: 30 },
    ))
  it('rejects indices that are not integers in [0, inputDim), naming the element', () => {
    const layer = embedding({ inputDim: 3, outputDim: 2 })
    const { params } = layer.init(key(0), [2])
    expect(() => layer.apply(params, {}, tensor([[0, 3]]), { training: false })).toThrow(
      'embedding: input element 1 is 3; indices must be integers in [0, 3) (inputDim 3)',
    )
    expect(() => layer.apply(params, {}, tensor([[0.5, 1]]), { training: false })).toThrow(/element 0 is 0.5/)
    expect(() => embedding({ inputDim: 0, outputDim: 2 })).toThrow(
      'embedding: inputDim must be a positive integer, got 0',
    )
  })
  it('rebuilds from its config, regularizer included', () => {
    const l = embedding({ inputDim: 7, outputDim: 3, embeddingsRegularizer: l2(0.1), name: 'e' })
    const r = embeddingFromConfig(JSON.parse(JSON.stringify(l.config)))
    expect(E.isRight(r) && r.right.config).toEqual(l.config)
    expect(E.isRight(r) && r.right.penalty !== undefined).toBe(true)
    const bad = embeddingFromConfig({ ...l.config, outputDim: -1 })
    expect(E.isLeft(bad) && bad.left).toBe('Embedding config: outputDim must be a positive integer, got -1')
  })
})
