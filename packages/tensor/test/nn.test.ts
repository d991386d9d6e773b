import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mul } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { grad } from '../src/grad.js'
import {
  elu,
  gelu,
  leakyRelu,
  logSoftmax,
  relu,
  selu,
  sigmoid,
  softmax,
  softplus,
  swish,
  tanh,
} from '../src/nn.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor, zeros } from '../src/tensor.js'
import {
  checkGrad,
  cotangentArb,
  expectClose,
  f32,
  f32AwayFromZero,
  refArb,
  runs,
  shapeArb,
} from './helpers/gradcheck.js'
import * as R from './helpers/reference.js'

const unaryArb = (elem: fc.Arbitrary<number>): fc.Arbitrary<R.Ref> => shapeArb().chain((s) => refArb(s, elem))

/** Leaky ReLU / ELU slopes. */
const alphaArb = fc.float({ min: Math.fround(0.01), max: Math.fround(2), noNaN: true })

describe('activations: VJPs against float64 central differences', () => {
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number, fc.Arbitrary<number>][] = [
    ['relu (skipping |x| < 1e-2)', relu, (v) => Math.max(v, 0), f32AwayFromZero],
    ['sigmoid', sigmoid, R.sigmoid, f32],
    ['tanh', tanh, Math.tanh, f32],
    ['softplus', softplus, (v) => Math.log(1 + Math.exp(v)), f32],
    ['elu (skipping |x| < 1e-2)', elu, (v) => (v > 0 ? v : Math.exp(v) - 1), f32AwayFromZero],
    [
      'selu (skipping |x| < 1e-2)',
      selu,
      (v) => R.SELU_SCALE * (v > 0 ? v : R.SELU_ALPHA * (Math.exp(v) - 1)),
      f32AwayFromZero,
    ],
    ['gelu', gelu, (v) => 0.5 * v * (1 + R.erf(v / Math.SQRT2)), f32],
    ['leakyRelu (skipping |x| < 1e-2)', leakyRelu, (v) => (v > 0 ? v : 0.2 * v), f32AwayFromZero],
    ['swish', swish, (v) => v * R.sigmoid(v), f32],
  ]
  cases.forEach(([name, op, f, elem], i) => {
    it(name, () =>
      fc.assert(
        fc.property(unaryArb(elem), cotangentArb, (x, w) =>
          checkGrad({ name, op, ref: (a) => R.map1(a!, f), inputs: [x], w }),
        ),
        runs(400 + i, 50),
      ),
    )
  })

  it('elu and leakyRelu with a random alpha', () =>
    fc.assert(
      fc.property(unaryArb(f32AwayFromZero), alphaArb, cotangentArb, (x, alpha, w) => {
        checkGrad({
          name: 'elu',
          op: (t) => elu(t, alpha),
          ref: (a) => R.map1(a!, (v) => (v > 0 ? v : alpha * Math.expm1(v))),
          inputs: [x],
          w,
        })
        checkGrad({
          name: 'leakyRelu',
          op: (t) => leakyRelu(t, alpha),
          ref: (a) => R.map1(a!, (v) => (v > 0 ? v : alpha * v)),
          inputs: [x],
          w,
        })
      }),
      runs(410, 40),
    ))

  const axisCase = shapeArb(1).chain((s) =>
    fc.tuple(refArb(s), fc.integer({ min: -s.length, max: s.length - 1 }), cotangentArb),
  )
  it('softmax over a random axis', () =>
    fc.assert(
      fc.property(axisCase, ([x, axis, w]) =>
        checkGrad({
          name: `softmax(axis ${axis})`,
          op: (t) => softmax(t, axis),
          ref: (a) => R.softmax(a!, axis),
          inputs: [x],
          w,
        }),
      ),
      runs(420, 50),
    ))
  it('logSoftmax over a random axis', () =>
    fc.assert(
      fc.property(axisCase, ([x, axis, w]) =>
        checkGrad({
          name: `logSoftmax(axis ${axis})`,
          op: (t) => logSoftmax(t, axis),
          ref: (a) => R.logSoftmax(a!, axis),
          inputs: [x],
          w,
        }),
      ),
      runs(421, 50),
    ))
})

