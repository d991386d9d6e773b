import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ShapeError } from '../src/errors.js'
import { grad } from '../src/grad.js'
import { type Axes, argmax, max, mean, min, sum, variance } from '../src/reduce.js'
import { type Tensor, tensor, zeros } from '../src/tensor.js'
import {
  checkGrad,
  cotangentArb,
  expectClose,
  refArb,
  runs,
  shapeArb,
  toTensor,
} from './helpers/gradcheck.js'
import * as R from './helpers/reference.js'

/** Axes for a rank: all (undefined), one axis, or a list in any order, possibly negative. */
const axesArb = (rank: number): fc.Arbitrary<Axes | undefined> => {
  const all = Array.from({ length: rank }, (_, i) => i)
  const list = fc
    .shuffledSubarray(all)
    .chain((ax) =>
      fc.tuple(...ax.map((a) => fc.constantFrom(a, a - rank))).map((xs): readonly number[] => xs),
    )
  return rank === 0
    ? fc.constantFrom<Axes | undefined>(undefined, [])
    : fc.oneof(fc.constant(undefined), fc.integer({ min: -rank, max: rank - 1 }), list)
}

const reductionCase = shapeArb().chain((s) =>
  fc.tuple(refArb(s), axesArb(s.length), fc.boolean(), cotangentArb),
)

type Reduction = (x: Tensor, axes?: Axes, keepDims?: boolean) => Tensor

const reductions: [string, Reduction, (vs: number[]) => number][] = [
  ['sum', sum, R.sum],
  ['mean', mean, R.mean],
  ['variance', variance, R.variance],
  ['max', max, (vs) => Math.max(...vs)],
  ['min', min, (vs) => Math.min(...vs)],
]

describe('reductions over random axes with keepDims: VJPs against float64 central differences', () => {
  reductions.forEach(([name, op, f], i) => {
    const extremum = name === 'max' || name === 'min'
    it(extremum ? `${name} (ties are kinks, detected by checkGrads)` : name, () =>
      fc.assert(
        fc.property(reductionCase, ([x, axes, keepDims, w]) =>
          checkGrad({
            name: `${name}(axes ${JSON.stringify(axes)}, keepDims ${keepDims})`,
            op: (t) => op(t, axes, keepDims),
            ref: (a) => R.reduceGroups(a!, axes, keepDims, f),
            inputs: [x],
            w,
          }),
        ),
        runs(500 + i, 60),
      ),
    )
  })
})

