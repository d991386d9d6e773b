/**
 * Second derivatives of every primitive and fused op against float64 finite differences of
 * the first derivative.
 *
 * For an op f, a cotangent w and a direction v (both random), the objective is
 * `L(x) = Σ w·f(x)`; the analytic Hessian-vector product `H·v = ∇ₓ⟨∇L(x), v⟩` comes from
 * nested `grad` (reverse over reverse, every input differentiated at once, so the mixed
 * partials are checked too). The numeric one is the central difference, along v, of the
 * central-difference first derivative, all in float64 on the independent reference:
 * `(H·v)ᵢ ≈ [L(x + εv + heᵢ) − L(x + εv − heᵢ) − L(x − εv + heᵢ) + L(x − εv − heᵢ)] / 4εh`,
 * `ε = h = 1e-4`: `checkGrads` of `@purenn/testing` with `order: 2` and a `direction`, which
 * also checks the first derivatives (float64 central differences, h = 1e-6).
 *
 * Tolerance `|analytic − numeric| ≤ 2e-3·(1 + |numeric|)`: the analytic value is a float32
 * computation (relative error ~1e-5 over a few dozen roundings); the numeric one has
 * truncation error ~(ε² + h²)·|L⁗| < 1e-6 and rounding error ~1e-16·|L|/(εh) < 1e-6 on these
 * inputs. A VJP whose own derivative is missing (the old silent zero) or wrong is off by O(1).
 * Inputs stay 1e-2 away from kinks (|x| for relu-like ops, operand gaps for maximum/minimum,
 * ties for max/min, pre-activations for a relu dense), further than ε·|v| + h ≤ 4e-4.
 */

import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  abs,
  add,
  clip,
  div,
  exp,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  rsqrt,
  sqrt,
  square,
  sub,
  where,
} from '../src/arith.js'
import { batchNorm, batchNormTrain, denseOp, moments } from '../src/fused.js'
import { matmul } from '../src/linalg.js'
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
import { dropout, key } from '../src/random.js'
import { max, mean, min, sum, variance } from '../src/reduce.js'
import { broadcastTo, concat, gather, reshape, slice, transpose } from '../src/shape.js'
import { ones, type Tensor, tensor } from '../src/tensor.js'
import {
  broadcastRefsArb,
  f32,
  f32AwayFromZero,
  f32Positive,
  refArb,
  runs,
  shapeArb,
} from './helpers/gradcheck.js'
import * as R from './helpers/reference.js'

const TOL = 2e-3

const toTensor = (r: R.Ref): Tensor => tensor(Float32Array.from(r.data), r.shape)

interface Case {
  readonly name: string
  readonly op: (...xs: Tensor[]) => Tensor
  readonly ref: (...xs: R.Ref[]) => R.Ref
  readonly inputs: readonly R.Ref[]
  /** Cotangent and direction values, cycled. */
  readonly w: readonly number[]
  readonly v: readonly number[]
}

/**
 * Throws, naming the op, the input and the element, when H·v (or a first derivative)
 * disagrees with the float64 differences: `checkGrads` of `@purenn/testing` with `order: 2`
 * and a `direction`. The inputs are chosen away from kinks, so no element may be skipped.
 */
const checkSecondOrder = (c: Case): void => {
  try {
    const r = checkGrads(c.op, c.inputs.map(toTensor), {
      order: 2,
      direction: c.v,
      cotangent: c.w,
      reference: (...xs) => c.ref(...xs.map((d, i) => R.ref(c.inputs[i]!.shape, d))).data,
      rtol: TOL,
      atol: TOL,
    })
    if (r.kinks !== 0) throw new Error(`${r.kinks} derivatives were skipped as near a kink`)
  } catch (e) {
    throw new Error(
      `${c.name}: ${(e as Error).message}; shapes ${JSON.stringify(c.inputs.map((x) => x.shape))}`,
    )
  }
}

const sq = (r: R.Ref): R.Ref => R.map1(r, (u) => u * u)

const vecArb = fc.array(f32, { minLength: 32, maxLength: 32 })
const unaryArb = (elem: fc.Arbitrary<number>) => shapeArb(0, 2, 3).chain((s) => refArb(s, elem))
const NUM_RUNS = 15

