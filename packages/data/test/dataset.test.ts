import { type Key, key, permutation, ShapeError, split, type Tensor, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  batches,
  type Dataset,
  rowCount,
  selectClasses,
  shuffle,
  splitTransferTasks,
  take,
  trainValidSplit,
  transferTaskAClasses,
  transferTaskBClasses,
} from '../src/dataset.js'

/** `n` rows: x row i is `[i, 100 + i]`, y row i is `i % 10` (so a row's y follows from its x). */
const numbered = (n: number): Dataset => ({
  x: tensor(
    Float32Array.from({ length: 2 * n }, (_, j) => (j % 2 === 0 ? j / 2 : 100 + (j - 1) / 2)),
    [n, 2],
  ),
  y: tensor(
    Float32Array.from({ length: n }, (_, i) => i % 10),
    [n],
  ),
})
const ids = (d: Dataset): number[] => Array.from({ length: d.x.shape[0]! }, (_, i) => d.x.data[2 * i]!)
const values = (t: Tensor): number[] => Array.from(t.data)
/** Every row of `d` is intact: x = [i, 100 + i] and y = i % 10 for the same i. */
const intact = (d: Dataset): boolean =>
  ids(d).every((i, r) => d.x.data[2 * r + 1] === 100 + i && d.y.data[r] === i % 10)

describe('rowCount', () => {
  it('counts rows and checks x and y agree', () => {
    expect(rowCount(numbered(7))).toBe(7)
    expect(() => rowCount({ x: tensor([[1], [2]]), y: tensor([1, 2, 3]) })).toThrow(ShapeError)
    expect(() => rowCount({ x: tensor([[1], [2]]), y: tensor([1, 2, 3]) })).toThrow(
      'rowCount: x and y must have the same number of rows along their first axis, got x [2,1] and y [3]',
    )
  })
})

describe('take', () => {
  it('keeps the first n rows, or all when there are fewer', () => {
    expect(ids(take(numbered(5), 2))).toEqual([0, 1])
    expect(values(take(numbered(5), 2).y)).toEqual([0, 1])
    expect(ids(take(numbered(5), 10))).toEqual([0, 1, 2, 3, 4])
    expect(take(numbered(5), 0).x.shape).toEqual([0, 2])
    expect(() => take(numbered(5), -1)).toThrow(RangeError)
  })
})

describe('shuffle', () => {
  it('is the permutation drawn from the key, applied to x and y together', () => {
    const k = key(7)
    const s = shuffle(numbered(20), k)
    expect(ids(s)).toEqual(Array.from(permutation(k, 20)))
    expect(intact(s)).toBe(true)
  })

  it('same key, same order; another key, another order', () => {
    const [k1, k2] = split(key(0), 2) as [Key, Key]
    expect(ids(shuffle(numbered(50), k1))).toEqual(ids(shuffle(numbered(50), k1)))
    expect(ids(shuffle(numbered(50), k1))).not.toEqual(ids(shuffle(numbered(50), k2)))
  })

  it('keeps every row exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.nat(), (n, seed) => {
        const s = shuffle(numbered(n), key(seed))
        expect(ids(s).sort((a, b) => a - b)).toEqual(ids(numbered(n)))
        expect(intact(s)).toBe(true)
      }),
      { seed: 42, numRuns: 50 },
    )
  })
})

