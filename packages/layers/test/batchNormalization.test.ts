import { key, sum, type Tensor, tensor, tree, valueAndGrad } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type BatchNormalizationParams,
  type BatchNormalizationState,
  batchNormalization,
} from '../src/batchNormalization.js'
import type { ApplyOptions } from '../src/layer.js'
import { fromConfig } from '../src/registry.js'
import { chapterModel } from './helpers/chapter.js'

const batchNormalizationFromConfig = (config: unknown) =>
  fromConfig({ kind: 'BatchNormalization', config: config as { [k: string]: unknown } })

// ---------------------------------------------------------------------------------------
// Arbitraries and an independent float64 reference

/** Inputs in [−5, 5], 32-bit bounds (docs/contributing/style.md §9). */
const f32 = fc.float({ min: Math.fround(-5), max: Math.fround(5), noNaN: true })
const positive = fc.float({ min: Math.fround(0.1), max: Math.fround(5), noNaN: true })
const values = (n: number, elem: fc.Arbitrary<number> = f32) => fc.array(elem, { minLength: n, maxLength: n })
const runs = (seed: number, numRuns = 40) => ({ seed, numRuns })
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1)

/** A layout: input shape with its batch axis, the layer's `axis` option, the kept axes normalized. */
interface Layout {
  readonly shape: number[]
  readonly axis: number | number[]
  readonly kept: number[]
}

const dim = (lo: number, hi: number) => fc.integer({ min: lo, max: hi })

/** 2-D features, 4-D NHWC (axis −1), NCHW (axis 1), per-pixel (axis [1, 2] on 3-D), and [1, 3] on 4-D. */
const layoutArb: fc.Arbitrary<Layout> = fc.oneof(
  fc.tuple(dim(2, 8), dim(1, 4)).map(([b, f]) => ({ shape: [b, f], axis: -1, kept: [1] })),
  fc
    .tuple(dim(2, 3), dim(1, 3), dim(1, 3), dim(1, 3))
    .map(([b, h, w, c]) => ({ shape: [b, h, w, c], axis: -1, kept: [3] })),
  fc
    .tuple(dim(2, 3), dim(1, 3), dim(1, 3), dim(1, 3))
    .map(([b, c, h, w]) => ({ shape: [b, c, h, w], axis: 1, kept: [1] })),
  fc
    .tuple(dim(2, 4), dim(1, 3), dim(1, 3))
    .map(([b, h, w]) => ({ shape: [b, h, w], axis: [1, 2], kept: [1, 2] })),
  fc
    .tuple(dim(2, 3), dim(1, 3), dim(1, 3), dim(1, 3))
    .map(([b, h, w, c]) => ({ shape: [b, h, w, c], axis: [1, -1], kept: [1, 3] })),
)

/** Kept position of each element of `shape` (row-major over the kept axes). */
const keptIndex = (shape: readonly number[], kept: readonly number[]): number[] => {
  const out: number[] = []
  for (let i = 0; i < size(shape); i++) {
    let rest = i
    const idx = new Array<number>(shape.length)
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rest % shape[d]!
      rest = Math.floor(rest / shape[d]!)
    }
    out.push(kept.reduce((p, a) => p * shape[a]! + idx[a]!, 0))
  }
  return out
}

/** Float64 batch mean and biased variance per kept position. */
const refStats = (x: readonly number[], idx: readonly number[], k: number) => {
  const n = new Array<number>(k).fill(0)
  const mean = new Array<number>(k).fill(0)
  const variance = new Array<number>(k).fill(0)
  x.forEach((v, i) => {
    n[idx[i]!]!++
    mean[idx[i]!]! += v
  })
  mean.forEach((m, j) => {
    mean[j] = m / n[j]!
  })
  x.forEach((v, i) => {
    variance[idx[i]!]! += (v - mean[idx[i]!]!) ** 2
  })
  variance.forEach((s, j) => {
    variance[j] = s / n[j]!
  })
  return { mean, variance }
}

