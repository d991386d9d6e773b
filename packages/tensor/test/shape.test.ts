import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ShapeError } from '../src/errors.js'
import { grad } from '../src/grad.js'
import { sum } from '../src/reduce.js'
import {
  broadcastTo,
  cast,
  concat,
  expandDims,
  gather,
  oneHot,
  reshape,
  slice,
  squeeze,
  stack,
  transpose,
} from '../src/shape.js'
import { arange, type Tensor, tensor, zeros } from '../src/tensor.js'
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

/** Integers 0..n−1. */
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('shape ops: VJPs against float64 central differences', () => {
  it('reshape (regrouped factors, inserted 1s, a -1)', () => {
    const arb = shapeArb().chain((s) => {
      const factors = s.flatMap((d) => (d === 4 ? [2, 2] : d === 1 ? [] : [d]))
      return fc.tuple(
        refArb(s),
        fc.shuffledSubarray(factors, { minLength: factors.length }),
        fc.array(fc.boolean(), { minLength: factors.length, maxLength: factors.length }),
        fc.array(fc.nat(), { maxLength: 2 }),
        fc.option(fc.nat()),
        cotangentArb,
      )
    })
    fc.assert(
      fc.property(arb, ([x, factors, cuts, ones, unknown, w]) => {
        const target: number[] = []
        factors.forEach((f, i) => {
          if (i > 0 && cuts[i] === true) target[target.length - 1]! *= f
          else target.push(f)
        })
        for (const p of ones) target.splice(p % (target.length + 1), 0, 1)
        const requested =
          unknown === null || target.length === 0
            ? target
            : target.map((d, i) => (i === unknown % target.length ? -1 : d))
        checkGrad({
          name: `reshape(${JSON.stringify(x.shape)} -> ${JSON.stringify(requested)})`,
          op: (t) => reshape(t, requested),
          ref: (a) => R.reshape(a!, target),
          inputs: [x],
          w,
        })
      }),
      runs(700, 60),
    )
  })

  it('transpose (random permutations, negative axes, the default reversal)', () => {
    const arb = shapeArb(0, 4).chain((s) =>
      fc.tuple(
        refArb(s),
        fc.option(
          fc
            .shuffledSubarray(range(s.length), { minLength: s.length })
            .chain((p) =>
              fc.tuple(...p.map((a) => fc.constantFrom(a, a - s.length))).map((q): number[] => q),
            ),
        ),
        cotangentArb,
      ),
    )
    fc.assert(
      fc.property(arb, ([x, perm, w]) => {
        const p = perm ?? range(x.shape.length).reverse()
        checkGrad({
          name: `transpose(${JSON.stringify(perm)})`,
          op: (t) => (perm === null ? transpose(t) : transpose(t, perm)),
          ref: (a) =>
            R.transpose(
              a!,
              p.map((v) => (v < 0 ? v + x.shape.length : v)),
            ),
          inputs: [x],
          w,
        })
      }),
      runs(701, 60),
    )
  })

  it('expandDims', () => {
    const arb = shapeArb().chain((s) =>
      fc.tuple(refArb(s), fc.integer({ min: -s.length - 1, max: s.length }), cotangentArb),
    )
    fc.assert(
      fc.property(arb, ([x, axis, w]) => {
        const a = axis < 0 ? axis + x.shape.length + 1 : axis
        checkGrad({
          name: `expandDims(${axis})`,
          op: (t) => expandDims(t, axis),
          ref: (r) => R.reshape(r!, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]),
          inputs: [x],
          w,
        })
      }),
      runs(702, 50),
    )
  })

  it('squeeze (all size-1 axes, or a listed subset)', () => {
    const arb = shapeArb(0, 4, 3).chain((s) => {
      const unit = range(s.length).filter((i) => s[i] === 1)
      return fc.tuple(refArb(s), fc.option(fc.subarray(unit)), cotangentArb)
    })
    fc.assert(
      fc.property(arb, ([x, axes, w]) => {
        const drop = axes ?? range(x.shape.length).filter((i) => x.shape[i] === 1)
        checkGrad({
          name: `squeeze(${JSON.stringify(axes)})`,
          op: (t) => (axes === null ? squeeze(t) : squeeze(t, axes)),
          ref: (r) =>
            R.reshape(
              r!,
              x.shape.filter((_, i) => !drop.includes(i)),
            ),
          inputs: [x],
          w,
        })
      }),
      runs(703, 50),
    )
  })

  it('slice (random boxes, sizes of -1, empty boxes)', () => {
    const arb = shapeArb(0, 3, 5).chain((s) =>
      fc.tuple(
        refArb(s),
        fc.tuple(
          ...s.map((d) =>
            fc
              .integer({ min: 0, max: d })
              .chain((b) =>
                fc.tuple(fc.constant(b), fc.oneof(fc.integer({ min: 0, max: d - b }), fc.constant(-1))),
              ),
          ),
        ),
        fc.boolean(),
        cotangentArb,
      ),
    )
    fc.assert(
      fc.property(arb, ([x, box, omitSize, w]) => {
        const begin = box.map(([b]) => b)
        const size = box.map(([, z]) => z)
        const sz = omitSize
          ? x.shape.map((d, i) => d - begin[i]!)
          : size.map((z, i) => (z === -1 ? x.shape[i]! - begin[i]! : z))
        checkGrad({
          name: `slice(${JSON.stringify(begin)}, ${omitSize ? 'to the end' : JSON.stringify(size)})`,
          op: (t) => (omitSize ? slice(t, begin) : slice(t, begin, size)),
          ref: (r) => R.slice(r!, begin, sz),
          inputs: [x],
          w,
        })
      }),
      runs(704, 60),
    )
  })

  it('gather (repeated indices accumulate; number[], Int32Array and 2-D tensor indices)', () => {
    const arb = shapeArb(1).chain((s) =>
      fc
        .integer({ min: 0, max: s.length - 1 })
        .chain((axis) =>
          fc.tuple(
            refArb(s),
            fc.constant(axis),
            fc.array(fc.integer({ min: 0, max: s[axis]! - 1 }), { minLength: 1, maxLength: 6 }),
            fc.constantFrom('array', 'int32', 'tensor'),
            fc.boolean(),
            cotangentArb,
          ),
        ),
    )
    fc.assert(
      fc.property(arb, ([x, axis, idx, kind, negativeAxis, w]) => {
        const even = idx.length % 2 === 0
        const indices =
          kind === 'array'
            ? idx
            : kind === 'int32'
              ? Int32Array.from(idx)
              : tensor(idx, even ? [2, idx.length / 2] : [idx.length])
        const iShape = kind === 'tensor' && even ? [2, idx.length / 2] : [idx.length]
        const ax = negativeAxis ? axis - x.shape.length : axis
        checkGrad({
          name: `gather(${JSON.stringify(idx)}, axis ${ax})`,
          op: (t) => gather(t, indices, ax),
          ref: (r) => {
            const g = R.gather(r!, idx, axis)
            return R.reshape(g, [...x.shape.slice(0, axis), ...iShape, ...x.shape.slice(axis + 1)])
          },
          inputs: [x],
          w,
        })
      }),
      runs(705, 60),
    )
  })

  it('concat (1 to 3 parts of different lengths along a random axis)', () => {
    const arb = shapeArb(1).chain((s) =>
      fc
        .integer({ min: 0, max: s.length - 1 })
        .chain((axis) =>
          fc
            .array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 })
            .chain((lens) =>
              fc.tuple(
                fc.tuple(...lens.map((n) => refArb(s.map((d, i) => (i === axis ? n : d))))),
                fc.constant(axis),
                fc.boolean(),
                cotangentArb,
              ),
            ),
        ),
    )
    fc.assert(
      fc.property(arb, ([parts, axis, negativeAxis, w]) => {
        const ax = negativeAxis ? axis - parts[0]!.shape.length : axis
        checkGrad({
          name: `concat(${JSON.stringify(parts.map((p) => p.shape))}, axis ${ax})`,
          op: (...ts) => concat(ts, ax),
          ref: (...rs) => R.concat(rs, axis),
          inputs: parts,
          w,
        })
      }),
      runs(706, 60),
    )
  })

  it('stack (1 to 3 parts along a new random axis)', () => {
    const arb = shapeArb().chain((s) =>
      fc.tuple(
        fc.integer({ min: 1, max: 3 }).chain((k) => fc.tuple(...range(k).map(() => refArb(s)))),
        fc.integer({ min: -s.length - 1, max: s.length }),
        cotangentArb,
      ),
    )
    fc.assert(
      fc.property(arb, ([parts, axis, w]) => {
        const rank = parts[0]!.shape.length
        const a = axis < 0 ? axis + rank + 1 : axis
        const expand = (r: R.Ref) => R.reshape(r, [...r.shape.slice(0, a), 1, ...r.shape.slice(a)])
        checkGrad({
          name: `stack(${parts.length} x ${JSON.stringify(parts[0]!.shape)}, axis ${axis})`,
          op: (...ts) => stack(ts, axis),
          ref: (...rs) => R.concat(rs.map(expand), a),
          inputs: parts,
          w,
        })
      }),
      runs(707, 50),
    )
  })

  it('broadcastTo (leading axes added, size-1 axes repeated)', () => {
    const arb = shapeArb().chain((out) =>
      fc.tuple(
        fc.constant(out),
        fc.integer({ min: 0, max: out.length }),
        fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      ),
    )
    fc.assert(
      fc.property(
        arb.chain(([out, drop, ones]) =>
          fc.tuple(fc.constant(out), refArb(out.map((d, i) => (ones[i] ? 1 : d)).slice(drop)), cotangentArb),
        ),
        ([out, x, w]) =>
          checkGrad({
            name: `broadcastTo(${JSON.stringify(x.shape)} -> ${JSON.stringify(out)})`,
            op: (t) => broadcastTo(t, out),
            ref: (r) => R.broadcastTo(r!, out),
            inputs: [x],
            w,
          }),
      ),
      runs(708, 60),
    )
  })
})

