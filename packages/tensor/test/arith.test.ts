import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  abs,
  add,
  clip,
  div,
  equal,
  exp,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  rsqrt,
  sign,
  sqrt,
  square,
  sub,
  where,
} from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { grad, valueAndGrad } from '../src/grad.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor, zeros } from '../src/tensor.js'
import {
  broadcastRefsArb,
  checkGrad,
  cotangentArb,
  expectClose,
  f32,
  f32AwayFromZero,
  f32Positive,
  kinkMask,
  refArb,
  runs,
  shapeArb,
  toRef,
} from './helpers/gradcheck.js'
import { map1, mapN, type Ref, ref } from './helpers/reference.js'

/** Denominators away from 0. */
const f32Denominator = f32.filter((v) => Math.abs(v) >= 0.1)
/** Arguments of log1p away from its pole at −1. */
const f32AboveMinusOne = f32.filter((v) => v > -0.9)
/** 0/1 masks. */
const bit = fc.constantFrom(0, 1)

const unaryArb = (elem: fc.Arbitrary<number>): fc.Arbitrary<Ref> => shapeArb().chain((s) => refArb(s, elem))

describe('binary ops: VJPs against float64 central differences, with broadcasting', () => {
  const cases: [
    string,
    (a: Tensor, b: Tensor) => Tensor,
    (x: number, y: number) => number,
    fc.Arbitrary<number>[],
  ][] = [
    ['add', add, (x, y) => x + y, [f32, f32]],
    ['sub', sub, (x, y) => x - y, [f32, f32]],
    ['mul', mul, (x, y) => x * y, [f32, f32]],
    ['div', div, (x, y) => x / y, [f32, f32Denominator]],
    ['pow', pow, (x, y) => x ** y, [f32Positive, f32]],
  ]
  cases.forEach(([name, op, f, elems], i) => {
    it(`${name}`, () =>
      fc.assert(
        fc.property(broadcastRefsArb(elems), cotangentArb, (xs, w) =>
          checkGrad({ name, op, ref: (a, b) => mapN([a!, b!], f), inputs: xs, w }),
        ),
        runs(100 + i, 50),
      ))
  })

  const extrema: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ['maximum', maximum, Math.max],
    ['minimum', minimum, Math.min],
  ]
  extrema.forEach(([name, op, f], i) => {
    it(`${name} (ties are kinks, detected by checkGrads)`, () =>
      fc.assert(
        fc.property(broadcastRefsArb([f32, f32]), cotangentArb, (xs, w) =>
          checkGrad({
            name,
            op,
            ref: (x, y) => mapN([x!, y!], f),
            inputs: xs,
            w,
          }),
        ),
        runs(110 + i, 50),
      ))
  })

  it('where (gradients to both branches, none to the condition)', () =>
    fc.assert(
      fc.property(broadcastRefsArb([bit, f32, f32]), cotangentArb, (xs, w) =>
        checkGrad({
          name: 'where',
          op: where,
          ref: (c, a, b) => mapN([c!, a!, b!], (u, x, y) => (u !== 0 ? x : y)),
          inputs: xs,
          w,
          wrt: [1, 2],
        }),
      ),
      runs(120, 50),
    ))

  it('clip (with broadcast tensor bounds; points at a bound are kinks, detected by checkGrads)', () =>
    fc.assert(
      fc.property(broadcastRefsArb([f32, f32, f32]), cotangentArb, (xs, w) =>
        checkGrad({
          name: 'clip',
          op: clip,
          ref: (a, l, h) => mapN([a!, l!, h!], (v, p, q) => Math.min(Math.max(v, p), q)),
          inputs: xs,
          w,
          // lo = hi: clip is flat in every coordinate there, whatever gets the gradient
          skip: kinkMask(xs, (_, p, q) => Math.abs(p! - q!) < 1e-2),
        }),
      ),
      runs(121, 50),
    ))

  it('clip with number bounds', () =>
    fc.assert(
      fc.property(unaryArb(f32), f32, f32, cotangentArb, (x, p, q, w) => {
        const [lo, hi] = p < q ? [p, q] : [q, p]
        checkGrad({
          name: 'clip',
          op: (t) => clip(t, lo, hi),
          ref: (a) => map1(a!, (v) => Math.min(Math.max(v, lo), hi)),
          inputs: [x],
          w,
          // lo = hi: clip is flat in x there, whatever gets the gradient
          skip: [Array.from(x.data, () => Math.abs(hi - lo) < 1e-2)],
        })
      }),
      runs(122, 40),
    ))
})

