/**
 * The fused ops (dense, batch norm) against (1) the composition of the primitives they
 * replace, in value and gradient, and (2) an independent float64 reference with central
 * differences.
 */

import { maxAbsDiff } from '@purenn/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, div, mul, sqrt, sub } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { batchNorm, batchNormTrain, type DenseActivation, denseOp, moments } from '../src/fused.js'
import { valueAndGrad } from '../src/grad.js'
import { matmul } from '../src/linalg.js'
import { relu } from '../src/nn.js'
import { mean, sum, variance } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'
import { checkGrad, f32, runs, toTensor } from './helpers/gradcheck.js'
import {
  broadcastIndex,
  mapN,
  type Ref,
  ref,
  matmul as refMatmul,
  size,
  unravel,
} from './helpers/reference.js'

// ---------------------------------------------------------------------------------------
// Cases: 2-D and 4-D inputs, several choices of reduced axes

/** A shape and the axes reduced over (possibly negative), as the fused ops take them. */
interface Layout {
  readonly shape: number[]
  readonly axes: readonly number[]
}

const dim = (max: number) => fc.integer({ min: 1, max })

const layoutArb: fc.Arbitrary<Layout> = fc.oneof(
  // (batch, features): per feature, per row, everything
  fc
    .tuple(dim(6), dim(5), fc.constantFrom([0], [-2], [1], [0, 1]))
    .map(([b, f, axes]) => ({ shape: [b, f], axes })),
  // (batch, h, w, c): NHWC channels, NCHW channels (kept axis in the middle), per position,
  // per (h, w) with c reduced, kept axes not contiguous, everything
  fc
    .tuple(
      dim(3),
      dim(3),
      dim(3),
      dim(3),
      fc.constantFrom([0, 1, 2], [0, -2, -1], [0], [0, 3], [1, 2], [0, 1, 2, 3]),
    )
    .map(([b, h, w, c, axes]) => ({ shape: [b, h, w, c], axes })),
)

const norm = (axes: readonly number[], rank: number): number[] => axes.map((a) => (a < 0 ? a + rank : a))

/** `shape` with 1 on the reduced axes: the shape statistics have with keepDims. */
const keptShapeOf = (l: Layout): number[] => {
  const red = norm(l.axes, l.shape.length)
  return l.shape.map((d, i) => (red.includes(i) ? 1 : d))
}

/** The kept shape with its leading 1s dropped: also broadcasts to the kept shape. */
const stripLeading = (s: readonly number[]): number[] =>
  s.slice(
    Math.max(
      0,
      s.findIndex((d) => d !== 1),
    ),
  )

const values = (n: number, elem: fc.Arbitrary<number> = f32): fc.Arbitrary<number[]> =>
  fc.array(elem, { minLength: n, maxLength: n })

const nonNegative = f32.map(Math.abs)

interface Case extends Layout {
  readonly x: Ref
  readonly gamma: Ref | undefined
  readonly beta: Ref | undefined
  /** Cotangents of y, of the mean and of the variance. */
  readonly w: number[]
  readonly u: number[]
  readonly v: number[]
}

const caseArb: fc.Arbitrary<Case> = layoutArb.chain((l) => {
  const kept = keptShapeOf(l)
  const k = size(kept)
  const n = size(l.shape)
  return fc
    .record({
      x: values(n),
      gamma: fc.option(values(k), { nil: undefined }),
      beta: fc.option(values(k), { nil: undefined }),
      stripped: fc.boolean(),
      w: values(n),
      u: values(k),
      v: values(k),
    })
    .map((c) => {
      const pShape = c.stripped ? stripLeading(kept) : kept
      return {
        ...l,
        x: ref(l.shape, c.x),
        gamma: c.gamma === undefined ? undefined : ref(pShape, c.gamma),
        beta: c.beta === undefined ? undefined : ref(pShape, c.beta),
        w: c.w,
        u: c.u,
        v: c.v,
      }
    })
})

// ---------------------------------------------------------------------------------------
// The composition of primitives (float32) and an independent float64 reference

const composedTrain = (
  x: Tensor,
  g: Tensor | undefined,
  b: Tensor | undefined,
  axes: readonly number[],
  eps: number,
) => {
  const m = mean(x, axes, true)
  const v = variance(x, axes, true)
  const xHat = div(sub(x, m), sqrt(add(v, eps)))
  return { y: add(mul(g ?? 1, xHat), b ?? 0), mean: m, variance: v }
}

