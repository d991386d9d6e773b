import { ShapeError, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { maxAbsDiff, tensorArb } from '../src/index.js'

const runs = { seed: 7, numRuns: 100 }

describe('maxAbsDiff', () => {
  it('is the largest |a_i − b_i|, from the formula worked by hand', () => {
    expect(maxAbsDiff([1, 2, 3], [1.5, 2, 0])).toBe(3)
    expect(
      maxAbsDiff(
        tensor([
          [1, -2],
          [3, 4],
        ]),
        tensor([
          [1, 2],
          [3, 4.25],
        ]),
      ),
    ).toBe(4)
    expect(maxAbsDiff(new Float32Array([0.5]), [0.25])).toBe(0.25)
    expect(maxAbsDiff([], [])).toBe(0)
  })

  it('is 0 for equal operands (equal infinities too); NaN when some difference is NaN', () => {
    expect(maxAbsDiff([Infinity, -Infinity, 1], [Infinity, -Infinity, 1])).toBe(0)
    expect(maxAbsDiff([1, Number.NaN, 3], [1, 2, 3])).toBeNaN()
    expect(maxAbsDiff([1, 2], [1, Number.NaN])).toBeNaN()
    expect(maxAbsDiff([Number.NaN, 100], [0, 0])).toBeNaN() // a later larger difference does not hide it
    expect(maxAbsDiff([Infinity], [-Infinity])).toBe(Infinity)
    expect(maxAbsDiff([Infinity, 0], [Infinity, 1])).toBe(1)
  })

  it('refuses different shapes with a ShapeError naming both (an array has the shape [length])', () => {
    expect(() => maxAbsDiff([1, 2, 3], [1, 2])).toThrow(
      new ShapeError('maxAbsDiff: shapes differ: [3] and [2]'),
    )
    expect(() => maxAbsDiff(tensor([[1, 2]]), tensor([[1], [2]]))).toThrow(
      'maxAbsDiff: shapes differ: [1,2] and [2,1]',
    )
    expect(() => maxAbsDiff(tensor([[1, 2]]), [1, 2])).toThrow(ShapeError)
    // the same elements as vectors compare
    expect(maxAbsDiff(tensor([[1, 2]]).data, [1, 2])).toBe(0)
  })

  it('properties: symmetric, 0 against itself, ≥ every |a_i − b_i|, and equal to one of them', () => {
    fc.assert(
      fc.property(
        tensorArb([2, 3], { min: -10, max: 10 }),
        tensorArb([2, 3], { min: -10, max: 10 }),
        (a, b) => {
          const d = maxAbsDiff(a, b)
          expect(maxAbsDiff(b, a)).toBe(d)
          expect(maxAbsDiff(a, a)).toBe(0)
          const each = Array.from(a.data, (v, i) => Math.abs(v - b.data[i]!))
          for (const e of each) expect(d).toBeGreaterThanOrEqual(e)
          expect(each).toContain(d)
        },
      ),
      runs,
    )
  })
})
