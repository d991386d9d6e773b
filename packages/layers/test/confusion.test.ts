import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { confusionMatrix } from '../src/index.js'

describe('confusionMatrix', () => {
  it('counts [true, predicted] pairs: rows sum to the class counts, the trace to the correct predictions (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((k) =>
          fc.tuple(
            fc.constant(k),
            fc.array(fc.tuple(fc.integer({ min: 0, max: k - 1 }), fc.integer({ min: 0, max: k - 1 })), {
              minLength: 1,
              maxLength: 30,
            }),
          ),
        ),
        ([k, pairs]) => {
          const m = confusionMatrix(tensor(pairs.map((p) => p[0])), tensor(pairs.map((p) => p[1])), {
            numClasses: k,
          })
          expect(m.shape).toEqual([k, k])
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++)
              expect(m.data[i * k + j]).toBe(pairs.filter(([t, p]) => t === i && p === j).length)
        },
      ),
      { seed: 71, numRuns: 100 },
    )
  })

  it('takes scores [n, k] (argmax) and sizes itself from them', () => {
    const m = confusionMatrix(
      tensor([0, 0]),
      tensor([
        [0.1, 0.2, 0.7],
        [0.8, 0.1, 0.1],
      ]),
    )
    expect(m.toArray()).toEqual([
      [1, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
    ])
  })

  it('names the row of a bad label', () => {
    expect(() => confusionMatrix(tensor([0, 1.5]), tensor([0, 1]))).toThrow(
      'yTrue[1] = 1.5 is not a class index',
    )
    expect(() => confusionMatrix(tensor([0, 3]), tensor([0, 1]), { numClasses: 2 })).toThrow(
      'yTrue[1] = 3 is not below numClasses = 2',
    )
    expect(() => confusionMatrix(tensor([0]), tensor([0, 1]))).toThrow('yTrue has 1 rows but yPred has 2')
  })
})