const composedBN = (
  x: Tensor,
  m: Tensor,
  v: Tensor,
  g: Tensor | undefined,
  b: Tensor | undefined,
  eps: number,
) => add(mul(g ?? 1, div(sub(x, m), sqrt(add(v, eps)))), b ?? 0)

/** Float64 batch statistics with keepDims, by explicit grouping of multi-indices. */
const refMoments = (x: Ref, axes: readonly number[]): { mean: Ref; variance: Ref } => {
  const red = norm(axes, x.shape.length)
  const kept = x.shape.map((d, i) => (red.includes(i) ? 1 : d))
  const k = size(kept)
  const groups: number[][] = Array.from({ length: k }, () => [])
  for (let i = 0; i < x.data.length; i++) groups[broadcastIndex(unravel(i, x.shape), kept)]!.push(x.data[i]!)
  const m = groups.map((g) => g.reduce((s, v) => s + v, 0) / g.length)
  const v = groups.map((g, j) => g.reduce((s, e) => s + (e - m[j]!) ** 2, 0) / g.length)
  return { mean: ref(kept, m), variance: ref(kept, v) }
}

const refBN = (x: Ref, m: Ref, v: Ref, g: Ref | undefined, b: Ref | undefined, eps: number): Ref =>
  mapN(
    [x, m, v, g ?? ref([], [1]), b ?? ref([], [0])],
    (xi, mi, vi, gi, bi) => (gi! * (xi! - mi!)) / Math.sqrt(vi! + eps) + bi!,
  )

const refTrain = (
  x: Ref,
  g: Ref | undefined,
  b: Ref | undefined,
  axes: readonly number[],
  eps: number,
): Ref => {
  const s = refMoments(x, axes)
  return refBN(x, s.mean, s.variance, g, b, eps)
}

// ---------------------------------------------------------------------------------------
// Closeness at float32 precision

/**
 * Fused and composed results must agree to `|fused − composed| ≤ TOL·(1 + scale)`, where
 * `scale` bounds the magnitude of the terms the composition rounds and sums to get that
 * value (given per quantity by {@link scalesOf}), not the magnitude of the result: a
 * gradient such as `dvariance = −½·gamma·s³·Σ g·(x − mean)` can be a small difference of
 * large terms, and the float32 composition is then only accurate relative to the terms.
 *
 * Why TOL = 1e-5: the fused ops compute in float64 and round once (error ~6e-8 relative).
 * The composition rounds to float32 (unit roundoff u = 6e-8) after each of at most ~15 ops
 * along any path of the forward and backward passes, so its error is ≲ 15·u ≈ 1e-6 of the
 * terms' magnitude; sums accumulate in float64 and add nothing measurable. The observed
 * maximum of `|fused − composed| / (1 + scale)` over 2,000 runs of each property is below
 * 1e-6 (2.1e-7, on a d/dx, in the run that set this constant). A wrong VJP term (a missing `Σg` or
 * `x̂·Σ(g·x̂)`, a wrong factor) is off by a fraction of `scale` itself, far above 1e-5.
 */
const TOL = 1e-5
const EPS = 1e-3

const expectCloseTo = (what: string, got: Tensor, want: Tensor, scale: number): void => {
  expect(got.shape, `${what}: shape`).toEqual(want.shape)
  const err = maxAbsDiff(got, want)
  if (!(err <= TOL * (1 + scale)))
    throw new Error(
      `${what}: max |fused − composed| = ${err} > ${TOL}·(1 + ${scale}) (shape [${want.shape}])`,
    )
}

const maxAbs = (r: Ref | undefined, fallback: number): number =>
  r === undefined ? fallback : r.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

/**
 * Bounds on the magnitudes of the terms of each computed quantity, from float64 maxima:
 * `S = max 1/sqrt(var + ε)`, `Γ = max|gamma|`, `G = max|g|`, `D = max|x − mean| + max|mean|`
 * (the rounding of `x − mean` is relative to `|x|` and `|mean|`), `N` elements per kept
 * position, `U` and `V` the cotangents of mean and variance.
 */