describe('second derivatives (H·v) of the elementwise primitives against float64 differences', () => {
  const unaries: [string, (x: Tensor) => Tensor, (u: number) => number, fc.Arbitrary<number>][] = [
    ['neg', neg, (u) => -u, f32],
    ['abs', abs, Math.abs, f32AwayFromZero],
    ['exp', exp, Math.exp, f32],
    ['log', log, Math.log, f32Positive],
    ['log1p', log1p, Math.log1p, f32Positive],
    ['sqrt', sqrt, Math.sqrt, f32Positive],
    ['rsqrt', rsqrt, (u) => 1 / Math.sqrt(u), f32Positive],
    ['square', square, (u) => u * u, f32],
    ['relu', relu, (u) => Math.max(u, 0), f32AwayFromZero],
    ['sigmoid', sigmoid, R.sigmoid, f32],
    ['tanh', tanh, Math.tanh, f32],
    ['softplus', softplus, (u) => Math.log1p(Math.exp(u)), f32],
    ['elu', (x) => elu(x, 1.5), (u) => (u > 0 ? u : 1.5 * Math.expm1(u)), f32AwayFromZero],
    ['selu', selu, (u) => R.SELU_SCALE * (u > 0 ? u : R.SELU_ALPHA * Math.expm1(u)), f32AwayFromZero],
    ['gelu', gelu, (u) => 0.5 * u * (1 + R.erf(u / Math.SQRT2)), f32],
    ['leakyRelu', leakyRelu, (u) => (u > 0 ? u : 0.2 * u), f32AwayFromZero],
    ['swish', swish, (u) => u * R.sigmoid(u), f32],
    // clip's kinks at ±1 are avoided by the filter
    [
      'clip',
      (x) => mul(clip(x, -1, 1), x),
      (u) => Math.min(Math.max(u, -1), 1) * u,
      f32.filter((u) => Math.abs(Math.abs(u) - 1) >= 1e-2),
    ],
  ]
  unaries.forEach(([name, op, f, elem], i) => {
    it(name, () =>
      fc.assert(
        fc.property(unaryArb(elem), vecArb, vecArb, (x, w, v) =>
          checkSecondOrder({ name, op, ref: (a) => R.map1(a!, f), inputs: [x], w, v }),
        ),
        runs(500 + i, NUM_RUNS),
      ),
    )
  })

  const binaries: [
    string,
    (a: Tensor, b: Tensor) => Tensor,
    (a: number, b: number) => number,
    fc.Arbitrary<number>,
    fc.Arbitrary<number>,
  ][] = [
    ['add', add, (a, b) => a + b, f32, f32],
    ['sub', sub, (a, b) => a - b, f32, f32],
    ['mul', mul, (a, b) => a * b, f32, f32],
    ['div', div, (a, b) => a / b, f32, f32Positive],
    ['pow', pow, (a, b) => a ** b, f32Positive, f32],
    ['maximum (times a)', (a, b) => mul(maximum(a, b), a), (a, b) => Math.max(a, b) * a, f32, f32],
    ['minimum (times b)', (a, b) => mul(minimum(a, b), b), (a, b) => Math.min(a, b) * b, f32, f32],
    ['where (times a·b)', (a, b) => mul(where(tensor(1), a, b), mul(a, b)), (a, b) => a * a * b, f32, f32],
  ]
  binaries.forEach(([name, op, f, ea, eb], i) => {
    it(`${name}, with broadcasting`, () =>
      fc.assert(
        fc.property(broadcastRefsArb([ea, eb]), vecArb, vecArb, ([a, b], w, v) => {
          // operands of maximum/minimum at least 1e-2 apart (their kink)
          if (name.startsWith('max') || name.startsWith('min'))
            fc.pre(R.mapN([a!, b!], (p, q) => Math.abs(p! - q!)).data.every((d) => d >= 1e-2))
          checkSecondOrder({ name, op, ref: (p, q) => R.mapN([p!, q!], f), inputs: [a!, b!], w, v })
        }),
        runs(520 + i, NUM_RUNS),
      ))
  })
})