/** Float64 batch normalization: batch statistics when `stats` is absent (training), else the given ones. */
const refBN = (
  x: readonly number[],
  idx: readonly number[],
  gamma: readonly number[],
  beta: readonly number[],
  eps: number,
  stats?: { mean: readonly number[]; variance: readonly number[] },
): number[] => {
  const s = stats ?? refStats(x, idx, gamma.length)
  return x.map((v, i) => {
    const j = idx[i]!
    return (gamma[j]! * (v - s.mean[j]!)) / Math.sqrt(s.variance[j]! + eps) + beta[j]!
  })
}

const f32s = (xs: readonly number[]) => Array.from(Float32Array.from(xs))

/** A layout with an input batch, gamma, beta, moving statistics and a cotangent. */
const caseArb = layoutArb.chain((l) => {
  const k = l.kept.reduce((p, a) => p * l.shape[a]!, 1)
  const n = size(l.shape)
  return fc
    .record({
      x: values(n),
      gamma: values(k),
      beta: values(k),
      movingMean: values(k),
      movingVariance: values(k, positive),
      w: values(n),
    })
    .map((c) => ({ ...l, k, idx: keptIndex(l.shape, l.kept), ...c }))
})
type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never

/** The layer, initialized for the case's shape, with the case's params and state poured in. */
const setup = (c: Case, opts: { momentum?: number; epsilon?: number } = {}) => {
  const layer = batchNormalization({ axis: c.axis, ...opts })
  const init = layer.init(key(0), c.shape.slice(1))
  const pShape = init.params.gamma!.shape
  const params: BatchNormalizationParams = { gamma: tensor(c.gamma, pShape), beta: tensor(c.beta, pShape) }
  const state: BatchNormalizationState = {
    movingMean: tensor(c.movingMean, pShape),
    movingVariance: tensor(c.movingVariance, pShape),
  }
  return { layer, init, params, state, x: tensor(c.x, c.shape) }
}

const train: ApplyOptions = { training: true }
const infer: ApplyOptions = { training: false }

// ---------------------------------------------------------------------------------------

