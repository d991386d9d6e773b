import { type Key, key, mul, split, sum, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { batchNormalization } from '../src/batchNormalization.js'
import { dropout, mcDropout } from '../src/dropout.js'
import { fromConfig } from '../src/registry.js'

const dropoutFromConfig = (config: unknown) =>
  fromConfig({ kind: 'Dropout', config: config as { [k: string]: unknown } })
const mcDropoutFromConfig = (config: unknown) =>
  fromConfig({ kind: 'MCDropout', config: config as { [k: string]: unknown } })

import type { AnyLayer, ApplyOptions } from '../src/layer.js'
import { sequential } from '../src/sequential.js'

/** Inputs in [−5, 5], 32-bit bounds (docs/contributing/style.md §9); `nonZero` so that a dropped unit is recognizable. */
const f32 = fc.float({ min: Math.fround(-5), max: Math.fround(5), noNaN: true })
const nonZero = f32.filter((v) => Math.abs(v) >= 1e-3)
const runs = (seed: number, numRuns = 40) => ({ seed, numRuns })
const rateArb = fc.double({ min: 0, max: 0.95, noNaN: true })
const keyArb = fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((s) => key(s))
const shapeArb = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 })).map(([b, f]) => [b, f]),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }))
    .map((s) => s),
)
const batchArb = (elem: fc.Arbitrary<number>) =>
  shapeArb.chain((shape) =>
    fc
      .array(elem, {
        minLength: shape.reduce((p, d) => p * d, 1),
        maxLength: shape.reduce((p, d) => p * d, 1),
      })
      .map((xs) => tensor(xs, shape)),
  )

const run = (layer: AnyLayer, x: Tensor, opts: ApplyOptions): Tensor => {
  const { params, state } = layer.init(key(0), x.shape.slice(1))
  return layer.apply(params, state, x, opts).y
}

/** The kept mask of an output whose input had no zeros. */
const maskOf = (y: Tensor): number[] => Array.from(y.data, (v) => (v === 0 ? 0 : 1))

describe('dropout: inference is the identity', () => {
  it('with training false (key or not), or dropout false even while training', () =>
    fc.assert(
      fc.property(batchArb(f32), rateArb, keyArb, (x, rate, k) => {
        const layer = dropout({ rate })
        for (const opts of [
          { training: false },
          { training: false, key: k },
          { training: true, dropout: false },
          { training: true, dropout: false, key: k },
        ])
          expect(run(layer, x, opts)).toBe(x)
      }),
      runs(6100),
    ))
})

describe('dropout: training mode', () => {
  it('zeroes each unit with probability rate and scales the kept ones by exactly 1/(1 − rate)', () =>
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 0.95, noNaN: true }), keyArb, (rate, k) => {
        const n = 10_000
        const x = tensor(
          Array.from({ length: n }, (_, i) => 1 + (i % 7) / 8),
          [4, n / 4],
        )
        const y = run(dropout({ rate }), x, { training: true, key: k })
        const scale = Math.fround(1 / (1 - rate))
        let dropped = 0
        y.data.forEach((v, i) => {
          if (v === 0) dropped++
          else expect(v).toBe(Math.fround(x.data[i]! * scale))
        })
        // dropped ~ Binomial(n, rate): |dropped − n·rate| ≤ 5σ, σ = sqrt(n·rate·(1 − rate)) ≤ 50;
        // a correct layer fails this with probability < 6e-7 per run.
        const sigma = Math.sqrt(n * rate * (1 - rate))
        expect(Math.abs(dropped - n * rate)).toBeLessThanOrEqual(5 * sigma)
      }),
      runs(6200, 20),
    ))

  it('{ training: true } and { training: false, dropout: true } both drop; rate 0 keeps everything', () => {
    const x = tensor(
      Array.from({ length: 64 }, (_, i) => i + 1),
      [2, 32],
    )
    const a = run(dropout({ rate: 0.5 }), x, { training: true, key: key(3) })
    const b = run(dropout({ rate: 0.5 }), x, { training: false, dropout: true, key: key(3) })
    expect(Array.from(a.data)).toEqual(Array.from(b.data))
    expect(maskOf(a)).toContain(0)
    expect(Array.from(run(dropout({ rate: 0 }), x, { training: true, key: key(3) }).data)).toEqual(
      Array.from(x.data),
    )
  })

  it('needs a key: a clear error otherwise', () => {
    const x = tensor([[1, 2]])
    expect(() => run(dropout({ rate: 0.5 }), x, { training: true })).toThrow(
      'dropout: training mode needs a key (pass { training: true, key })',
    )
    expect(() => run(mcDropout({ rate: 0.5 }), x, { training: false })).toThrow(/mcDropout: .* needs a key/)
  })

  it('the gradient with respect to the input is mask·1/(1 − rate), exactly', () =>
    fc.assert(
      fc.property(batchArb(nonZero), batchArb(f32), rateArb, keyArb, (x, wAny, rate, k) => {
        const w = tensor(
          Array.from(x.data, (_, i) => wAny.data[i % wAny.size]!),
          x.shape,
        )
        const layer = dropout({ rate })
        const y = run(layer, x, { training: true, key: k })
        const { grad } = valueAndGrad((p: { x: Tensor }) =>
          sum(mul(run(layer, p.x, { training: true, key: k }), w)),
        )({
          x,
        })
        const scale = Math.fround(1 / (1 - rate))
        // y = x·m·s is linear in x: its float64 central difference is m·s·w exactly, which the
        // float32 gradient matches up to the one rounding of w·s
        const mask = maskOf(y)
        // (+ 0 turns −0, from a negative w times a dropped unit, into 0)
        expect(Array.from(grad.x.data, (v) => v + 0)).toEqual(
          mask.map((m, i) => (m === 0 ? 0 : Math.fround(w.data[i]! * scale) + 0)),
        )
      }),
      runs(6300),
    ))
})

