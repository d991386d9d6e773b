import { type Tensor, tensor, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { clipByGlobalNorm, clipByNorm, clipByValue, clipGradients, globalNorm } from '../src/index.js'
import { bits, problemArb, values } from './helpers/trees.js'

const norm = (x: Tensor): number => Math.sqrt(Array.from(x.data).reduce((s, v) => s + v * v, 0))
const dot = (a: Tensor, b: Tensor): number => Array.from(a.data).reduce((s, v, i) => s + v * b.data[i]!, 0)
const bound = fc.float({ min: Math.fround(0.01), max: Math.fround(20), noNaN: true })
const params = problemArb({ min: 1, max: 1 }).map(([, [g]]) => g!)

describe('clipByValue (Keras clipvalue)', () => {
  it('bounds every element and leaves the elements within the bound unchanged', () => {
    fc.assert(
      fc.property(params, bound, (g, v) => {
        const { updates } = clipByValue(v).update(g, {}, g)
        const before = values(g)
        values(updates).forEach((x, i) => {
          expect(Math.abs(x)).toBeLessThanOrEqual(v)
          if (Math.abs(before[i]!) <= v) expect(x).toBe(before[i])
          else expect(x).toBe(Math.sign(before[i]!) * v)
        })
      }),
      { seed: 21, numRuns: 100 },
    )
  })

  it("changes the direction: the chapter's [0.9, 100] becomes [0.9, 1]", () => {
    const g = { w: tensor([0.9, 100]) }
    expect(values(clipByValue(1).update(g, {}, g).updates)).toEqual([Math.fround(0.9), 1])
  })
})

describe('clipByNorm (Keras clipnorm)', () => {
  it('bounds each tensor norm by c·(1 + 1e-6) and keeps its direction; unchanged when already under c', () => {
    fc.assert(
      fc.property(params, bound, (g, c) => {
        const { updates } = clipByNorm(c).update(g, {}, g)
        const pairs = tree.leaves(g).map((x, i) => [x, tree.leaves(updates)[i]!] as const)
        for (const [x, y] of pairs) {
          expect(y.shape).toEqual(x.shape)
          expect(norm(y)).toBeLessThanOrEqual(c * (1 + 1e-6))
          if (norm(x) <= c) expect(bits(y)).toEqual(bits(x))
          else {
            expect(dot(x, y) / (norm(x) * norm(y))).toBeGreaterThan(1 - 1e-6)
            expect(norm(y)).toBeGreaterThan(c * (1 - 1e-6))
          }
        }
      }),
      { seed: 22, numRuns: 100 },
    )
  })

  it("keeps the direction of the chapter's [0.9, 100]: [0.00899964, 0.9999595]", () => {
    const g = { w: tensor([0.9, 100]) }
    const [a, b] = values(clipByNorm(1).update(g, {}, g).updates)
    expect(a).toBeCloseTo(0.00899964, 7)
    expect(b).toBeCloseTo(0.9999595, 6)
  })

  it('scales each tensor by its own factor', () => {
    const g = { a: tensor([3, 4]), b: tensor([0.3, 0.4]) }
    const { updates } = clipByNorm(1).update(g, {}, g)
    expect(values(updates.a)).toEqual([Math.fround(0.6), Math.fround(0.8)])
    expect(updates.b).toBe(g.b)
  })
})

describe('clipByGlobalNorm (Keras global_clipnorm)', () => {
  it('bounds the global norm, with one factor for every tensor', () => {
    fc.assert(
      fc.property(params, bound, (g, c) => {
        const { updates } = clipByGlobalNorm(c).update(g, {}, g)
        const n = globalNorm(g)
        expect(globalNorm(updates)).toBeLessThanOrEqual(c * (1 + 1e-6))
        if (n <= c) expect(updates).toBe(g)
        else {
          const factor = c / n
          const before = values(g)
          values(updates).forEach((y, i) => {
            expect(Math.abs(y - before[i]! * factor)).toBeLessThanOrEqual(
              1e-6 * Math.abs(before[i]! * factor) + 1e-30,
            )
          })
        }
      }),
      { seed: 23, numRuns: 100 },
    )
  })

  it('globalNorm is the norm of all elements together', () => {
    expect(globalNorm({ a: tensor([3]), b: [tensor([[4]])] })).toBe(5)
    expect(globalNorm({})).toBe(0)
  })
})

describe('clipGradients (the optimizers’ clipValue/clipNorm/globalClipNorm)', () => {
  it('clips by value first, then by norm: both bounds hold', () => {
    fc.assert(
      fc.property(params, bound, bound, (g, v, c) => {
        const tx = clipGradients({ clipValue: v, clipNorm: c })
        const { updates } = tx.update(g, tx.init(g), g)
        const byValue = clipByValue(v).update(g, {}, g).updates
        const expected = clipByNorm(c).update(byValue, {}, g).updates
        expect(bits(updates)).toEqual(bits(expected))
        for (const x of tree.leaves(updates)) {
          expect(norm(x)).toBeLessThanOrEqual(c * (1 + 1e-6))
          for (const e of x.data) expect(Math.abs(e)).toBeLessThanOrEqual(v)
        }
      }),
      { seed: 24, numRuns: 100 },
    )
  })

  it('value then norm differs from norm then value (the order is tf.keras 2.4+)', () => {
    const g = { w: tensor([3, 0.5]) }
    const tx = clipGradients({ clipValue: 1, clipNorm: 1 })
    const [a, b] = values(tx.update(g, tx.init(g), g).updates)
    // [3, 0.5] → [1, 0.5] → / ‖[1, 0.5]‖ = 1.118
    expect(a).toBeCloseTo(1 / Math.sqrt(1.25), 6)
    expect(b).toBeCloseTo(0.5 / Math.sqrt(1.25), 6)
  })

  it('combines clipValue with globalClipNorm', () => {
    const g = { a: tensor([3]), b: tensor([4, 0.1]) }
    const tx = clipGradients({ clipValue: 1, globalClipNorm: 1 })
    const r = values(tx.update(g, tx.init(g), g).updates)
    const n = Math.hypot(1, 1, Math.fround(0.1))
    expect(r[0]).toBeCloseTo(1 / n, 6)
    expect(r[2]).toBeCloseTo(Math.fround(0.1) / n, 6)
  })

  it('refuses clipNorm with globalClipNorm and bad bounds', () => {
    expect(() => clipGradients({ clipNorm: 1, globalClipNorm: 1 })).toThrow(/cannot be used together/)
    expect(() => clipByNorm(0)).toThrow(RangeError)
    expect(() => clipByGlobalNorm(-1)).toThrow(RangeError)
    expect(() => clipByValue(Number.NaN)).toThrow(RangeError)
  })

  it('is the identity with no option', () => {
    const g = { w: tensor([100]) }
    const tx = clipGradients()
    expect(tx.init(g)).toEqual([])
    expect(tx.update(g, [], g).updates).toBe(g)
  })
})
