import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  accuracy,
  binaryAccuracy,
  categoricalAccuracy,
  getMetric,
  type MetricName,
  sparseCategoricalAccuracy,
} from '../src/index.js'

describe('accuracy chooses its kind from the shapes, as Keras "accuracy"', () => {
  it('sparse categorical: argmax(ŷ) == label, for labels [batch] or [batch, 1]', () => {
    const p = tensor([
      [0.1, 0.7, 0.2],
      [0.5, 0.3, 0.2],
      [0.2, 0.2, 0.6],
      [0.3, 0.4, 0.3],
    ])
    expect(accuracy.fn(tensor([1, 0, 1, 1]), p).item()).toBe(0.75)
    expect(accuracy.fn(tensor([[1], [0], [1], [1]]), p).item()).toBe(0.75)
  })

  it('binary: (ŷ > 0.5) == y when predictions have last dimension 1; 0.5 itself counts as 0', () => {
    expect(accuracy.fn(tensor([[1], [0], [1], [0]]), tensor([[0.9], [0.2], [0.5], [0.51]])).item()).toBe(0.5)
    expect(accuracy.fn(tensor([1, 0]), tensor([[0.6], [0.4]])).item()).toBe(1)
  })

  it('categorical: one-hot targets of the same shape', () => {
    expect(
      accuracy
        .fn(
          tensor([
            [0, 1],
            [1, 0],
          ]),
          tensor([
            [0.2, 0.8],
            [0.3, 0.7],
          ]),
        )
        .item(),
    ).toBe(0.5)
  })

  it('agrees with a float64 count on random batches', () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((rows) =>
          fc.record({
            rows: fc.constant(rows),
            p: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: rows * 4, maxLength: rows * 4 }),
            labels: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: rows, maxLength: rows }),
          }),
        ),
        ({ rows, p, labels }) => {
          let hits = 0
          for (let r = 0; r < rows; r++) {
            const row = p.slice(r * 4, r * 4 + 4)
            if (row.indexOf(Math.max(...row)) === labels[r]) hits++
          }
          const pt = tensor(
            p.map((v) => v / 1000),
            [rows, 4],
          )
          expect(accuracy.fn(tensor(labels), pt).item()).toBeCloseTo(hits / rows, 6)
          expect(sparseCategoricalAccuracy.fn(tensor(labels), pt).item()).toBeCloseTo(hits / rows, 6)
        },
      ),
      { seed: 21, numRuns: 50 },
    ))

  it('the first maximum wins on ties, as tf.argmax', () => {
    expect(
      sparseCategoricalAccuracy
        .fn(
          tensor([0, 1]),
          tensor([
            [0.5, 0.5],
            [0.5, 0.5],
          ]),
        )
        .item(),
    ).toBe(0.5)
  })
})

describe('explicit metrics and getMetric', () => {
  it('binaryAccuracy, categoricalAccuracy', () => {
    expect(binaryAccuracy.fn(tensor([1, 1, 0, 0]), tensor([0.98, 1, 0, 0.6])).item()).toBe(0.75)
    expect(
      categoricalAccuracy
        .fn(
          tensor([
            [0, 0, 1],
            [0, 1, 0],
          ]),
          tensor([
            [0.1, 0.9, 0.8],
            [0.05, 0.95, 0],
          ]),
        )
        .item(),
    ).toBe(0.5)
  })

  it('rejects shapes that do not fit', () => {
    expect(() => sparseCategoricalAccuracy.fn(tensor([1, 2, 0]), tensor([[0.1, 0.9]]))).toThrow(/do not fit/)
    expect(() => categoricalAccuracy.fn(tensor([[1, 0]]), tensor([[1, 0, 0]]))).toThrow(/do not fit/)
    expect(() => binaryAccuracy.fn(tensor([1, 0]), tensor([[1]]))).toThrow(/do not fit/)
  })

  it('getMetric maps names to metrics and passes metrics through', () => {
    const names: MetricName[] = [
      'accuracy',
      'sparseCategoricalAccuracy',
      'categoricalAccuracy',
      'binaryAccuracy',
    ]
    expect(names.map((n) => getMetric(n).name)).toEqual(names)
    expect(getMetric(accuracy)).toBe(accuracy)
    expect(() => getMetric('acc' as MetricName)).toThrow(/unknown metric 'acc'/)
  })
})