describe('batchNormalization: training mode', () => {
  it('per kept position, the output has mean ≈ beta and variance ≈ gamma²·var/(var + ε)', () =>
    fc.assert(
      fc.property(caseArb, (c) => {
        const { layer, params, state, x } = setup(c)
        const y = Array.from(layer.apply(params, state, x, train).y.data)
        const batch = refStats(c.x, c.idx, c.k)
        const out = refStats(y, c.idx, c.k)
        // y is the float64 result rounded once to float32 (relative error 2⁻²⁴ ≈ 6e-8); its
        // float64 statistics are then off by ≲ 6e-8·max|y| (mean) and ≲ 1.2e-7·max|y|² (variance).
        // Tolerance: 1e-5·(1 + max|y|) and 1e-5·(1 + max|y|²), two orders above that bound.
        const yMax = y.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
        for (let j = 0; j < c.k; j++) {
          const v = batch.variance[j]!
          expect(Math.abs(out.mean[j]! - c.beta[j]!)).toBeLessThanOrEqual(1e-5 * (1 + yMax))
          const want = (c.gamma[j]! ** 2 * v) / (v + 1e-3)
          expect(Math.abs(out.variance[j]! - want)).toBeLessThanOrEqual(1e-5 * (1 + yMax * yMax))
        }
      }),
      runs(5100, 100),
    ))

  it('equals the float64 formula on 2-D and 4-D inputs, for every axis choice', () =>
    fc.assert(
      fc.property(caseArb, (c) => {
        const { layer, params, state, x } = setup(c)
        const y = layer.apply(params, state, x, train).y
        const want = refBN(c.x, c.idx, c.gamma, c.beta, 1e-3)
        const yMax = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
        expect(y.shape).toEqual(c.shape)
        // one float32 rounding of a float64 computation: |y − ref| ≤ 2⁻²⁴·|ref| < 1e-6·(1 + max|ref|)
        want.forEach((v, i) => {
          expect(Math.abs(y.data[i]! - v)).toBeLessThanOrEqual(1e-6 * (1 + yMax))
        })
      }),
      runs(5101, 100),
    ))

  it('updates the moving statistics exactly as moving·momentum + batch·(1 − momentum), biased variance', () =>
    fc.assert(
      fc.property(caseArb, fc.double({ min: 0, max: 1, noNaN: true }), (c, momentum) => {
        const { layer, params, state, x } = setup(c, { momentum })
        const next = layer.apply(params, state, x, train).state
        const batch = refStats(c.x, c.idx, c.k)
        const check = (got: Tensor, moving: readonly number[], b: readonly number[]) =>
          moving.forEach((m, j) => {
            const want = m * momentum + b[j]! * (1 - momentum)
            // float32 precision: the batch statistic, momentum and 1 − momentum are rounded to
            // float32, then two products and a sum: ≤ 6 roundings of 2⁻²⁴ relative to the terms.
            const scale = Math.abs(m * momentum) + Math.abs(b[j]! * (1 - momentum))
            expect(Math.abs(got.data[j]! - want)).toBeLessThanOrEqual(6 * 2 ** -24 * scale + 1e-30)
          })
        expect(next.movingMean.shape).toEqual(state.movingMean.shape)
        check(next.movingMean, c.movingMean, batch.mean)
        check(next.movingVariance, c.movingVariance, batch.variance)
      }),
      runs(5102, 100),
    ))

  it('starts from moving mean 0 and variance 1, and after one step of the default momentum holds 1% of the batch', () => {
    const layer = batchNormalization()
    const { params, state } = layer.init(key(0), [2])
    expect([state.movingMean.toArray(), state.movingVariance.toArray()]).toEqual([
      [0, 0],
      [1, 1],
    ])
    expect([params.gamma!.toArray(), params.beta!.toArray()]).toEqual([
      [1, 1],
      [0, 0],
    ])
    // columns: mean 2 and 20, biased variance 1 and 100 (the unbiased one would be 2 and 200)
    const next = layer.apply(
      params,
      state,
      tensor([
        [1, 10],
        [3, 30],
      ]),
      train,
    ).state
    const near = (t: Tensor, want: number[]) => {
      want.forEach((w, i) => {
        expect(t.data[i]).toBeCloseTo(w, 6)
      })
    }
    near(next.movingMean, [0.02, 0.2])
    near(next.movingVariance, [0.99 + 0.01, 0.99 + 1])
  })

  it('keeps the moving statistics off the tape: the new state has no gradient history', () => {
    const layer = batchNormalization()
    const { params, state } = layer.init(key(0), [3])
    const x = tensor([
      [1, 2, 3],
      [4, 5, 9],
    ])
    const { aux } = valueAndGrad(
      (p: { x: Tensor; params: BatchNormalizationParams }) => {
        const r = layer.apply(p.params, state, p.x, train)
        expect([r.state.movingMean.node, r.state.movingVariance.node]).toEqual([undefined, undefined])
        return [sum(r.y), r.state] as const
      },
      { hasAux: true },
    )({ x, params })
    expect(aux.movingMean.shape).toEqual([3])
  })
})

describe('batchNormalization: inference mode', () => {
  it('normalizes with the moving statistics only: other rows of the batch do not matter, state unchanged', () =>
    fc.assert(
      fc.property(
        caseArb.chain((c) => values(size(c.shape)).map((other) => ({ c, other }))),
        ({ c, other }) => {
          const { layer, params, state, x } = setup(c)
          const r = layer.apply(params, state, x, infer)
          expect(r.state).toBe(state)
          const want = refBN(c.x, c.idx, c.gamma, c.beta, 1e-3, {
            mean: c.movingMean,
            variance: c.movingVariance,
          })
          const yMax = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
          want.forEach((v, i) => {
            expect(Math.abs(r.y.data[i]! - v)).toBeLessThanOrEqual(1e-6 * (1 + yMax))
          })
          // replace every row but the first: the first row's output is bitwise the same
          const row = size(c.shape.slice(1))
          const mixed = tensor([...c.x.slice(0, row), ...other.slice(row)], c.shape)
          const y2 = layer.apply(params, state, mixed, infer).y
          expect(Array.from(y2.data.slice(0, row))).toEqual(Array.from(r.y.data.slice(0, row)))
        },
      ),
      runs(5200, 60),
    ))
})