describe('second derivatives of reductions, linear algebra and shape ops', () => {
  it('sum, mean, variance over random axes', () =>
    fc.assert(
      fc.property(unaryArb(f32), fc.boolean(), vecArb, vecArb, (x, keep, w, v) => {
        const axes = x.shape.length === 0 ? undefined : [x.shape.length - 1]
        checkSecondOrder({
          name: 'sum²',
          op: (a) => square(sum(a, axes, keep)),
          ref: (a) => sq(R.reduceGroups(a!, axes, keep, R.sum)),
          inputs: [x],
          w,
          v,
        })
        checkSecondOrder({
          name: 'mean·x',
          op: (a) => mul(mean(a, axes, true), a),
          ref: (a) => R.mapN([R.reduceGroups(a!, axes, true, R.mean), a!], (m, u) => m! * u!),
          inputs: [x],
          w,
          v,
        })
        checkSecondOrder({
          name: 'variance',
          op: (a) => variance(a, axes, keep),
          ref: (a) => R.reduceGroups(a!, axes, keep, R.variance),
          inputs: [x],
          w,
          v,
        })
      }),
      runs(540, NUM_RUNS),
    ))

  it('max and min (squared), away from ties', () =>
    fc.assert(
      fc.property(unaryArb(f32), vecArb, vecArb, (x, w, v) => {
        fc.pre(R.extremumGap(x, undefined, 'max') >= 1e-2 && R.extremumGap(x, undefined, 'min') >= 1e-2)
        checkSecondOrder({
          name: 'max²',
          op: (a) => square(max(a)),
          ref: (a) => sq(R.reduceGroups(a!, undefined, false, (vs) => Math.max(...vs))),
          inputs: [x],
          w,
          v,
        })
        checkSecondOrder({
          name: 'min²',
          op: (a) => square(min(a)),
          ref: (a) => sq(R.reduceGroups(a!, undefined, false, (vs) => Math.min(...vs))),
          inputs: [x],
          w,
          v,
        })
      }),
      runs(541, NUM_RUNS),
    ))

  it('matmul (bilinear: the mixed partials), and matmul of a square', () =>
    fc.assert(
      fc.property(
        fc
          .tuple(
            fc.integer({ min: 1, max: 3 }),
            fc.integer({ min: 1, max: 3 }),
            fc.integer({ min: 1, max: 3 }),
          )
          .chain(([m, k, n]) => fc.tuple(refArb([m, k]), refArb([k, n]))),
        vecArb,
        vecArb,
        ([a, b], w, v) => {
          checkSecondOrder({
            name: 'matmul',
            op: (p, q) => matmul(p!, q!),
            ref: (p, q) => R.matmul(p!, q!),
            inputs: [a, b],
            w,
            v,
          })
          checkSecondOrder({
            name: 'matmul(a², b)',
            op: (p, q) => matmul(square(p), q),
            ref: (p, q) => R.matmul(sq(p!), q!),
            inputs: [a, b],
            w,
            v,
          })
        },
      ),
      runs(542, NUM_RUNS),
    ))

  it('reshape, transpose, broadcastTo, slice, gather, concat (squared: their VJPs are differentiated in g)', () =>
    fc.assert(
      fc.property(refArb([2, 3]), refArb([1, 3]), vecArb, vecArb, (x, y, w, v) => {
        const cases: [string, (a: Tensor, b: Tensor) => Tensor, (a: R.Ref, b: R.Ref) => R.Ref][] = [
          ['reshape', (a) => reshape(a, [3, 2]), (a) => R.reshape(a, [3, 2])],
          ['transpose', (a) => transpose(a, [1, 0]), (a) => R.transpose(a, [1, 0])],
          ['broadcastTo', (_a, b) => broadcastTo(b, [2, 3]), (_a, b) => R.broadcastTo(b, [2, 3])],
          ['slice', (a) => slice(a, [0, 1], [2, 2]), (a) => R.slice(a, [0, 1], [2, 2])],
          ['gather', (a) => gather(a, [2, 0, 2], 1), (a) => R.gather(a, [2, 0, 2], 1)],
          ['concat', (a, b) => concat([a, b], 0), (a, b) => R.concat([a, b], 0)],
        ]
        for (const [name, op, ref] of cases)
          checkSecondOrder({
            name: `${name}²`,
            op: (a, b) => square(op(a!, b!)),
            ref: (a, b) => sq(ref(a!, b!)),
            inputs: [x, y],
            w,
            v,
          })
      }),
      runs(543, NUM_RUNS),
    ))

  it('softmax, logSoftmax and a softmax cross-entropy', () =>
    fc.assert(
      fc.property(refArb([2, 3]), refArb([2, 3], f32Positive), vecArb, vecArb, (x, t, w, v) => {
        checkSecondOrder({
          name: 'softmax',
          op: (a) => softmax(a),
          ref: (a) => R.softmax(a!, 1),
          inputs: [x],
          w,
          v,
        })
        checkSecondOrder({
          name: 'logSoftmax',
          op: (a) => logSoftmax(a, 0),
          ref: (a) => R.logSoftmax(a!, 0),
          inputs: [x],
          w,
          v,
        })
        checkSecondOrder({
          name: 'crossentropy(t, softmax(x))',
          op: (a, b) => neg(sum(mul(b, logSoftmax(a)), -1)),
          ref: (a, b) =>
            R.reduceGroups(
              R.mapN([R.logSoftmax(a!, 1), b!], (l, q) => -l! * q!),
              1,
              false,
              R.sum,
            ),
          inputs: [x, t],
          w,
          v,
        })
      }),
      runs(544, NUM_RUNS),
    ))

  it('dropout (squared), with its own mask', () =>
    fc.assert(
      fc.property(unaryArb(f32), fc.integer({ min: 0, max: 1000 }), vecArb, vecArb, (x, seed, w, v) => {
        const mask = R.ref(x.shape, dropout(key(seed), ones(x.shape), 0.5).data)
        checkSecondOrder({
          name: 'dropout²',
          op: (a) => square(dropout(key(seed), a, 0.5)),
          ref: (a) => sq(R.mapN([a!, mask], (u, m) => u! * m!)),
          inputs: [x],
          w,
          v,
        })
      }),
      runs(545, NUM_RUNS),
    ))
})