const scalesOf = (
  c: { x: Ref; gamma: Ref | undefined; beta: Ref | undefined; w: number[]; u?: number[]; v?: number[] },
  m: Ref,
  v: Ref,
) => {
  const S = 1 / Math.sqrt(v.data.reduce((a, b) => Math.min(a, b), Infinity) + EPS)
  const Gam = maxAbs(c.gamma, 1)
  const G = c.w.reduce((a, b) => Math.max(a, Math.abs(b)), 0)
  const U = (c.u ?? []).reduce((a, b) => Math.max(a, Math.abs(b)), 0)
  const V = (c.v ?? []).reduce((a, b) => Math.max(a, Math.abs(b)), 0)
  const D =
    maxAbs(
      mapN([c.x, m], (a, b) => a! - b!),
      0,
    ) + maxAbs(m, 0)
  const N = c.x.data.length / m.data.length
  const xHat = S * D
  return {
    y: Gam * xHat + maxAbs(c.beta, 0),
    mean: maxAbs(c.x, 0),
    variance: D * D,
    dxGiven: Gam * S * G,
    dxTrain: Gam * S * G * (2 + xHat * xHat) + (U + 2 * V * D) / N,
    dmean: N * Gam * S * G,
    dvariance: N * Gam * S * S * S * G * D,
    dgamma: N * G * xHat,
    dbeta: N * G,
    loss:
      c.x.data.length * G * (Gam * xHat + maxAbs(c.beta, 0)) +
      m.data.length * (U * maxAbs(c.x, 0) + V * D * D),
  }
}

const t32 = (r: Ref | undefined): Tensor | undefined => (r === undefined ? undefined : toTensor(r))

// ---------------------------------------------------------------------------------------

describe('moments', () => {
  it('equals mean and variance of the primitives, in value and gradient (both keepDims)', () =>
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, keepDims) => {
        const x = toTensor(c.x)
        const fused = moments(x, c.axes, keepDims)
        const m = mean(x, c.axes, keepDims)
        const v = variance(x, c.axes, keepDims)
        const st = refMoments(c.x, c.axes)
        const sc = scalesOf(c, st.mean, st.variance)
        expectCloseTo('mean', fused.mean, m, sc.mean)
        expectCloseTo('variance', fused.variance, v, sc.variance)
        const u = tensor(c.u, m.shape)
        const w = tensor(c.v, m.shape)
        const loss = (f: (x: Tensor) => { mean: Tensor; variance: Tensor }) => (p: { x: Tensor }) => {
          const r = f(p.x)
          return add(sum(mul(r.mean, u)), sum(mul(r.variance, w)))
        }
        const gf = valueAndGrad(loss((t) => moments(t, c.axes, keepDims)))({ x })
        const gc = valueAndGrad(
          loss((t) => ({ mean: mean(t, c.axes, keepDims), variance: variance(t, c.axes, keepDims) })),
        )({
          x,
        })
        expectCloseTo('d/dx', gf.grad.x, gc.grad.x, sc.dxTrain)
      }),
      runs(9100, 100),
    ))

  it('has the gradient of float64 central differences (mean and variance outputs)', () =>
    fc.assert(
      fc.property(caseArb, (c) => {
        checkGrad({
          name: `moments(${JSON.stringify(c.shape)}, axes ${JSON.stringify(c.axes)}).mean`,
          op: (x) => moments(x!, c.axes, true).mean,
          ref: (x) => refMoments(x!, c.axes).mean,
          inputs: [c.x],
          w: c.u,
        })
        checkGrad({
          name: `moments(${JSON.stringify(c.shape)}, axes ${JSON.stringify(c.axes)}).variance`,
          op: (x) => moments(x!, c.axes, true).variance,
          ref: (x) => refMoments(x!, c.axes).variance,
          inputs: [c.x],
          w: c.v,
        })
      }),
      runs(9101, 60),
    ))

  it('drops or keeps the reduced axes like mean, and reduces everything without axes', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3])
    expect(moments(x, [0, 2]).mean.shape).toEqual([2])
    expect(moments(x, [0, 2], true).variance.shape).toEqual([1, 2, 1])
    const all = moments(tensor([1, 2, 3, 4]))
    expect([all.mean.shape, all.mean.item(), all.variance.item()]).toEqual([[], 2.5, 1.25])
  })
})