describe('shape ops: values', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ])

  it('reshape shares the order of elements and infers -1', () => {
    expect(reshape(arange(6), [2, -1]).toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ])
    expect(reshape(arange(6), [-1]).shape).toEqual([6])
    expect(reshape(tensor([5]), []).shape).toEqual([])
    expect(reshape(zeros([0, 3]), [3, 0, 5]).shape).toEqual([3, 0, 5])
    expect(reshape(x, [2, 3])).toBe(x)
  })

  it('transpose, expandDims, squeeze', () => {
    expect(transpose(x).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ])
    expect(transpose(zeros([2, 3, 4]), [2, 0, 1]).shape).toEqual([4, 2, 3])
    expect(transpose(zeros([2, 3, 4])).shape).toEqual([4, 3, 2])
    expect(expandDims(tensor([1, 2]), 0).shape).toEqual([1, 2])
    expect(expandDims(tensor([1, 2]), -1).shape).toEqual([2, 1])
    expect(squeeze(zeros([1, 3, 1])).shape).toEqual([3])
    expect(squeeze(zeros([1, 3, 1]), -1).shape).toEqual([1, 3])
  })

  it('slice, gather, concat, stack, broadcastTo', () => {
    expect(slice(x, [0, 1], [2, -1]).toArray()).toEqual([
      [2, 3],
      [5, 6],
    ])
    expect(slice(x, [1, 0]).toArray()).toEqual([[4, 5, 6]])
    expect(
      gather(
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        [2, 0],
      ).toArray(),
    ).toEqual([
      [5, 6],
      [1, 2],
    ])
    expect(gather(x, new Int32Array([2, 2, 0]), 1).toArray()).toEqual([
      [3, 3, 1],
      [6, 6, 4],
    ])
    expect(
      gather(
        tensor([10, 20, 30]),
        tensor([
          [0, 2],
          [1, 1],
        ]),
      ).toArray(),
    ).toEqual([
      [10, 30],
      [20, 20],
    ])
    expect(concat([tensor([[1]]), tensor([[2], [3]])]).toArray()).toEqual([[1], [2], [3]])
    expect(concat([x, tensor([[7], [8]])], -1).toArray()).toEqual([
      [1, 2, 3, 7],
      [4, 5, 6, 8],
    ])
    expect(stack([tensor([1, 2]), tensor([3, 4])]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ])
    expect(broadcastTo(tensor([1, 2]), [2, 2]).toArray()).toEqual([
      [1, 2],
      [1, 2],
    ])
    expect(broadcastTo(tensor([[1], [2]]), [2, 2, 3]).toArray()).toEqual([
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    ])
  })

  it('gather accumulates the gradient of repeated indices', () => {
    const g = grad((t: Tensor) => sum(gather(t, [1, 1, 0, 1])))(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    )
    expect(g.toArray()).toEqual([
      [1, 1],
      [3, 3],
    ])
  })

  it('oneHot and cast', () => {
    expect(oneHot(new Int32Array([2, 0]), 3).toArray()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ])
    expect(oneHot([1], 2).toArray()).toEqual([[0, 1]])
    expect(oneHot(tensor([[0], [1]]), 2).shape).toEqual([2, 1, 2])
    expect(cast(tensor([1.7, -2.5]), 'int32')).toEqual(new Int32Array([1, -2]))
    expect(cast(new Int32Array([3, 4]), 'float32').toArray()).toEqual([3, 4])
    expect(cast([5, 6], 'float32').shape).toEqual([2])
  })

  it('no shape op modifies its input', () => {
    const y = toTensor(R.ref([2, 3], [1, 2, 3, 4, 5, 6]))
    reshape(y, [3, 2])
    transpose(y)
    slice(y, [0, 0], [1, 1])
    gather(y, [1, 0])
    concat([y, y])
    stack([y, y])
    broadcastTo(y, [2, 2, 3])
    expandDims(y, 0)
    squeeze(expandDims(y, 0))
    expectClose('input', y, R.ref([2, 3], [1, 2, 3, 4, 5, 6]), 0)
  })
})

