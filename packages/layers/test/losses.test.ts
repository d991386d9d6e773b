import { type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  getLoss,
  type LossName,
  meanSquaredError,
  sparseCategoricalCrossentropy,
} from '../src/index.js'
import { expectClose, t32 } from './helpers/fd64.js'

// Float64 references of Keras' formulas. The clipping bounds are the float32 values the
// float32 computation uses: ε = fround(1e-7) and 1 − ε rounds to fround(1 − 1e-7) = 1 − 2⁻²³.
const EPS = Math.fround(1e-7)
const ONE_MINUS_EPS = Math.fround(1 - 1e-7)
const clip64 = (p: number) => Math.min(Math.max(p, EPS), ONE_MINUS_EPS)
const logSoftmaxRow = (z: ArrayLike<number>): number[] => {
  const m = Math.max(...Array.from(z))
  const lse = m + Math.log(Array.from(z).reduce((s, v) => s + Math.exp(v - m), 0))
  return Array.from(z, (v) => v - lse)
}
const rowsOf = (a: ArrayLike<number>, cols: number): number[][] =>
  Array.from({ length: a.length / cols }, (_, r) => Array.from(a).slice(r * cols, (r + 1) * cols))
const mean64 = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length

const sparseRef = (labels: readonly number[], p: ArrayLike<number>, c: number, fromLogits: boolean) =>
  mean64(
    rowsOf(p, c).map((row, r) =>
      fromLogits ? -logSoftmaxRow(row)[labels[r]!]! : -Math.log(clip64(row[labels[r]!]!)),
    ),
  )
const categoricalRef = (y: ArrayLike<number>, p: ArrayLike<number>, c: number, fromLogits: boolean) =>
  mean64(
    rowsOf(p, c).map((row, r) => {
      const s = row.reduce((a, v) => a + v, 0)
      const logP = fromLogits ? logSoftmaxRow(row) : row.map((v) => Math.log(clip64(v / s)))
      return -logP.reduce((a, l, k) => a + y[r * c + k]! * l, 0)
    }),
  )
const binaryRef = (y: ArrayLike<number>, p: ArrayLike<number>, fromLogits: boolean) =>
  mean64(
    Array.from(p, (v, i) => {
      const t = y[i]!
      if (fromLogits) return Math.max(v, 0) - t * v + Math.log1p(Math.exp(-Math.abs(v)))
      const q = clip64(v)
      return -(t * Math.log(q + 1e-7) + (1 - t) * Math.log(1 - q + 1e-7))
    }),
  )

const gradOf = (f: (p: Tensor) => Tensor, p: Tensor): Tensor => valueAndGrad(f)(p).grad

/** Batches of logits in [−3, 3] (float32-exact), with labels. */
const batchArb = fc
  .record({ rows: fc.integer({ min: 1, max: 4 }), classes: fc.integer({ min: 2, max: 5 }) })
  .chain(({ rows, classes }) =>
    fc.record({
      rows: fc.constant(rows),
      classes: fc.constant(classes),
      z: fc.array(
        fc.integer({ min: -3 * 256, max: 3 * 256 }).map((i) => i / 256),
        {
          minLength: rows * classes,
          maxLength: rows * classes,
        },
      ),
      labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: rows, maxLength: rows }),
    }),
  )

/** Probabilities in [0.05, 0.95], away from the clipping bounds (float32-exact). */
const probsArb = (n: number) =>
  fc.array(
    fc.integer({ min: 205, max: 3891 }).map((i) => i / 4096),
    { minLength: n, maxLength: n },
  )