describe('second derivatives of the fused ops (their composition is differentiated)', () => {
  const groups = (x: R.Ref, axes: readonly number[]) => ({
    mean: R.reduceGroups(x, axes, true, R.mean),
    variance: R.reduceGroups(x, axes, true, R.variance),
  })
  const bn = (x: R.Ref, m: R.Ref, s2: R.Ref, g: R.Ref, b: R.Ref, eps: number) =>
    R.mapN([x, m, s2, g, b], (xi, mi, vi, gi, bi) => (gi! * (xi! - mi!)) / Math.sqrt(vi! + eps) + bi!)

  it('denseOp, linear and relu (away from zero pre-activations)', () =>
    fc.assert(
      fc.property(
        refArb([2, 3]),
        refArb([3, 2]),
        refArb([2]),
        fc.boolean(),
        vecArb,
        vecArb,
        (x, k, b, useRelu, w, v) => {
          const pre = R.mapN([R.matmul(x, k), b], (z, c) => z! + c!)
          if (useRelu) fc.pre(pre.data.every((z) => Math.abs(z) >= 1e-2))
          const act = (r: R.Ref) => (useRelu ? R.map1(r, (z) => Math.max(z, 0)) : r)
          checkSecondOrder({
            name: `denseOp(${useRelu ? 'relu' : 'linear'})`,
            op: (p, q, c) => square(denseOp(p!, q!, c, useRelu ? 'relu' : 'linear')),
            ref: (p, q, c) => sq(act(R.mapN([R.matmul(p!, q!), c!], (z, d) => z! + d!))),
            inputs: [x, k, b],
            w,
            v,
          })
        },
      ),
      runs(560, NUM_RUNS),
    ))

  it('moments, batchNorm and batchNormTrain', () =>
    fc.assert(
      fc.property(
        refArb([3, 2]),
        refArb([2]),
        refArb([2], f32Positive),
        refArb([2]),
        refArb([2]),
        vecArb,
        vecArb,
        (x, m, s2, g, b, w, v) => {
          // a batch whose columns are not nearly constant (the variance is then well away from 0)
          fc.pre(groups(x, [0]).variance.data.every((u) => u > 0.05))
          checkSecondOrder({
            name: 'moments.mean²',
            op: (a) => square(moments(a!, 0).mean),
            ref: (a) => sq(R.reshape(groups(a!, [0]).mean, [2])),
            inputs: [x],
            w,
            v,
          })
          checkSecondOrder({
            name: 'moments.variance',
            op: (a) => moments(a!, 0).variance,
            ref: (a) => R.reshape(groups(a!, [0]).variance, [2]),
            inputs: [x],
            w,
            v,
          })
          checkSecondOrder({
            name: 'batchNorm',
            op: (p, q, r, s, t) => batchNorm(p!, q!, r!, s, t, 1e-3),
            ref: (p, q, r, s, t) => bn(p!, q!, r!, s!, t!, 1e-3),
            inputs: [x, m, s2, g, b],
            w,
            v,
          })
          checkSecondOrder({
            name: 'batchNormTrain',
            op: (p, s, t) => batchNormTrain(p!, s, t, 0, 1e-3).y,
            ref: (p, s, t) => {
              const st = groups(p!, [0])
              return bn(p!, st.mean, st.variance, s!, t!, 1e-3)
            },
            inputs: [x, g, b],
            w,
            v,
          })
        },
      ),
      runs(561, NUM_RUNS),
    ))
})