describe('batchNormalization: a frozen layer runs in inference mode and never changes its state', () => {
  const frozenOpts = fc.constantFrom<ApplyOptions>(
    { training: true, trainable: false },
    { training: true, trainable: { gamma: false, beta: false } },
    { training: true, trainable: [false, { beta: false }] },
    { training: true, dropout: true, trainable: false },
    { training: false, trainable: false },
  )

  it('whatever the batch, the frozen output is the inference output and the state is returned as is', () =>
    fc.assert(
      fc.property(caseArb, frozenOpts, (c, opts) => {
        const { layer, params, state, x } = setup(c)
        const r = layer.apply(params, state, x, opts)
        expect(r.state).toBe(state)
        expect(Array.from(r.state.movingMean.data)).toEqual(f32s(c.movingMean))
        expect(Array.from(r.state.movingVariance.data)).toEqual(f32s(c.movingVariance))
        expect(Array.from(r.y.data)).toEqual(Array.from(layer.apply(params, state, x, infer).y.data))
      }),
      runs(5300, 60),
    ))

  it('a partly trainable layer (gamma frozen, beta trainable) still trains, as does an empty mask', () => {
    const layer = batchNormalization()
    const { params, state } = layer.init(key(0), [2])
    const x = tensor([
      [1, 2],
      [3, 5],
    ])
    for (const trainable of [{ gamma: false, beta: true }, true, {}])
      expect(layer.apply(params, state, x, { training: true, trainable }).state).not.toBe(state)
  })
})

describe('batchNormalization: axes and parameter arithmetic', () => {
  it('axis [1, 2] on (batch, h, w) gives per-pixel params of shape [1, h, w]: 4·h·w parameters', () =>
    fc.assert(
      fc.property(dim(1, 6), dim(1, 6), (h, w) => {
        const { params, state, outputShape } = batchNormalization({ axis: [1, 2] }).init(key(0), [h, w])
        expect(params.gamma!.shape).toEqual([1, h, w])
        expect(state.movingVariance.shape).toEqual([1, h, w])
        expect(tree.count(params) + tree.count(state)).toBe(4 * h * w)
        expect(outputShape).toEqual([h, w])
      }),
      runs(5400, 20),
    ))

  it('single kept axes give [d] params (features, NHWC channels, NCHW channels)', () => {
    expect(batchNormalization().init(key(0), [784]).params.beta!.shape).toEqual([784])
    expect(batchNormalization().init(key(0), [5, 5, 3]).params.gamma!.shape).toEqual([3])
    expect(batchNormalization({ axis: 1 }).init(key(0), [3, 5, 5]).state.movingMean.shape).toEqual([3])
    expect(batchNormalization({ axis: -3 }).init(key(0), [3, 5, 5]).state.movingMean.shape).toEqual([3])
  })

  it('center and scale switch beta and gamma off; the statistics stay', () => {
    const both = batchNormalization({ center: false, scale: false }).init(key(0), [4])
    expect(Object.keys(both.params)).toEqual([])
    expect(tree.count(both.state)).toBe(8)
    const layer = batchNormalization({ scale: false })
    const { params, state } = layer.init(key(0), [2])
    expect(Object.keys(params)).toEqual(['beta'])
    const y = layer.apply(
      { beta: tensor([10, 20]) },
      state,
      tensor([
        [1, 10],
        [3, 30],
      ]),
      { training: true },
    )
    y.y.data.forEach((v, i) => {
      expect(v).toBeCloseTo([9, 19, 11, 21][i]!, 2)
    })
  })

  it("counts the chapter's model: 271,346 parameters, 2,368 of them non-trainable", () => {
    const model = chapterModel()
    const { params, state } = model.init(key(42), [28, 28])
    expect(tree.count(params.batch_normalization) + tree.count(state.batch_normalization)).toBe(4 * 784)
    expect([tree.count(params) + tree.count(state), tree.count(state)]).toEqual([271_346, 2_368])
  })

  it('rejects the batch axis, out-of-range and repeated axes, and inputs that do not match the params', () => {
    expect(() => batchNormalization({ axis: 0 }).init(key(0), [3])).toThrow(/batch axis/)
    expect(() => batchNormalization({ axis: -3 }).init(key(0), [3])).toThrow(/out of range/)
    expect(() => batchNormalization({ axis: [1, -1] }).init(key(0), [3])).toThrow(/repeated axis/)
    expect(() => batchNormalization({ axis: [] })).toThrow(/at least one axis/)
    expect(() => batchNormalization({ axis: 1.5 })).toThrow(/integer/)
    expect(() => batchNormalization({ momentum: 1.5 })).toThrow(/momentum must be in \[0, 1\], got 1.5/)
    expect(() => batchNormalization({ epsilon: -1 })).toThrow(/epsilon/)
    const layer = batchNormalization()
    const { params, state } = layer.init(key(0), [3])
    expect(() => layer.apply(params, state, tensor([[1, 2]]), infer)).toThrow(/has 2 positions along axis -1/)
  })
})