describe('dropout: masks depend only on the key', () => {
  it('same key, same mask (whatever the values and the layer kind); different keys, different masks', () =>
    fc.assert(
      fc.property(batchArb(nonZero), fc.double({ min: 0.1, max: 0.9, noNaN: true }), keyArb, (x, rate, k) => {
        const [k1, k2] = split(k, 2) as [Key, Key]
        const other = tensor(
          Array.from(x.data, (v) => -2 * v),
          x.shape,
        )
        const m1 = maskOf(run(dropout({ rate }), x, { training: true, key: k1 }))
        expect(maskOf(run(dropout({ rate }), other, { training: true, key: k1 }))).toEqual(m1)
        expect(maskOf(run(mcDropout({ rate }), x, { training: false, key: k1 }))).toEqual(m1)
        if (x.size >= 64)
          expect(maskOf(run(dropout({ rate }), x, { training: true, key: k2 }))).not.toEqual(m1)
      }),
      runs(6400, 60),
    ))
})

describe('mcDropout: stochastic at inference too', () => {
  it('drops with training false, and two keys give two different outputs', () =>
    fc.assert(
      fc.property(keyArb, fc.double({ min: 0.1, max: 0.9, noNaN: true }), (k, rate) => {
        const x = tensor(
          Array.from({ length: 200 }, (_, i) => i + 1),
          [2, 100],
        )
        const [k1, k2] = split(k, 2) as [Key, Key]
        const layer = mcDropout({ rate })
        const a = run(layer, x, { training: false, key: k1 })
        const b = run(layer, x, { training: false, key: k2 })
        expect(maskOf(a)).toContain(0)
        expect(Array.from(a.data)).not.toEqual(Array.from(b.data))
        // even `dropout: false` cannot switch it off: it is the chapter's MCDropout(training=True)
        expect(Array.from(run(layer, x, { training: false, dropout: false, key: k1 }).data)).toEqual(
          Array.from(a.data),
        )
      }),
      runs(6500, 20),
    ))
})

describe('Monte Carlo dropout with batch normalization: { training: false, dropout: true }', () => {
  it('drops units while batch norm normalizes with its moving statistics and keeps its state', () => {
    const model = sequential([batchNormalization(), dropout({ rate: 0.5 })])
    const { params, state } = model.init(key(0), [64])
    const x = tensor(
      Array.from({ length: 4 * 64 }, (_, i) => (i % 13) - 6),
      [4, 64],
    )
    const plain = model.apply(params, state, x, { training: false })
    const mc = model.apply(params, state, x, { training: false, dropout: true, key: key(1) })
    // batch norm used the moving statistics (0 and 1) and left them as they were
    expect(mc.state.batch_normalization).toBe(state.batch_normalization)
    // each unit is the inference output, either dropped or doubled
    let dropped = 0
    mc.y.data.forEach((v, i) => {
      if (v === 0) dropped++
      else expect(v).toBe(Math.fround(plain.y.data[i]! * 2))
    })
    expect(dropped).toBeGreaterThan(0)
    // with training: true instead, batch norm uses the batch and moves its statistics
    const trained = model.apply(params, state, x, { training: true, key: key(1) })
    expect(trained.state.batch_normalization.movingMean.toArray()).not.toEqual(
      state.batch_normalization.movingMean.toArray(),
    )
  })
})

describe('dropout: options and config', () => {
  it('rate must be in [0, 1)', () => {
    for (const rate of [-0.1, 1, 1.5, Number.NaN]) {
      expect(() => dropout({ rate })).toThrow(/dropout: rate must be in \[0, 1\)/)
      expect(() => mcDropout({ rate })).toThrow(/mcDropout: rate must be in \[0, 1\)/)
    }
  })

  it('rebuilds from config, and rejects bad configs with a Left', () => {
    const d = dropout({ rate: 0.2, name: 'drop' })
    const m = mcDropout({ rate: 0.3 })
    expect([d.kind, d.config, m.kind, m.config]).toEqual([
      'Dropout',
      { rate: 0.2, name: 'drop' },
      'MCDropout',
      { rate: 0.3 },
    ])
    const back = dropoutFromConfig(d.config)
    expect(E.isRight(back) && [back.right.kind, back.right.config]).toEqual(['Dropout', d.config])
    const mBack = mcDropoutFromConfig(m.config)
    expect(E.isRight(mBack) && [mBack.right.kind, mBack.right.config]).toEqual(['MCDropout', m.config])
    const bad = dropoutFromConfig({ rate: 'half' })
    expect(E.isLeft(bad) && bad.left).toMatch(/^Dropout config: .*rate/)
    const outOfRange = mcDropoutFromConfig({ rate: 1 })
    expect(E.isLeft(outOfRange) && outOfRange.left).toBe('MCDropout config: rate must be in [0, 1), got 1')
  })

  it('has no params and keeps the shape', () => {
    const { params, state, outputShape } = dropout({ rate: 0.5 }).init(key(0), [28, 28])
    expect([params, state, outputShape]).toEqual([{}, {}, [28, 28]])
  })
})