describe('batches', () => {
  it('keeps the last partial batch by default, as Keras', () => {
    const bs = batches(numbered(5), 2)
    expect(bs.length).toBe(3)
    expect([...bs].map(ids)).toEqual([[0, 1], [2, 3], [4]])
    expect([...bs].map((b) => values(b.y))).toEqual([[0, 1], [2, 3], [4]])
  })

  it('drops it with dropRemainder', () => {
    const bs = batches(numbered(5), 2, { dropRemainder: true })
    expect(bs.length).toBe(2)
    expect([...bs].map(ids)).toEqual([
      [0, 1],
      [2, 3],
    ])
  })

  it('gives the same batches every time it is iterated', () => {
    const bs = batches(numbered(10), 3, { key: key(1) })
    expect([...bs].map(ids)).toEqual([...bs].map(ids))
  })

  it('joined back together, the batches are the data (in the order of shuffle when given a key)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
        (n, size, seed, dropRemainder) => {
          const data = numbered(n)
          const opts = seed === undefined ? { dropRemainder } : { key: key(seed), dropRemainder }
          const bs = [...batches(data, size, opts)]
          const expected = seed === undefined ? ids(data) : ids(shuffle(data, key(seed)))
          const kept = dropRemainder ? n - (n % size) : n
          expect(bs.flatMap(ids)).toEqual(expected.slice(0, kept))
          expect(bs.every((b, i) => b.x.shape[0] === (i < bs.length - 1 ? size : b.x.shape[0]))).toBe(true)
          expect(bs.every((b) => b.x.shape[0]! <= size && b.x.shape[0]! > 0 && intact(b))).toBe(true)
          expect(bs.length).toBe(batches(data, size, opts).length)
        },
      ),
      { seed: 42, numRuns: 50 },
    )
  })

  it('works for any rank of x and y', () => {
    const data = {
      x: tensor(new Float32Array(5 * 3 * 4), [5, 3, 4]),
      y: tensor(new Float32Array(10), [5, 2]),
    }
    const [first] = batches(data, 4)
    expect([first!.x.shape, first!.y.shape]).toEqual([
      [4, 3, 4],
      [4, 2],
    ])
  })

  it('rejects a batch size that is not a positive integer', () => {
    expect(() => batches(numbered(5), 0)).toThrow('batches: batchSize must be a positive integer, got 0')
    expect(() => batches(numbered(5), 1.5)).toThrow(RangeError)
  })
})

describe('trainValidSplit', () => {
  it('keeps the last validCount rows for validation, as the chapter', () => {
    const { train, valid } = trainValidSplit(numbered(10), 3)
    expect(ids(train)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(ids(valid)).toEqual([7, 8, 9])
    expect(values(valid.y)).toEqual([7, 8, 9])
  })

  it('allows 0 and all rows, and rejects more', () => {
    expect(trainValidSplit(numbered(4), 0).valid.x.shape).toEqual([0, 2])
    expect(trainValidSplit(numbered(4), 4).train.x.shape).toEqual([0, 2])
    expect(() => trainValidSplit(numbered(4), 5)).toThrow(
      'trainValidSplit: validCount 5 is more than the 4 rows',
    )
  })
})

describe('selectClasses', () => {
  it('keeps rows of the listed classes in order and maps classes[i] to i', () => {
    const s = selectClasses(numbered(20), [6, 5])
    expect(ids(s)).toEqual([5, 6, 15, 16])
    expect(values(s.y)).toEqual([1, 0, 1, 0])
  })

  it('rejects duplicate classes and targets that are not class indices [n]', () => {
    expect(() => selectClasses(numbered(3), [1, 1])).toThrow('class 1 is listed twice')
    expect(() => selectClasses({ x: tensor([[1]]), y: tensor([[0, 1]]) }, [0])).toThrow(ShapeError)
  })
})

describe('splitTransferTasks', () => {
  it('A: the 8 classes other than T-shirt/top and Pullover, renumbered 0..7; B: Pullover = 1, T-shirt/top = 0', () => {
    const { a, b } = splitTransferTasks(numbered(40))
    expect(transferTaskAClasses).toEqual([1, 3, 4, 5, 6, 7, 8, 9])
    expect(transferTaskBClasses).toEqual([0, 2])
    expect(rowCount(a)).toBe(32)
    expect(values(a.y).slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(ids(a).slice(0, 8)).toEqual([1, 3, 4, 5, 6, 7, 8, 9])
    expect(ids(b)).toEqual([0, 2, 10, 12, 20, 22, 30, 32])
    expect(values(b.y)).toEqual([0, 1, 0, 1, 0, 1, 0, 1])
    expect(ids(take(b, 3))).toEqual([0, 2, 10])
  })
})