describe('batchNormalization: gradients against float64 finite differences', () => {
  /**
   * `checkGrads` of `@purenn/testing`: central differences `(L(p + h) − L(p − h))/2h`,
   * `h = 1e-6`, of `L = Σ w·y` computed entirely in float64 by {@link refBN}. Tolerance
   * `|analytic − numeric| ≤ 1e-3·(1 + |numeric|)`: the analytic gradient is float32 (error
   * ≲ 1e-5 relative to the terms, which the 1/σ ≤ 32 factor can amplify to ~1e-4 on small
   * results); the central difference has truncation error ~h²·|L‴| < 1e-7 (σ ≥ sqrt(ε)) and
   * rounding error ~1e-16·|L|/h < 1e-8. A wrong VJP is off by O(1). Batch norm is smooth: no
   * element may be taken for a kink.
   */
  for (const [mode, opts] of [
    ['training (through the batch statistics)', train],
    ['inference (moving statistics)', infer],
  ] as const)
    it(`in ${mode}: with respect to x, gamma and beta`, () =>
      fc.assert(
        fc.property(caseArb, (c) => {
          const { layer, params, state, x } = setup(c)
          const stats = opts.training
            ? undefined
            : { mean: f32s(c.movingMean), variance: f32s(c.movingVariance) }
          const r = checkGrads(
            (xt: Tensor, gamma: Tensor, beta: Tensor) => layer.apply({ gamma, beta }, state, xt, opts).y,
            [x, params.gamma!, params.beta!],
            {
              cotangent: c.w,
              reference: (xv, gv, bv) =>
                refBN(Array.from(xv), c.idx, Array.from(gv), Array.from(bv), 1e-3, stats),
            },
          )
          expect(r.kinks).toBe(0)
        }),
        runs(opts.training ? 5500 : 5501, 40),
      ))
})

describe('batchNormalization: config', () => {
  it('rebuilds from its config (Right) and reports bad configs (Left) naming the field', () => {
    const layer = batchNormalization({
      axis: [1, 2],
      momentum: 0.9,
      epsilon: 1e-5,
      center: false,
      name: 'bn',
    })
    const back = batchNormalizationFromConfig(JSON.parse(JSON.stringify(layer.config)))
    expect(E.isRight(back) && back.right.config).toEqual(layer.config)
    expect(layer.config).toEqual({
      axis: [1, 2],
      momentum: 0.9,
      epsilon: 1e-5,
      center: false,
      scale: true,
      name: 'bn',
    })
    const bad = batchNormalizationFromConfig({ ...layer.config, momentum: 'high' })
    expect(E.isLeft(bad) && bad.left).toMatch(/BatchNormalization config: .*momentum/)
    const outOfRange = batchNormalizationFromConfig({ ...layer.config, momentum: 2 })
    expect(E.isLeft(outOfRange) && outOfRange.left).toMatch(/momentum must be in \[0, 1\]/)
  })

  it('is deterministic: init ignores the key, and apply returns fresh state without touching its inputs', () => {
    const layer = batchNormalization()
    const a = layer.init(key(1), [3])
    const b = layer.init(key(2), [3])
    expect(tree.leaves(a.params).map((t) => t.toArray())).toEqual(
      tree.leaves(b.params).map((t) => t.toArray()),
    )
    const x = tensor([
      [1, 2, 3],
      [2, 4, 8],
    ])
    const r = layer.apply(a.params, a.state, x, train)
    expect(a.state.movingMean.toArray()).toEqual([0, 0, 0])
    expect(Array.from(x.data)).toEqual([1, 2, 3, 2, 4, 8])
    expect(r.state.movingMean.toArray()).not.toEqual([0, 0, 0])
  })
})