describe('unary ops: VJPs against float64 central differences', () => {
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number, fc.Arbitrary<number>][] = [
    ['neg', neg, (v) => -v, f32],
    ['abs (skipping |x| < 1e-2)', abs, Math.abs, f32AwayFromZero],
    ['exp', exp, Math.exp, f32],
    ['log (x > 0.1)', log, Math.log, f32Positive],
    ['log1p (x > -0.9)', log1p, Math.log1p, f32AboveMinusOne],
    ['sqrt (x > 0.1)', sqrt, Math.sqrt, f32Positive],
    ['rsqrt (x > 0.1)', rsqrt, (v) => 1 / Math.sqrt(v), f32Positive],
    ['square', square, (v) => v * v, f32],
  ]
  cases.forEach(([name, op, f, elem], i) => {
    it(name, () =>
      fc.assert(
        fc.property(unaryArb(elem), cotangentArb, (x, w) =>
          checkGrad({ name, op, ref: (a) => map1(a!, f), inputs: [x], w }),
        ),
        runs(200 + i, 50),
      ),
    )
  })
})

describe('broadcasting (forward values against reference loops)', () => {
  it('every binary op and comparison broadcasts like NumPy on random shapes', () =>
    fc.assert(
      fc.property(broadcastRefsArb([f32, f32Denominator]), ([a, b]) => {
        const ta = tensor(Float32Array.from(a!.data), a!.shape)
        const tb = tensor(Float32Array.from(b!.data), b!.shape)
        const table: [string, Tensor, (x: number, y: number) => number][] = [
          ['add', add(ta, tb), (x, y) => x + y],
          ['sub', sub(ta, tb), (x, y) => x - y],
          ['mul', mul(ta, tb), (x, y) => x * y],
          ['div', div(ta, tb), (x, y) => x / y],
          ['maximum', maximum(ta, tb), Math.max],
          ['minimum', minimum(ta, tb), Math.min],
          ['equal', equal(ta, tb), (x, y) => (x === y ? 1 : 0)],
          ['greater', greater(ta, tb), (x, y) => (x > y ? 1 : 0)],
          ['greaterEqual', greaterEqual(ta, tb), (x, y) => (x >= y ? 1 : 0)],
          ['less', less(ta, tb), (x, y) => (x < y ? 1 : 0)],
          ['lessEqual', lessEqual(ta, tb), (x, y) => (x <= y ? 1 : 0)],
        ]
        for (const [name, t, f] of table) expectClose(name, t, mapN([a!, b!], f))
      }),
      runs(300, 60),
    ))

  it('covers each kernel path: equal shapes, a scalar on either side, a bias row, general', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(add(a, a).toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ])
    expect(sub(a, 1).toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ])
    expect(sub(10, a).toArray()).toEqual([
      [9, 8, 7],
      [6, 5, 4],
    ])
    expect(add(a, tensor([10, 20, 30])).toArray()).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ])
    expect(add(tensor([10, 20, 30]), a).toArray()).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ])
    expect(add(a, tensor([[100], [200]])).toArray()).toEqual([
      [101, 102, 103],
      [204, 205, 206],
    ])
    expect(mul(tensor([[1], [2]]), tensor([1, 10, 100])).toArray()).toEqual([
      [1, 10, 100],
      [2, 20, 200],
    ])
    const c = mul(tensor([[[1, 2, 3]], [[4, 5, 6]]]), tensor([[1], [-1]]))
    expect(c.shape).toEqual([2, 2, 3])
    expect(c.toArray()).toEqual([
      [
        [1, 2, 3],
        [-1, -2, -3],
      ],
      [
        [4, 5, 6],
        [-4, -5, -6],
      ],
    ])
    expect(add(3, 4).shape).toEqual([])
    expect(add(3, 4).item()).toBe(7)
    expect(add(zeros([2, 0]), zeros([0])).shape).toEqual([2, 0])
  })

  it('mismatched shapes throw a ShapeError naming the op and both shapes', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(ShapeError)
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(
      'add: shapes cannot be broadcast together: [2,3] and [4]',
    )
    expect(() => sub(zeros([3]), zeros([2, 2]))).toThrow(
      'sub: shapes cannot be broadcast together: [3] and [2,2]',
    )
    expect(() => mul(zeros([2, 1, 3]), zeros([4, 2]))).toThrow(
      'mul: shapes cannot be broadcast together: [2,1,3] and [4,2]',
    )
    expect(() => div(zeros([5]), zeros([4]))).toThrow('div: shapes cannot be broadcast together: [5] and [4]')
    expect(() => pow(zeros([5]), zeros([4]))).toThrow('pow: shapes cannot be broadcast together: [5] and [4]')
    expect(() => maximum(zeros([5]), zeros([4]))).toThrow(
      'maximum: shapes cannot be broadcast together: [5] and [4]',
    )
    expect(() => minimum(zeros([5]), zeros([4]))).toThrow(
      'minimum: shapes cannot be broadcast together: [5] and [4]',
    )
    expect(() => greater(zeros([5]), zeros([4]))).toThrow(
      'greater: shapes cannot be broadcast together: [5] and [4]',
    )
    expect(() => where(zeros([2]), zeros([3]), 0)).toThrow(
      'where: shapes cannot be broadcast together: [2] and [3]',
    )
    expect(() => where(zeros([2]), zeros([2]), zeros([3]))).toThrow(
      'where: shapes cannot be broadcast together: [2] and [3]',
    )
  })
})