describe('sparseCategoricalCrossentropy', () => {
  it("Keras' documented example: 1.177", () => {
    const loss = sparseCategoricalCrossentropy()
    const v = loss
      .fn(
        tensor([1, 2]),
        tensor([
          [0.05, 0.95, 0],
          [0.1, 0.8, 0.1],
        ]),
      )
      .item()
    expect(v).toBeCloseTo(1.1769392, 6)
  })

  it('values and gradients on probabilities match float64 formulas and finite differences', () =>
    fc.assert(
      fc.property(
        batchArb.chain((b) => fc.record({ b: fc.constant(b), p: probsArb(b.rows * b.classes) })),
        ({ b, p }) => {
          const loss = sparseCategoricalCrossentropy()
          const yTrue = tensor(b.labels)
          const pt = t32(p, [b.rows, b.classes])
          expectClose('value', [loss.fn(yTrue, pt).item()], [sparseRef(b.labels, p, b.classes, false)], 1e-5)
          checkGrads((q: Tensor) => loss.fn(yTrue, q), [pt], {
            reference: (x) => [sparseRef(b.labels, x, b.classes, false)],
            cotangent: [1],
          })
        },
      ),
      { seed: 11, numRuns: 40 },
    ))

  it('values and gradients from logits match float64 log-softmax and finite differences', () =>
    fc.assert(
      fc.property(batchArb, (b) => {
        const loss = sparseCategoricalCrossentropy({ fromLogits: true })
        const yTrue = tensor(b.labels.map((l) => [l])) // labels [batch, 1] also fit
        const zt = t32(b.z, [b.rows, b.classes])
        expectClose('value', [loss.fn(yTrue, zt).item()], [sparseRef(b.labels, b.z, b.classes, true)], 1e-5)
        checkGrads((q: Tensor) => loss.fn(yTrue, q), [zt], {
          reference: (x) => [sparseRef(b.labels, x, b.classes, true)],
          cotangent: [1],
        })
      }),
      { seed: 12, numRuns: 40 },
    ))

  it('clips probabilities of exactly 0 and 1 to [1e-7, 1 − 1e-7]', () => {
    const v = sparseCategoricalCrossentropy()
      .fn(
        tensor([0, 1]),
        tensor([
          [0, 1],
          [0, 1],
        ]),
      )
      .item()
    expect(v).toBeCloseTo((-Math.log(EPS) - Math.log(ONE_MINUS_EPS)) / 2, 5)
    expect(Number.isFinite(v)).toBe(true)
  })

  it('is stable from logits of ±1e4', () => {
    const loss = sparseCategoricalCrossentropy({ fromLogits: true })
    const z = tensor([
      [1e4, -1e4, 0],
      [1e4, -1e4, 0],
    ])
    expect(loss.fn(tensor([0, 1]), z).item()).toBe(1e4) // (0 + 2e4)/2
    const g = gradOf((q) => loss.fn(tensor([0, 1]), q), z)
    expect(g.toArray()).toEqual([
      [0, 0, 0],
      [0.5, -0.5, 0],
    ])
  })

  it('is cheap: on probabilities, only the label entries get a gradient, −1/(batch·p)', () => {
    const p = tensor([
      [0.2, 0.5, 0.3],
      [0.25, 0.25, 0.5],
    ])
    const g = gradOf((q) => sparseCategoricalCrossentropy().fn(tensor([1, 2]), q), p).toArray() as number[][]
    expect(g[0]![0]).toBe(0)
    expect(g[0]![2]).toBe(0)
    expect(g[0]![1]).toBeCloseTo(-1 / (2 * 0.5), 6)
    expect(g[1]![2]).toBeCloseTo(-1 / (2 * 0.5), 6)
  })

  it('rejects labels that are not class indices, and shapes that do not fit', () => {
    const loss = sparseCategoricalCrossentropy()
    const p = tensor([
      [0.5, 0.5],
      [0.5, 0.5],
    ])
    expect(() => loss.fn(tensor([0, 2]), p)).toThrow(
      'sparseCategoricalCrossentropy: label 2 at row 1 is not a class index in [0, 2)',
    )
    expect(() => loss.fn(tensor([0.5, 1]), p)).toThrow(/label 0.5 at row 0/)
    expect(() => loss.fn(tensor([0, 1, 1]), p)).toThrow(
      /labels of shape \[3\] do not fit predictions of shape \[2,2\]/,
    )
    expect(() => loss.fn(tensor([0]), tensor([0.5]))).toThrow(
      /predictions must have shape \[batch, classes\]/,
    )
  })
})

describe('categoricalCrossentropy', () => {
  it("Keras' documented example: 1.177; predictions are divided by their row sum", () => {
    const loss = categoricalCrossentropy()
    const y = tensor([
      [0, 1, 0],
      [0, 0, 1],
    ])
    expect(
      loss
        .fn(
          y,
          tensor([
            [0.05, 0.95, 0],
            [0.1, 0.8, 0.1],
          ]),
        )
        .item(),
    ).toBeCloseTo(1.1769392, 6)
    expect(loss.fn(tensor([[0, 1]]), tensor([[1, 3]])).item()).toBeCloseTo(-Math.log(0.75), 6)
  })

  it('values and gradients (probabilities and logits) match float64 formulas and finite differences', () =>
    fc.assert(
      fc.property(
        batchArb.chain((b) => fc.record({ b: fc.constant(b), p: probsArb(b.rows * b.classes) })),
        fc.boolean(),
        ({ b, p }, fromLogits) => {
          const loss = categoricalCrossentropy({ fromLogits })
          const oneHot = Array.from({ length: b.rows * b.classes }, (_, i) =>
            b.labels[Math.floor(i / b.classes)] === i % b.classes ? 1 : 0,
          )
          const yTrue = t32(oneHot, [b.rows, b.classes])
          const x = fromLogits ? b.z : p
          const xt = t32(x, [b.rows, b.classes])
          const ref = (xs: readonly Float64Array[]) => categoricalRef(oneHot, xs[0]!, b.classes, fromLogits)
          expectClose('value', [loss.fn(yTrue, xt).item()], [ref([Float64Array.from(x)])], 1e-5)
          checkGrads((q: Tensor) => loss.fn(yTrue, q), [xt], { reference: (v) => [ref([v])], cotangent: [1] })
        },
      ),
      { seed: 13, numRuns: 40 },
    ))

  it('is stable from logits of ±1e4 and rejects different shapes', () => {
    const loss = categoricalCrossentropy({ fromLogits: true })
    expect(loss.fn(tensor([[0, 1]]), tensor([[1e4, -1e4]])).item()).toBe(2e4)
    expect(() => loss.fn(tensor([[0, 1]]), tensor([[1, 2, 3]]))).toThrow(
      /targets of shape \[1,2\] do not fit predictions of shape \[1,3\]/,
    )
  })
})