describe('shape ops: errors name the op and the shapes', () => {
  it('reshape', () => {
    expect(() => reshape(arange(6), [4, 2])).toThrow(ShapeError)
    expect(() => reshape(arange(6), [4, 2])).toThrow('reshape: cannot reshape [6] (size 6) into [4,2]')
    expect(() => reshape(zeros([2, 3]), [-1, 4])).toThrow(
      'reshape: cannot reshape [2,3] (size 6) into [-1,4]',
    )
    expect(() => reshape(zeros([2, 3]), [-1, 0])).toThrow(
      'reshape: cannot reshape [2,3] (size 6) into [-1,0]',
    )
    expect(() => reshape(arange(6), [-1, -1])).toThrow(
      'reshape: at most one -1 allowed in [-1,-1] (input [6])',
    )
    expect(() => reshape(arange(6), [2, -3])).toThrow(
      'reshape: invalid shape [2,-3]: dimensions must be non-negative integers',
    )
    expect(() => reshape(arange(6), [-1, -3])).toThrow(
      'reshape: invalid shape [-1,-3]: dimensions must be non-negative integers',
    )
    expect(() => reshape(arange(6), [2, 1.5])).toThrow(
      'reshape: invalid shape [2,1.5]: dimensions must be non-negative integers',
    )
  })

  it('broadcastTo', () => {
    expect(() => broadcastTo(zeros([3]), [2, 2])).toThrow(
      'broadcastTo: shapes cannot be broadcast together: [3] and [2,2]',
    )
    expect(() => broadcastTo(zeros([2, 3]), [3])).toThrow('broadcastTo: cannot broadcast [2,3] to [3]')
    expect(() => broadcastTo(zeros([3]), [1])).toThrow('broadcastTo: cannot broadcast [3] to [1]')
  })

  it('transpose, expandDims, squeeze', () => {
    expect(() => transpose(zeros([2, 3]), [0])).toThrow(
      'transpose: [0] is not a permutation of the axes of [2,3]',
    )
    expect(() => transpose(zeros([2, 3]), [1, 1])).toThrow(
      'transpose: [1,1] is not a permutation of the axes of [2,3]',
    )
    expect(() => transpose(zeros([2, 3]), [0, 2])).toThrow(
      'transpose: [0,2] is not a permutation of the axes of [2,3]',
    )
    expect(() => expandDims(zeros([2]), 2)).toThrow(
      'expandDims: axis 2 is out of range [-2, 1] for shape [2]',
    )
    expect(() => expandDims(zeros([2]), -3)).toThrow(
      'expandDims: axis -3 is out of range [-2, 1] for shape [2]',
    )
    expect(() => squeeze(zeros([2, 1]), 0)).toThrow('squeeze: axis 0 has size 2, not 1, in shape [2,1]')
    expect(() => squeeze(zeros([2, 1]), 2)).toThrow(
      'squeeze: axis 2 is out of range for shape [2,1] (rank 2)',
    )
  })

  it('slice and gather', () => {
    expect(() => slice(zeros([2, 3]), [0])).toThrow('slice: begin [0] must have one entry per axis of [2,3]')
    expect(() => slice(zeros([2, 3]), [0, 0], [1])).toThrow(
      'slice: begin [0,0] and size [1] must have one entry per axis of [2,3]',
    )
    expect(() => slice(zeros([2, 3]), [1, 1], [2, 1])).toThrow(
      'slice: begin [1,1] size [2,1] is outside [2,3] on axis 0',
    )
    expect(() => slice(zeros([2, 3]), [0, 4])).toThrow(
      'slice: begin [0,4] size [2,-1] is outside [2,3] on axis 1',
    )
    expect(() => slice(zeros([4]), [0], [-2])).toThrow('slice: begin [0] size [-2] is outside [4] on axis 0')
    expect(() => slice(zeros([4]), [0], [1.5])).toThrow(
      'slice: begin [0] size [1.5] is outside [4] on axis 0',
    )
    expect(() => slice(zeros([4]), [0.5], [1])).toThrow(
      'slice: begin [0.5] size [1] is outside [4] on axis 0',
    )
    expect(() => gather(zeros([3, 2]), [0, 3])).toThrow(
      'gather: index 3 at position 1 is out of range [0, 3)',
    )
    expect(() => gather(zeros([3, 2]), [1.5])).toThrow(
      'gather: index 1.5 at position 0 is out of range [0, 3)',
    )
    expect(() => gather(zeros([3, 2]), [0], 2)).toThrow(
      'gather: axis 2 is out of range for shape [3,2] (rank 2)',
    )
  })

  it('concat, stack, oneHot', () => {
    expect(() => concat([])).toThrow('concat: needs at least one tensor')
    expect(() => concat([zeros([2, 3]), zeros([3, 4])], 1)).toThrow(
      'concat: shapes differ off axis 1: [2,3], [3,4]',
    )
    expect(() => concat([zeros([2, 3]), zeros([2])])).toThrow('concat: shapes differ off axis 0: [2,3], [2]')
    expect(() => concat([zeros([2])], 1)).toThrow('concat: axis 1 is out of range for shape [2] (rank 1)')
    expect(() => stack([])).toThrow('stack: needs at least one tensor')
    expect(() => stack([zeros([2]), zeros([3])])).toThrow('stack: all shapes must be equal: [2], [3]')
    expect(() => stack([zeros([2]), zeros([2])], 2)).toThrow(
      'stack: axis 2 is out of range [-2, 1] for shape [2]',
    )
    expect(() => oneHot([0, 3], 3)).toThrow('oneHot: index 3 at position 1 is out of range [0, 3)')
    expect(() => oneHot([0], 2.5)).toThrow('oneHot: depth 2.5 must be a non-negative integer')
  })
})