describe('batchNormTrain', () => {
  it('equals the composition of primitives in value (y, mean, variance) and gradient (x, gamma, beta)', () =>
    fc.assert(
      fc.property(caseArb, (c) => {
        const x = toTensor(c.x)
        const gamma = t32(c.gamma)
        const beta = t32(c.beta)
        const fused = batchNormTrain(x, gamma, beta, c.axes, EPS, true)
        const comp = composedTrain(x, gamma, beta, c.axes, EPS)
        const st = refMoments(c.x, c.axes)
        const sc = scalesOf(c, st.mean, st.variance)
        expectCloseTo('y', fused.y, comp.y, sc.y)
        expectCloseTo('mean', fused.mean, comp.mean, sc.mean)
        expectCloseTo('variance', fused.variance, comp.variance, sc.variance)
        const w = tensor(c.w, c.shape)
        const u = tensor(c.u, comp.mean.shape)
        const v = tensor(c.v, comp.mean.shape)
        type P = { x: Tensor; gamma?: Tensor; beta?: Tensor }
        const loss = (f: typeof composedTrain) => (p: P) => {
          const r = f(p.x, p.gamma, p.beta, c.axes, EPS)
          return add(add(sum(mul(r.y, w)), sum(mul(r.mean, u))), sum(mul(r.variance, v)))
        }
        const params: P = { x, ...(gamma ? { gamma } : {}), ...(beta ? { beta } : {}) }
        const gf = valueAndGrad(loss((...a) => batchNormTrain(a[0], a[1], a[2], a[3], a[4], true)))(params)
        const gc = valueAndGrad(loss(composedTrain))(params)
        expectCloseTo('loss', gf.value, gc.value, sc.loss)
        expectCloseTo('d/dx', gf.grad.x, gc.grad.x, sc.dxTrain)
        if (gamma) expectCloseTo('d/dgamma', gf.grad.gamma!, gc.grad.gamma!, sc.dgamma)
        if (beta) expectCloseTo('d/dbeta', gf.grad.beta!, gc.grad.beta!, sc.dbeta)
      }),
      runs(9200, 150),
    ))

  it('has the gradient of float64 central differences, through the batch statistics', () =>
    fc.assert(
      fc.property(caseArb, (c) => {
        const name = `batchNormTrain(${JSON.stringify(c.shape)}, axes ${JSON.stringify(c.axes)})`
        const g = c.gamma ?? ref(keptShapeOf(c), new Float64Array(size(keptShapeOf(c))).fill(1.5))
        const b = c.beta ?? ref(keptShapeOf(c), new Float64Array(size(keptShapeOf(c))).fill(-0.5))
        checkGrad({
          name: `${name}.y`,
          op: (x, gamma, beta) => batchNormTrain(x!, gamma, beta, c.axes, EPS).y,
          ref: (x, gamma, beta) => refTrain(x!, gamma, beta, c.axes, EPS),
          inputs: [c.x, g, b],
          w: c.w,
        })
        checkGrad({
          name: `${name}.variance`,
          op: (x) => batchNormTrain(x!, undefined, undefined, c.axes, EPS, true).variance,
          ref: (x) => refMoments(x!, c.axes).variance,
          inputs: [c.x],
          w: c.v,
        })
      }),
      runs(9201, 60),
    ))

  it('matches a hand-worked example (Ioffe & Szegedy, Alg. 1)', () => {
    // columns: mean 2 and 20, biased variance 1 and 100; with ε = 0, x̂ = ±1
    const r = batchNormTrain(
      tensor([
        [1, 10],
        [3, 30],
      ]),
      tensor([2, 3]),
      tensor([0, 1]),
      0,
      0,
    )
    expect(r.y.toArray()).toEqual([
      [-2, -2],
      [2, 4],
    ])
    expect(r.mean.toArray()).toEqual([2, 20])
    expect(r.variance.toArray()).toEqual([1, 100])
    // one element per kept position: x̂ = 0, y = beta, and no gradient reaches x
    const one = valueAndGrad((p: { x: Tensor }) =>
      sum(mul(batchNormTrain(p.x, undefined, tensor([7]), 0).y, 3)),
    )({
      x: tensor([[5]]),
    })
    expect([one.value.item(), one.grad.x.item()]).toEqual([21, 0])
  })

  it('records nothing outside valueAndGrad, never writes its inputs, and checks shapes', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ])
    const before = Float32Array.from(x.data)
    const r = batchNormTrain(x, tensor([1, 1]), undefined, 0)
    expect([r.y.node, r.mean.node, r.variance.node]).toEqual([undefined, undefined, undefined])
    expect(Array.from(x.data)).toEqual(Array.from(before))
    expect(() => batchNormTrain(x, undefined, undefined, 2)).toThrow(ShapeError)
    expect(() => batchNormTrain(x, undefined, undefined, [0, 0])).toThrow(ShapeError)
    expect(() => batchNormTrain(x, tensor([1, 1, 1]), undefined, 0)).toThrow(/gamma of shape \[3\]/)
    expect(() => batchNormTrain(x, tensor([[1], [1]]), undefined, 0)).toThrow(/kept shape \[1,2\]/)
  })
})

