/**
 * A bad class label is reported at its row of the dataset (the `y` given to `fit` or
 * `evaluate`), not at its row in the shuffled batch where the loss found it.
 */
import { test as fcTest } from '@fast-check/vitest'
import { LabelError } from '@purenn/layers'
import { sgd } from '@purenn/optim'
import { key, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { evaluate, fit } from '../src/index.js'
import { blobs, linearModel } from './helpers/problems.js'

/** The labels of `p` with `value` written at `row`. */
const withLabel = (y: ArrayLike<number>, row: number, value: number) =>
  tensor(Array.from(y, (v, i) => (i === row ? value : v)))

/** The error a call throws (the test fails if it throws none). */
const thrown = async (f: () => unknown): Promise<LabelError> => {
  try {
    await f()
  } catch (e) {
    expect(e).toBeInstanceOf(LabelError)
    return e as LabelError
  }
  throw new Error('expected a LabelError')
}

const opts = {
  loss: 'sparseCategoricalCrossentropy' as const,
  optimizer: sgd({ learningRate: 0.1 }),
  verbose: 0 as const,
}

describe('bad labels name the row of the dataset', () => {
  it('fit, shuffled: the row of y, with the epoch, step and row of the batch', async () => {
    const p = blobs(key(1), 40)
    const e = await thrown(() =>
      fit(linearModel(key(2)), p.x, withLabel(p.y.data, 27, 5), { ...opts, batchSize: 8, key: key(3) }),
    )
    // row 27 ≥ batch size 8: a message naming the batch's row could never say 27
    expect(e.row).toBe(27)
    expect(e.label).toBe(5)
    expect(e.message).toMatch(
      /^fit: sparseCategoricalCrossentropy: label 5 at row 27 of y \(epoch 1, step [1-5], row [0-7] of its batch\) is not a class index in \[0, 2\)$/,
    )
  })

  it('fit, not shuffled: row 13 is row 5 of step 2 with batches of 8', async () => {
    const p = blobs(key(1), 40)
    const e = await thrown(() =>
      fit(linearModel(key(2)), p.x, withLabel(p.y.data, 13, 0.5), { ...opts, batchSize: 8, shuffle: false }),
    )
    expect(e.message).toBe(
      'fit: sparseCategoricalCrossentropy: label 0.5 at row 13 of y (epoch 1, step 2, row 5 of its batch) is not a class index in [0, 2)',
    )
  })

  it('fit with validationSplit: the row of y in the validation split (its last rows)', async () => {
    const p = blobs(key(1), 40)
    // 40 rows, split 0.25: rows 30..39 validate; a bad label at 35 is found by the first evaluation
    const e = await thrown(() =>
      fit(linearModel(key(2)), p.x, withLabel(p.y.data, 35, -1), {
        ...opts,
        batchSize: 4,
        validationSplit: 0.25,
      }),
    )
    expect(e.message).toBe(
      'fit: sparseCategoricalCrossentropy: label -1 at row 35 of y (in the validation split) is not a class index in [0, 2)',
    )
  })

  it('fit with validationData: the row of the validation labels', async () => {
    const p = blobs(key(1), 40)
    const v = blobs(key(4), 20)
    const e = await thrown(() =>
      fit(linearModel(key(2)), p.x, p.y, {
        ...opts,
        batchSize: 8,
        validationData: [v.x, withLabel(v.y.data, 17, 2)],
      }),
    )
    expect(e.message).toBe(
      'fit: sparseCategoricalCrossentropy: label 2 at row 17 of validationData is not a class index in [0, 2)',
    )
  })

  it('evaluate: the row of y, not of the batch', async () => {
    const p = blobs(key(1), 40)
    const e = await thrown(() =>
      evaluate(linearModel(key(2)), p.x, withLabel(p.y.data, 21, 7), {
        loss: 'sparseCategoricalCrossentropy',
        batchSize: 8,
      }),
    )
    expect(e.message).toBe(
      'evaluate: sparseCategoricalCrossentropy: label 7 at row 21 of y is not a class index in [0, 2)',
    )
  })

  fcTest.prop(
    [
      fc
        .integer({ min: 1, max: 40 })
        .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
      fc.integer({ min: 1, max: 16 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
    ],
    { numRuns: 25, seed: 10 },
  )(
    'fit names the bad row for any size, batch size and order',
    async ([n, bad], batchSize, shuffle, seed) => {
      const p = blobs(key(seed), n)
      const e = await thrown(() =>
        fit(linearModel(key(2)), p.x, withLabel(p.y.data, bad, 3), {
          ...opts,
          batchSize,
          shuffle,
          key: key(seed),
        }),
      )
      expect(e.row).toBe(bad)
      expect(e.context.op).toBe('fit')
    },
  )
})