describe('reductions: forward values', () => {
  it('match reference loops on random shapes, axes and keepDims (output shapes included)', () =>
    fc.assert(
      fc.property(reductionCase, ([x, axes, keepDims]) => {
        const t = toTensor(x)
        for (const [name, op, f] of reductions)
          expectClose(
            `${name}(${JSON.stringify(axes)}, ${keepDims})`,
            op(t, axes, keepDims),
            R.reduceGroups(x, axes, keepDims, f),
          )
      }),
      runs(510, 60),
    ))

  it('give the documented examples', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ])
    expect(sum(x).shape).toEqual([])
    expect(sum(x).item()).toBe(10)
    expect(sum(x, 0).toArray()).toEqual([4, 6])
    expect(sum(x, 1, true).toArray()).toEqual([[3], [7]])
    expect(sum(x, [0, 1], true).shape).toEqual([1, 1])
    expect(sum(x, -1).toArray()).toEqual([3, 7])
    expect(sum(x, []).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(mean(x, 0).toArray()).toEqual([2, 3])
    expect(
      max(
        tensor([
          [1, 5],
          [3, 4],
        ]),
        1,
      ).toArray(),
    ).toEqual([5, 4])
    expect(
      min(
        tensor([
          [1, 5],
          [3, 4],
        ]),
        0,
      ).toArray(),
    ).toEqual([1, 4])
    expect(variance(tensor([1, 2, 3, 4])).item()).toBe(1.25)
    expect(variance(x, 0, true).toArray()).toEqual([[1, 1]])
    expect(sum(zeros([0, 3]), 0).toArray()).toEqual([0, 0, 0])
    expect(sum(zeros([3, 0])).item()).toBe(0)
  })

  it('sum accumulates in float64', () => {
    // in float32, 1e8 + 1 rounds back to 1e8 (its ulp is 8) and the sum would be 0
    expect(sum(tensor([1e8, 1, -1e8])).item()).toBe(1)
    expect(sum(tensor([[1e8, 1, -1e8]]), 1).toArray()).toEqual([1])
    expect(sum(tensor([[1e8], [1], [-1e8]]), 0, true).toArray()).toEqual([[1]])
  })

  it('max/min propagate NaN', () => {
    expect(Number.isNaN(max(tensor([1, Number.NaN, 3])).item())).toBe(true)
    expect(Number.isNaN(min(tensor([[1, Number.NaN, 3]]), 1).data[0]!)).toBe(true)
  })

  it('max/min split the gradient equally among tied elements', () => {
    expect(grad((t: Tensor) => max(t))(tensor([1, 3, 3, 2])).toArray()).toEqual([0, 0.5, 0.5, 0])
    expect(
      grad((t: Tensor) => sum(min(t, 1)))(
        tensor([
          [1, 1],
          [2, 0],
        ]),
      ).toArray(),
    ).toEqual([
      [0.5, 0.5],
      [0, 1],
    ])
  })

  it('argmax picks the first largest element along an axis', () => {
    expect(
      argmax(
        tensor([
          [1, 9, 3],
          [7, 2, 2],
        ]),
      ).toArray(),
    ).toEqual([1, 0])
    expect(
      argmax(
        tensor([
          [1, 9, 3],
          [7, 2, 2],
        ]),
        0,
      ).toArray(),
    ).toEqual([1, 0, 0])
    expect(argmax(tensor([2, 5, 5])).toArray()).toEqual(1)
    expect(argmax(tensor([2, 5, 5])).shape).toEqual([])
  })
})

describe('reductions: errors', () => {
  it('bad axes, repeated axes and empty axes throw ShapeErrors naming the op and shape', () => {
    expect(() => sum(zeros([2, 3]), 2)).toThrow(ShapeError)
    expect(() => sum(zeros([2, 3]), 2)).toThrow('sum: axis 2 is out of range for shape [2,3] (rank 2)')
    expect(() => sum(zeros([2, 3]), [0, -3])).toThrow('sum: axis -3 is out of range for shape [2,3] (rank 2)')
    expect(() => sum(zeros([2, 3]), 0.5)).toThrow('sum: axis 0.5 is out of range for shape [2,3] (rank 2)')
    expect(() => sum(zeros([2, 3]), [1, -1])).toThrow('sum: repeated axis 1 in [1,-1] for shape [2,3]')
    expect(() => max(zeros([2, 3]), 5)).toThrow('max: axis 5 is out of range for shape [2,3] (rank 2)')
    expect(() => min(zeros([]), 0)).toThrow('min: axis 0 is out of range for shape [] (rank 0)')
    expect(() => mean(zeros([2, 3]), -3)).toThrow('mean: axis -3 is out of range for shape [2,3] (rank 2)')
    expect(() => variance(zeros([4]), 1)).toThrow('variance: axis 1 is out of range for shape [4] (rank 1)')
    expect(() => max(zeros([0, 3]), 0)).toThrow('max: cannot reduce over an empty axis of shape [0,3]')
    expect(() => min(zeros([0, 3]))).toThrow('min: cannot reduce over an empty axis of shape [0,3]')
    expect(() => argmax(zeros([2, 3]), 2)).toThrow('argmax: axis 2 is out of range for shape [2,3] (rank 2)')
    expect(() => argmax(zeros([2, 0]))).toThrow('argmax: cannot reduce over an empty axis of shape [2,0]')
  })
})