describe('binaryCrossentropy', () => {
  it("Keras' documented example: 11.522857 (float32, clipping at 0 and 1)", () => {
    const v = binaryCrossentropy()
      .fn(tensor([0, 0, 1, 1]), tensor([1, 1, 1, 0]))
      .item()
    expect(v).toBeCloseTo(11.522857, 5)
    expect(v).toBeCloseTo(binaryRef([0, 0, 1, 1], [1, 1, 1, 0], false), 5)
  })

  it('clips exactly 0 and 1 probabilities: −ln(2e-7) for a wrong 0, ≈ −ln(2.19e-7) for a wrong 1', () => {
    const loss = binaryCrossentropy()
    expect(loss.fn(tensor([[1]]), tensor([[0]])).item()).toBeCloseTo(-Math.log(2e-7), 4)
    expect(loss.fn(tensor([[0]]), tensor([[1]])).item()).toBeCloseTo(-Math.log(1 - ONE_MINUS_EPS + 1e-7), 4)
    expect(loss.fn(tensor([[1]]), tensor([[1]])).item()).toBeCloseTo(0, 6)
  })

  it('values and gradients (probabilities and logits) match float64 formulas and finite differences', () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.record({
            p: probsArb(n),
            z: fc.array(
              fc.integer({ min: -3 * 256, max: 3 * 256 }).map((i) => i / 256),
              { minLength: n, maxLength: n },
            ),
            y: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
          }),
        ),
        fc.boolean(),
        ({ p, z, y }, fromLogits) => {
          const loss = binaryCrossentropy({ fromLogits })
          const x = fromLogits ? z : p
          const xt = t32(x, [x.length, 1])
          const yTrue = tensor(y) // [batch] fits [batch, 1]
          const ref = (xs: readonly Float64Array[]) => binaryRef(y, xs[0]!, fromLogits)
          expectClose('value', [loss.fn(yTrue, xt).item()], [ref([Float64Array.from(x)])], 1e-5)
          checkGrads((q: Tensor) => loss.fn(yTrue, q), [xt], { reference: (v) => [ref([v])], cotangent: [1] })
        },
      ),
      { seed: 14, numRuns: 40 },
    ))

  it('from logits: stable for ±1e4, and the gradient σ(z) − y is right at z = 0 too', () => {
    const loss = binaryCrossentropy({ fromLogits: true })
    const z = tensor([1e4, -1e4, 1e4, -1e4, 0])
    const y = tensor([1, 0, 0, 1, 1])
    expect(loss.fn(y, z).item()).toBeCloseTo((0 + 0 + 1e4 + 1e4 + Math.log(2)) / 5, 2)
    expectClose('gradient', gradOf((q) => loss.fn(y, q), z).data, [0, 0, 0.2, -0.2, -0.1], 1e-6)
  })
})

describe('meanSquaredError', () => {
  it("Keras' documented example: 0.5; gradient 2(ŷ − y)/n", () => {
    const loss = meanSquaredError()
    const y = tensor([
      [0, 1],
      [0, 0],
    ])
    const p = tensor([
      [1, 1],
      [1, 0],
    ])
    expect(loss.fn(y, p).item()).toBe(0.5)
    expect(gradOf((q) => loss.fn(y, q), p).toArray()).toEqual([
      [0.5, 0],
      [0.5, 0],
    ])
  })

  it('targets [batch] fit predictions [batch, 1]; other shapes do not broadcast silently', () => {
    const loss = meanSquaredError()
    expect(loss.fn(tensor([1, 2]), tensor([[1], [4]])).item()).toBe(2)
    expect(() => loss.fn(tensor([1, 2]), tensor([[1, 1]]))).toThrow(
      /targets of shape \[2\] do not fit predictions of shape \[1,2\]/,
    )
  })
})

describe('getLoss', () => {
  it('maps names to losses and passes losses through', () => {
    const names: LossName[] = [
      'sparseCategoricalCrossentropy',
      'categoricalCrossentropy',
      'binaryCrossentropy',
      'meanSquaredError',
    ]
    expect(names.map((n) => getLoss(n).name)).toEqual(names)
    const custom = { name: 'zero', fn: () => tensor([0]) }
    expect(getLoss(custom)).toBe(custom)
    expect(() => getLoss('mse' as LossName)).toThrow(/unknown loss 'mse'/)
  })
})