describe('batchNorm (given statistics)', () => {
  /** A case plus statistics: a mean and a non-negative variance of the kept shape (or stripped). */
  const statsCaseArb = caseArb.chain((c) =>
    fc
      .record({
        m: values(size(keptShapeOf(c))),
        v: values(size(keptShapeOf(c)), nonNegative),
        stripped: fc.boolean(),
      })
      .map((s) => {
        const shape = s.stripped ? stripLeading(keptShapeOf(c)) : keptShapeOf(c)
        return { ...c, mean: ref(shape, s.m), variance: ref(shape, s.v) }
      }),
  )

  it('equals the composition of primitives in value and gradient (x, mean, variance, gamma, beta)', () =>
    fc.assert(
      fc.property(statsCaseArb, (c) => {
        type P = { x: Tensor; m: Tensor; v: Tensor; gamma?: Tensor; beta?: Tensor }
        const gamma = t32(c.gamma)
        const beta = t32(c.beta)
        const p: P = {
          x: toTensor(c.x),
          m: toTensor(c.mean),
          v: toTensor(c.variance),
          ...(gamma ? { gamma } : {}),
          ...(beta ? { beta } : {}),
        }
        const sc = scalesOf(c, c.mean, c.variance)
        expectCloseTo(
          'y',
          batchNorm(p.x, p.m, p.v, gamma, beta, EPS),
          composedBN(p.x, p.m, p.v, gamma, beta, EPS),
          sc.y,
        )
        const w = tensor(c.w, c.shape)
        const loss = (f: typeof composedBN) => (q: P) => sum(mul(f(q.x, q.m, q.v, q.gamma, q.beta, EPS), w))
        const gf = valueAndGrad(loss(batchNorm))(p)
        const gc = valueAndGrad(loss(composedBN))(p)
        const scales = { x: sc.dxGiven, m: sc.dmean, v: sc.dvariance, gamma: sc.dgamma, beta: sc.dbeta }
        for (const k of ['x', 'm', 'v', 'gamma', 'beta'] as const)
          if (p[k] !== undefined) expectCloseTo(`d/d${k}`, gf.grad[k]!, gc.grad[k]!, scales[k])
      }),
      runs(9300, 150),
    ))

  it('has the gradient of float64 central differences for all five inputs', () =>
    fc.assert(
      fc.property(statsCaseArb, (c) => {
        const kept = keptShapeOf(c)
        checkGrad({
          name: `batchNorm(${JSON.stringify(c.shape)}, stats ${JSON.stringify(c.mean.shape)})`,
          op: (x, m, v, g, b) => batchNorm(x!, m!, v!, g, b, EPS),
          ref: (x, m, v, g, b) => refBN(x!, m!, v!, g, b, EPS),
          inputs: [
            c.x,
            c.mean,
            c.variance,
            c.gamma ?? ref(kept, new Float64Array(size(kept)).fill(2)),
            c.beta ?? ref(kept, new Float64Array(size(kept)).fill(1)),
          ],
          w: c.w,
        })
      }),
      runs(9301, 60),
    ))

  it('broadcasts scalar and [h, w] statistics, and rejects statistics that would enlarge x', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2])
    const y = batchNorm(x, tensor(4), tensor(3), undefined, tensor([10, 20]), 1)
    expect(Array.from(y.data)).toEqual([8.5, 19, 9.5, 20, 10.5, 21, 11.5, 22])
    const hw = batchNorm(
      x,
      tensor([
        [1, 2],
        [3, 4],
      ]),
      tensor(0),
      undefined,
      undefined,
      1,
    )
    expect(Array.from(hw.data)).toEqual([0, 0, 0, 0, 4, 4, 4, 4])
    expect(() => batchNorm(x, tensor([1, 2, 3]), tensor(1), undefined, undefined)).toThrow(ShapeError)
    expect(() => batchNorm(x, tensor([[[[1]]]]), tensor(1), undefined, undefined)).toThrow(ShapeError)
    expect(() =>
      batchNorm(
        tensor([[1, 2]]),
        tensor([
          [1, 2],
          [3, 4],
        ]),
        tensor(1),
        undefined,
        undefined,
      ),
    ).toThrow(/does not broadcast to x of shape \[1,2\]/)
  })
})