describe('values and documented gradient conventions', () => {
  it('elementwise functions give the textbook values', () => {
    const x = tensor([0.25, 1, 4])
    expectClose('sqrt', sqrt(x), ref([3], [0.5, 1, 2]))
    expectClose('rsqrt', rsqrt(x), ref([3], [2, 1, 0.5]))
    expectClose('log', log(x), ref([3], [Math.log(0.25), 0, Math.log(4)]))
    expectClose('exp', exp(tensor([0, 1])), ref([2], [1, Math.E]))
    expectClose('log1p', log1p(tensor([1e-7])), ref([1], [1e-7 - 5e-15]), 1e-7)
    expect(neg(tensor([1, -2])).toArray()).toEqual([-1, 2])
    expect(neg(3).item()).toBe(-3)
    expect(abs(tensor([-1.5, 2])).toArray()).toEqual([1.5, 2])
    expect(sign(tensor([-3, 0, 2])).toArray()).toEqual([-1, 0, 1])
    expect(square(tensor([-3])).toArray()).toEqual([9])
    expect(pow(tensor([2, 3]), 2).toArray()).toEqual([4, 9])
    expect(clip(tensor([-2, 0.5, 2]), -1, 1).toArray()).toEqual([-1, 0.5, 1])
    expect(where(tensor([1, 0]), tensor([1, 2]), tensor([9, 9])).toArray()).toEqual([1, 9])
  })

  it('sign and comparisons are constants: their gradient is zero', () => {
    const g = grad((x: Tensor) => sum(add(sign(x), greater(x, 0))))(tensor([-1, 2]))
    expect(g.toArray()).toEqual([0, 0])
  })

  it('maximum/minimum send the cotangent to the first operand on ties; abs has gradient 0 at 0', () => {
    const { grad: g } = valueAndGrad((p: { a: Tensor; b: Tensor }) =>
      sum(add(maximum(p.a, p.b), mul(minimum(p.a, p.b), 10))),
    )({ a: tensor([1, 2, 3]), b: tensor([1, 5, 0]) })
    expect(g.a.toArray()).toEqual([11, 10, 1])
    expect(g.b.toArray()).toEqual([0, 1, 10])
    expect(grad((x: Tensor) => sum(abs(x)))(tensor([-2, 0, 2])).toArray()).toEqual([-1, 0, 1])
  })

  it('clip passes the gradient inside [lo, hi] and blocks it outside', () => {
    expect(grad((x: Tensor) => sum(clip(x, -1, 1)))(tensor([-2, 0.5, 2])).toArray()).toEqual([0, 1, 0])
  })

  it('pow: the gradient with respect to the exponent is 0 where the base is ≤ 0', () => {
    const { grad: g } = valueAndGrad((p: { a: Tensor; b: Tensor }) => sum(pow(p.a, p.b)))({
      a: tensor([-2, 0, 2]),
      b: tensor([2, 2, 2]),
    })
    expect(g.a.toArray()).toEqual([-4, 0, 4])
    expectClose('d/db', g.b, ref([3], [0, 0, 4 * Math.log(2)]))
  })

  it('binary ops with a number operand differentiate the tensor one', () => {
    const g = grad((x: Tensor) => sum(add(sub(mul(x, 3), 1), div(2, x))))(tensor([1, 2]))
    expectClose('grad', g, toRef(tensor([3 - 2, 3 - 0.5])))
  })
})
