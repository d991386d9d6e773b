import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { leavesLike, leavesOf, mapLeaves } from '../src/internal/leaf-order.js'
import { isTensor, type Tensor, tensor, zeros } from '../src/tensor.js'
import type { Tree } from '../src/tree.js'
import * as tree from '../src/tree.js'
import { runs } from './helpers/gradcheck.js'

/** Random trees: nested objects and arrays whose leaves are small tensors. */
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }).map((s) => zeros(s)),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', '0', 'kernel'), tie('tree'), { maxKeys: 3 }),
  ),
})).tree

/** `t` with leaf number i replaced by the tensor [i], so that a leaf out of order shows. */
const numbered = (t: Tree): Tree => {
  let i = 0
  return tree.map(t, () => tensor([i++]))
}

/**
 * A reference for `leavesLike`: the structure of a tree written out (kinds, keys in order,
 * shapes). Two trees with the same text have the same structure.
 */
const structure = (t: unknown): string => {
  if (isTensor(t)) return `T[${t.shape.join(',')}]`
  if (Array.isArray(t)) return `[${t.map(structure).join(',')}]`
  const o = t as Record<string, unknown>
  return `{${Object.keys(o)
    .map((k) => `${JSON.stringify(k)}:${structure(o[k])}`)
    .join(',')}}`
}

/** A tree of the structure of `t` with fresh leaves of the same shapes. */
const copy = (t: Tree): Tree => tree.map(t, (l) => zeros(l.shape))

describe('walking a tree in leaf order without paths', () => {
  it('property: leavesOf is the leaves of tree.flatten, the same tensors in the same order', () =>
    fc.assert(
      fc.property(treeArb.map(numbered), (t) => {
        const got = leavesOf(t)
        const want = tree.flatten(t).map(([, l]) => l)
        expect(got.length).toBe(want.length)
        for (const [i, l] of got.entries()) expect(l).toBe(want[i])
      }),
      runs(1400, 80),
    ))

  it('property: mapLeaves is tree.map without the paths (same structure, arrays stay arrays)', () =>
    fc.assert(
      fc.property(treeArb.map(numbered), (t) => {
        const f = (l: Tensor) => tensor([l.data[0]! * 2])
        const got = mapLeaves(t, f)
        expect(got).toStrictEqual(tree.map(t, f))
        expect(structure(got)).toBe(structure(t))
      }),
      runs(1401, 80),
    ))

  it('names the path of a node that is not a tree exactly as tree.flatten does', () => {
    const bad = [
      { dense: { kernel: zeros([1]), units: 3 } },
      { layers: [zeros([1]), { w: [zeros([1]), 'x'] }] },
      { '': { a: null } },
      7,
    ]
    for (const t of bad) {
      const message = (() => {
        try {
          tree.flatten(t as unknown as Tree)
        } catch (e) {
          return (e as Error).message
        }
        throw new Error('tree.flatten accepted a bad tree')
      })()
      expect(message).toMatch(/^tree: leaf at ".*" is a \w+, not a tensor$/)
      expect(() => leavesOf(t)).toThrow(message)
      expect(() => mapLeaves(t, (l) => l)).toThrow(message)
      expect(() => tree.leaves(t as unknown as Tree)).toThrow(message)
      expect(() => tree.unflatten(t as unknown as Tree, [])).toThrow(message)
    }
    expect(() => leavesOf({ layers: [zeros([1]), { w: [zeros([1]), 'x'] }] })).toThrow(
      'tree: leaf at "layers.1.w.1" is a string, not a tensor',
    )
  })

  it('leavesLike: the leaves of a tree of the very structure of the reference, in order', () => {
    const ref = { a: zeros([2]), b: [zeros([1, 3]), { k: zeros([]) }] }
    const t = { a: tensor([1, 2]), b: [tensor([[3, 4, 5]]), { k: tensor(6) }] }
    const got = leavesLike(ref, t)
    expect(got).toBeDefined()
    expect(got!.map((l) => l.toArray())).toEqual([[1, 2], [[3, 4, 5]], 6])
    expect(got![1]).toBe(t.b[0])
  })

  it('leavesLike: undefined for any other structure, even one with the same paths', () => {
    const a = zeros([2])
    const ref = { a, b: [a, a] }
    const others: unknown[] = [
      { b: [a, a], a }, // keys in another order
      { a: zeros([3]), b: [a, a] }, // another shape
      { a: zeros([1, 2]), b: [a, a] }, // another rank
      { a, b: { 0: a, 1: a } }, // an object where the reference has an array: same paths
      { a, b: [a] }, // a shorter array
      { a, b: [a, a, a] }, // a longer array
      { a, b: [a, a], c: a }, // an extra key
      { a }, // a missing key
      { a, b: [a, [a]] }, // a subtree where the reference has a leaf
      { a: { x: a }, b: [a, a] },
      { a, b: [a, 5] }, // not a tree
      [a, [a, a]],
      a,
    ]
    for (const t of others) expect(leavesLike(ref, t)).toBeUndefined()
    // a hole in an array
    const holey: Tensor[] = [a, a]
    delete holey[1]
    expect(leavesLike({ a, b: [a, a] }, { a, b: holey })).toBeUndefined()
    expect(leavesLike({ a, b: holey }, { a, b: holey })).toBeUndefined()
  })

  it('property: leavesLike finds the leaves exactly when the structures are the same', () =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(treeArb, treeArb),
          treeArb.map((t): [Tree, Tree] => [t, copy(t)]),
        ),
        ([ref, t]) => {
          const got = leavesLike(ref, t)
          if (structure(ref) === structure(t)) {
            expect(got).toBeDefined()
            const want = tree.leaves(t)
            expect(got!.length).toBe(want.length)
            for (const [i, l] of got!.entries()) expect(l).toBe(want[i])
            // what makes it a safe shortcut for code that compares paths
            expect(tree.flatten(t).map(([p, l]) => [p, l.shape])).toEqual(
              tree.flatten(ref).map(([p, l]) => [p, l.shape]),
            )
          } else expect(got).toBeUndefined()
        },
      ),
      runs(1402, 150),
    ))
})