describe('denseOp', () => {
  interface DenseCase {
    readonly lead: number[]
    readonly x: Ref
    readonly kernel: Ref
    readonly bias: Ref | undefined
    readonly activation: DenseActivation
    readonly w: number[]
  }
  /** x [...lead, K], kernel [K, N], an optional bias [N], a cotangent of the output. */
  const denseArb = (maxLead: number): fc.Arbitrary<DenseCase> =>
    fc
      .tuple(
        fc.array(dim(6), { minLength: 1, maxLength: maxLead }),
        dim(6),
        dim(9),
        fc.constantFrom<DenseActivation>('linear', 'relu'),
      )
      .chain(([lead, K, N, activation]) =>
        fc.record({
          lead: fc.constant(lead),
          x: values(size(lead) * K).map((v) => ref([...lead, K], v)),
          kernel: values(K * N).map((v) => ref([K, N], v)),
          bias: fc.option(
            values(N).map((v) => ref([N], v)),
            { nil: undefined },
          ),
          activation: fc.constant(activation),
          w: values(size(lead) * N),
        }),
      )

  const composedDense = (x: Tensor, k: Tensor, b: Tensor | undefined, act: DenseActivation) => {
    const z = b === undefined ? matmul(x, k) : add(matmul(x, k), b)
    return act === 'relu' ? relu(z) : z
  }
  type P = { x: Tensor; kernel: Tensor; bias?: Tensor }
  const gradsOf = (c: DenseCase, f: typeof composedDense) => {
    const p: P = {
      x: toTensor(c.x),
      kernel: toTensor(c.kernel),
      ...(c.bias ? { bias: toTensor(c.bias) } : {}),
    }
    const w = tensor(c.w, [...c.lead, c.kernel.shape[1]!])
    return valueAndGrad((q: P) => sum(mul(f(q.x, q.kernel, q.bias, c.activation), w)))(p)
  }
  const bits = (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(t.data).buffer))

  it('is bitwise the composition relu(add(matmul(x, W), b)) for 2-D x, in value and gradient', () =>
    fc.assert(
      fc.property(denseArb(1), (c) => {
        const [x, k, b] = [toTensor(c.x), toTensor(c.kernel), t32(c.bias)]
        expect(bits(denseOp(x, k, b, c.activation))).toEqual(bits(composedDense(x, k, b, c.activation)))
        const gf = gradsOf(c, (...a) => denseOp(...a))
        const gc = gradsOf(c, composedDense)
        expect(bits(gf.value)).toEqual(bits(gc.value))
        expect(bits(gf.grad.x)).toEqual(bits(gc.grad.x))
        expect(bits(gf.grad.kernel)).toEqual(bits(gc.grad.kernel))
        if (c.bias) expect(bits(gf.grad.bias!)).toEqual(bits(gc.grad.bias!))
      }),
      runs(9400, 150),
    ))

  it('equals the composition for more leading axes (dW to float32 rounding: all rows summed at once)', () =>
    fc.assert(
      fc.property(denseArb(3), (c) => {
        const [x, k, b] = [toTensor(c.x), toTensor(c.kernel), t32(c.bias)]
        const y = denseOp(x, k, b, c.activation)
        expect(y.shape).toEqual([...c.lead, c.kernel.shape[1]!])
        expect(bits(y)).toEqual(bits(composedDense(x, k, b, c.activation)))
        const gf = gradsOf(c, (...a) => denseOp(...a))
        const gc = gradsOf(c, composedDense)
        expect(bits(gf.grad.x)).toEqual(bits(gc.grad.x))
        if (c.bias) expect(bits(gf.grad.bias!)).toEqual(bits(gc.grad.bias!))
        // each dW element sums size(lead) products of |x|·|g| ≤ 3·3
        expectCloseTo('d/dkernel', gf.grad.kernel, gc.grad.kernel, 9 * size(c.lead))
      }),
      runs(9401, 100),
    ))

  it('has the gradient of float64 central differences (away from the ReLU kink)', () =>
    fc.assert(
      fc.property(denseArb(2), (c) => {
        /** x·W + b in float64, rows flattened, then the activation. */
        const refPre = (x: Ref, k: Ref, b: Ref | undefined): Ref => {
          const z = refMatmul(ref([size(c.lead), k.shape[0]!], x.data), k)
          return b === undefined ? z : mapN([z, b], (u, v) => u! + v!)
        }
        const refDense = (x: Ref, k: Ref, b: Ref | undefined): Ref => {
          const z = refPre(x, k, b)
          const y = c.activation === 'relu' ? mapN([z], (u) => Math.max(u!, 0)) : z
          return ref([...c.lead, k.shape[1]!], y.data)
        }
        // a pre-activation z[i,j] within 1e-2 of 0 is a kink for x's row i, W's column j and
        // b[j]. checkGrads detects one kink; but where two sit at the same point (z = 0 and
        // z = 1e-45 on one row) their jumps can cancel in the one-sided quotients, so skip them
        const z = refPre(c.x, c.kernel, c.bias)
        const [K, N] = c.kernel.shape as [number, number]
        const near = (i: number, j: number) => c.activation === 'relu' && Math.abs(z.data[i * N + j]!) < 1e-2
        const rows = size(c.lead)
        const rowNear = Array.from({ length: rows }, (_, i) =>
          Array.from({ length: N }, (_, j) => near(i, j)).some(Boolean),
        )
        const colNear = Array.from({ length: N }, (_, j) =>
          Array.from({ length: rows }, (_, i) => near(i, j)).some(Boolean),
        )
        const skip = [
          Array.from({ length: rows * K }, (_, e) => rowNear[Math.floor(e / K)]!),
          Array.from({ length: K * N }, (_, e) => colNear[e % N]!),
          colNear,
        ]
        checkGrad({
          name: `denseOp(${JSON.stringify(c.x.shape)}, ${JSON.stringify(c.kernel.shape)}, ${c.activation})`,
          op: (x, k, b) => denseOp(x!, k!, b, c.activation),
          ref: (x, k, b) => refDense(x!, k!, b),
          inputs: c.bias ? [c.x, c.kernel, c.bias] : [c.x, c.kernel],
          w: c.w,
          skip: c.bias ? skip : skip.slice(0, 2),
        })
      }),
      runs(9402, 100),
    ))

  it('runs large products on the worker pool with the same bits, and checks its arguments', () => {
    const M = 40
    const K = 61
    const N = 50
    const x = tensor(
      Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)),
      [M, K],
    )
    const k = tensor(
      Float32Array.from({ length: K * N }, (_, i) => Math.cos(i) / 4),
      [K, N],
    )
    const b = tensor(
      Float32Array.from({ length: N }, (_, i) => (i % 7) / 10 - 0.3),
      [N],
    )
    const c: DenseCase = {
      lead: [M],
      x: ref([M, K], x.data),
      kernel: ref([K, N], k.data),
      bias: ref([N], b.data),
      activation: 'relu',
      w: Array.from({ length: M * N }, (_, i) => ((i * 13) % 17) / 8 - 1),
    }
    expect(bits(denseOp(x, k, b, 'relu'))).toEqual(bits(composedDense(x, k, b, 'relu')))
    const gf = gradsOf(c, (...a) => denseOp(...a))
    const gc = gradsOf(c, composedDense)
    for (const p of ['x', 'kernel', 'bias'] as const) expect(bits(gf.grad[p]!)).toEqual(bits(gc.grad[p]!))
    expect(denseOp(x, k, undefined).node).toBeUndefined()
    expect(() => denseOp(tensor([1, 2]), tensor([[1], [2]]), undefined)).toThrow(ShapeError)
    expect(() => denseOp(x, tensor([[1], [2]]), undefined)).toThrow(/x \[40,61\] does not fit kernel \[2,1\]/)
    expect(() => denseOp(x, k, tensor([1, 2]))).toThrow(/bias \[2\] does not fit kernel \[61,50\]/)
    expect(() => denseOp(x, k, b, 'tanh' as DenseActivation)).toThrow(TypeError)
  })
})
