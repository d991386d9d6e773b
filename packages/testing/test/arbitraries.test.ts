import { add, isTensor, type Tensor, type Tree, tree, uniform, zeros } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { broadcastShapesArb, float32Arb, keyArb, paramsArb, shapeArb, tensorArb } from '../src/index.js'

const runs = { seed: 21, numRuns: 200 }

describe('arbitraries', () => {
  it('shapeArb stays within its rank and axis bounds, and reaches them', () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(shapeArb({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 3 }), (s) => {
        expect(s.length >= 1 && s.length <= 3).toBe(true)
        expect(s.every((d) => d === 2 || d === 3)).toBe(true)
        seen.add(`${s.length}:${Math.max(...s)}`)
      }),
      runs,
    )
    expect(seen).toContain('3:3')
    expect(seen).toContain('1:2')
    expect(() => shapeArb({ minRank: 3, maxRank: 1 })).toThrow(/minRank ≤ maxRank/)
  })

  it('broadcastShapesArb: the operands broadcast, to the first shape returned, with size-1 and missing axes', () => {
    let ones = 0
    let shorter = 0
    fc.assert(
      fc.property(broadcastShapesArb(3), ([out, ...shapes]) => {
        const r = shapes.reduce((acc: Tensor, s) => add(acc, zeros(s)), zeros([]))
        expect(r.shape).toEqual(out)
        if (shapes.some((s) => s.includes(1))) ones++
        if (shapes.some((s) => s.length < out!.length)) shorter++
      }),
      runs,
    )
    expect(ones).toBeGreaterThan(20)
    expect(shorter).toBeGreaterThan(20)
  })

  it('float32Arb: exact in float32, in range, on the grid; anyFloat32 adds off-grid values', () => {
    fc.assert(
      fc.property(float32Arb({ min: -0.5, max: 2, step: 2 ** -8 }), (v) => {
        expect(Math.fround(v)).toBe(v)
        expect(v >= -0.5 && v <= 2).toBe(true)
        expect(Number.isInteger(v * 2 ** 8)).toBe(true)
      }),
      runs,
    )
    const any = fc.sample(float32Arb({ anyFloat32: true }), { seed: 1, numRuns: 200 })
    expect(any.every((v) => Math.fround(v) === v && v >= -3 && v <= 3)).toBe(true)
    expect(any.some((v) => !Number.isInteger(v * 2 ** 12))).toBe(true)
    expect(() => float32Arb({ step: 0.1 })).toThrow(/power of two/)
    expect(() => float32Arb({ min: 2, max: 1 })).toThrow(/min ≤ max/)
  })

  it('tensorArb: the shape given (fixed or drawn) and values from float32Arb', () => {
    fc.assert(
      fc.property(tensorArb(shapeArb({ maxRank: 2 }), { min: 0, max: 1 }), (t) => {
        expect(t.size).toBe(t.shape.reduce((p, d) => p * d, 1))
        expect(t.data.every((v) => v >= 0 && v <= 1)).toBe(true)
      }),
      runs,
    )
    expect(fc.sample(tensorArb([2, 3]), { seed: 2, numRuns: 5 }).every((t) => t.shape.join() === '2,3')).toBe(
      true,
    )
  })

  it('keyArb: keys that give reproducible, distinct streams', () => {
    const draws = fc.sample(keyArb(), { seed: 3, numRuns: 20 }).map((k) => uniform(k, [2]).toString())
    expect(new Set(draws).size).toBeGreaterThan(15)
  })

  it('paramsArb: an object of at least one key whose leaves are tensors, nesting within maxDepth', () => {
    const depth = (t: Tree): number =>
      isTensor(t) ? 0 : 1 + Math.max(...Object.values(t as Record<string, Tree>).map(depth))
    fc.assert(
      fc.property(paramsArb({ maxDepth: 2, maxWidth: 2 }), (p) => {
        expect(Object.keys(p).length).toBeGreaterThanOrEqual(1)
        expect(tree.leaves(p).length).toBeGreaterThanOrEqual(1)
        expect(depth(p)).toBeLessThanOrEqual(3)
      }),
      runs,
    )
  })
})