describe('activations: values (Keras semantics)', () => {
  it('relu, leakyRelu, elu, selu, gelu, swish, sigmoid, tanh, softplus at textbook points', () => {
    expect(relu(tensor([-1, 0, 2])).toArray()).toEqual([0, 0, 2])
    expectClose('leakyRelu default alpha 0.2', leakyRelu(tensor([-1, 2])), R.ref([2], [-0.2, 2]))
    expectClose('leakyRelu alpha 0.3', leakyRelu(tensor([-1, 2]), 0.3), R.ref([2], [-0.3, 2]))
    expectClose('elu', elu(tensor([-1, 0, 1])), R.ref([3], [Math.exp(-1) - 1, 0, 1]))
    expectClose('elu alpha 2', elu(tensor([-1])), R.ref([1], [Math.exp(-1) - 1]))
    expectClose('elu alpha 2', elu(tensor([-1]), 2), R.ref([1], [2 * (Math.exp(-1) - 1)]))
    // Keras: selu(x) = scale·x (x > 0), scale·alpha·(eˣ − 1) (x ≤ 0); selu(−∞) = −scale·alpha ≈ −1.7581
    expectClose(
      'selu',
      selu(tensor([1, -1, -20])),
      R.ref([3], [1.0507009873554805, -1.1113307378125625, -1.7580993408473766]),
    )
    expectClose(
      'gelu (exact, erf form)',
      gelu(tensor([0, 1, -1, 2])),
      R.ref([4], [0, 0.8413447460685429, -0.15865525393145707, 1.9544997361036416]),
    )
    expectClose('swish', swish(tensor([0, 1])), R.ref([2], [0, 1 / (1 + Math.exp(-1))]))
    expectClose('sigmoid', sigmoid(tensor([0, 2])), R.ref([2], [0.5, 1 / (1 + Math.exp(-2))]))
    expectClose('tanh', tanh(tensor([0, 1])), R.ref([2], [0, Math.tanh(1)]))
    expectClose('softplus', softplus(tensor([0, 1])), R.ref([2], [Math.LN2, Math.log(1 + Math.E)]))
  })

  it('sigmoid and softplus stay finite and accurate for large |x|', () => {
    const x = tensor([-100, -30, 30, 100])
    expectClose('sigmoid', sigmoid(x), R.ref([4], [Math.exp(-100), Math.exp(-30), 1, 1]), 1e-6)
    expect(sigmoid(tensor([-100])).data[0]).toBeGreaterThan(0)
    expectClose('softplus', softplus(x), R.ref([4], [Math.exp(-100), Math.exp(-30), 30, 100]), 1e-6)
    const g = grad((t: Tensor) => sum(sigmoid(t)))(tensor([-1000, 1000]))
    expect(g.toArray()).toEqual([0, 0])
  })

  it('relu gradient is 0 at the kink, as in TF', () => {
    expect(grad((t: Tensor) => sum(relu(t)))(tensor([-1, 0, 1])).toArray()).toEqual([0, 0, 1])
  })

  it('softmax rows sum to 1 and softmax(x + c) = softmax(x)', () =>
    fc.assert(
      fc.property(
        shapeArb(1).chain((s) => refArb(s)),
        fc.integer({ min: -50, max: 50 }),
        (x, c) => {
          const t = tensor(Float32Array.from(x.data), x.shape)
          const y = softmax(t)
          const rows = sum(y, -1)
          for (const v of rows.data) expect(Math.abs(v - 1)).toBeLessThan(1e-5)
          expectClose(
            'shifted',
            softmax(
              tensor(
                Float32Array.from(x.data, (v) => v + c),
                x.shape,
              ),
            ),
            R.ref(y.shape, y.data),
            1e-4,
          )
        },
      ),
      runs(430, 40),
    ))
})

describe('softmax and logSoftmax are stable for inputs of ±1e4', () => {
  const x = tensor([
    [1e4, -1e4, 0],
    [1e4, 1e4, -1e4],
    [-1e4, -1e4, -1e4],
  ])

  it('softmax is finite and correct', () => {
    const y = softmax(x)
    expect(y.data.every(Number.isFinite)).toBe(true)
    expect(y.toArray()).toEqual([[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3].map(Math.fround)])
  })

  it('logSoftmax is finite and correct', () => {
    const y = logSoftmax(x)
    expect(y.data.every(Number.isFinite)).toBe(true)
    expectClose(
      'logSoftmax',
      y,
      R.logSoftmax(R.ref([3, 3], [1e4, -1e4, 0, 1e4, 1e4, -1e4, -1e4, -1e4, -1e4]), -1),
    )
    expect(y.toArray()).toEqual([
      [0, -2e4, -1e4],
      [-Math.LN2, -Math.LN2, -2e4 - Math.LN2].map(Math.fround),
      [-Math.log(3), -Math.log(3), -Math.log(3)].map(Math.fround),
    ])
  })

  it('their gradients are finite', () => {
    const w = tensor([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ])
    const g1 = grad((t: Tensor) => sum(mul(softmax(t), w)))(x)
    expect(g1.data.every(Number.isFinite)).toBe(true)
    const g2 = grad((t: Tensor) => sum(mul(logSoftmax(t), w)))(x)
    expect(g2.data.every(Number.isFinite)).toBe(true)
    // d/dx Σ w·logSoftmax(x) = w − softmax(x)·Σw per row
    expectClose(
      'logSoftmax VJP',
      g2,
      R.ref([3, 3], [1 - 6, 2, 3, 4 - 7.5, 5 - 7.5, 6, 7 - 8, 8 - 8, 9 - 8]),
      1e-5,
    )
  })

  it('a bad axis names the op', () => {
    expect(() => softmax(zeros([2, 3]), 2)).toThrow(ShapeError)
    expect(() => softmax(zeros([2, 3]), 2)).toThrow(
      'softmax: axis 2 is out of range for shape [2,3] (rank 2)',
    )
    expect(() => logSoftmax(zeros([2, 3]), -3)).toThrow(
      'logSoftmax: axis -3 is out of range for shape [2,3] (rank 2)',
    )
  })
})
