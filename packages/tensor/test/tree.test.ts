import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, mul } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { isTensor, ones, type Tensor, tensor, zeros } from '../src/tensor.js'
import type { Tree, TreeOf } from '../src/tree.js'
import * as tree from '../src/tree.js'
import { runs } from './helpers/gradcheck.js'

const model = () => ({
  dense_1: { kernel: ones([2, 3]), bias: zeros([3]) },
  batch_normalization: { gamma: ones([3]), beta: zeros([3]) },
  layers: [{ kernel: ones([3, 1]) }, tensor([7])] as [{ kernel: Tensor }, Tensor],
})

/** Random trees: nested objects and arrays whose leaves are small tensors. */
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }).map((s) => zeros(s)),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'kernel', 'bias', 'dense_1'), tie('tree'), { maxKeys: 3 }),
  ),
})).tree

/** A random boolean mask that fits `t`, stopping early (a boolean for a whole subtree) at random. */
const prefixMaskArb = (t: Tree): fc.Arbitrary<TreeOf<boolean>> => {
  if (isTensor(t)) return fc.boolean()
  const children = Object.entries(t as Readonly<Record<string, Tree>>)
  const deeper = fc
    .tuple(...children.map(([, c]) => prefixMaskArb(c)))
    .map(
      (ms): TreeOf<boolean> =>
        Array.isArray(t) ? ms : Object.fromEntries(children.map(([k], i) => [k, ms[i]!])),
    )
  return fc.oneof(fc.boolean(), deeper)
}

/** The mask's value at a dotted path, walking down until a boolean (a reference for maskLeaves). */
const lookup = (mask: TreeOf<boolean>, path: string): boolean => {
  let m: unknown = mask
  for (const k of path === '' ? [] : path.split('.')) {
    if (typeof m === 'boolean') return m
    m = (m as Readonly<Record<string, unknown>>)[k]
  }
  if (typeof m !== 'boolean') throw new Error(`no boolean at ${path}`)
  return m
}

describe('tree', () => {
  it('map applies f to every leaf, keeps the structure and passes dotted paths', () => {
    const paths: string[] = []
    const doubled = tree.map(model(), (t, path) => {
      paths.push(path)
      return mul(t, 2)
    })
    expect(paths).toEqual([
      'dense_1.kernel',
      'dense_1.bias',
      'batch_normalization.gamma',
      'batch_normalization.beta',
      'layers.0.kernel',
      'layers.1',
    ])
    expect(doubled.dense_1.kernel.toArray()).toEqual([
      [2, 2, 2],
      [2, 2, 2],
    ])
    expect(Array.isArray(doubled.layers)).toBe(true)
    expect(doubled.layers[1].toArray()).toEqual([14])
    // a tensor is a tree too; its path is ''
    expect(tree.map(tensor([1]), (t, path) => (path === '' ? add(t, 1) : t)).toArray()).toEqual([2])
    // leaves of another type: a trainable mask
    const mask = tree.map(model(), (_t, path) => !path.startsWith('batch_normalization'))
    expect(mask).toEqual({
      dense_1: { kernel: true, bias: true },
      batch_normalization: { gamma: false, beta: false },
      layers: [{ kernel: true }, true],
    })
  })

  it('map rejects a leaf that is not a tensor, naming its path', () => {
    const bad = { dense: { units: 3 } } as unknown as Tree
    expect(() => tree.map(bad, (t) => t)).toThrow(ShapeError)
    expect(() => tree.map(bad, (t) => t)).toThrow('tree: leaf at "dense.units" is a number, not a tensor')
  })

  it('map2 zips two trees of the same structure', () => {
    const s = tree.map2(model(), model(), (x, y, path) => (path === 'layers.1' ? mul(x, y) : add(x, y)))
    expect(s.dense_1.bias.toArray()).toEqual([0, 0, 0])
    expect(s.batch_normalization.gamma.toArray()).toEqual([2, 2, 2])
    expect(s.layers[1].toArray()).toEqual([49])
    // key order does not matter; the first tree's order is kept
    const swapped = tree.map2({ a: ones([1]), b: zeros([1]) }, { b: ones([1]), a: ones([1]) }, add)
    expect(Object.keys(swapped)).toEqual(['a', 'b'])
    expect(swapped.b.toArray()).toEqual([1])
  })

  it('map2 on different structures throws an error naming both structures', () => {
    const t = ones([2])
    expect(() => tree.map2({ w: t, b: ones([1]) }, { w: t }, add)).toThrow(ShapeError)
    expect(() => tree.map2({ w: t, b: ones([1]) }, { w: t }, add)).toThrow(
      'tree.map2: structures differ at "(root)": {w: Tensor[2], b: Tensor[1]} vs {w: Tensor[2]}',
    )
    expect(() => tree.map2({ w: t }, { w: t, b: ones([1]) }, add)).toThrow(
      'tree.map2: structures differ at "(root)": {w: Tensor[2]} vs {w: Tensor[2], b: Tensor[1]}',
    )
    expect(() => tree.map2({ w: t, b: t }, { w: t, c: t }, add)).toThrow(
      'tree.map2: structures differ at "(root)": {w: Tensor[2], b: Tensor[2]} vs {w: Tensor[2], c: Tensor[2]}',
    )
    expect(() => tree.map2({ l: [t, t] }, { l: [t] }, add)).toThrow(
      'tree.map2: structures differ at "l": {l: [Tensor[2], Tensor[2]]} vs {l: [Tensor[2]]}',
    )
    expect(() => tree.map2({ a: { k: t } }, { a: t }, add)).toThrow(
      'tree.map2: structures differ at "a": {a: {k: Tensor[2]}} vs {a: Tensor[2]}',
    )
    expect(() => tree.map2({ a: [t] }, { a: { 0: t } }, add)).toThrow(
      'tree.map2: structures differ at "a": {a: [Tensor[2]]} vs {a: {0: Tensor[2]}}',
    )
    expect(() => tree.map2({ a: { k: [t, zeros([3, 1])] } }, { a: { k: [t, t, t] } }, add)).toThrow(
      'tree.map2: structures differ at "a.k": {a: {k: [Tensor[2], Tensor[3,1]]}} vs {a: {k: [Tensor[2], Tensor[2], Tensor[2]]}}',
    )
    expect(() => tree.map2(t, [t], add)).toThrow(
      'tree.map2: structures differ at "(root)": Tensor[2] vs [Tensor[2]]',
    )
  })

  it('leaves, flatten and count', () => {
    const m = model()
    expect(tree.leaves(m)).toEqual([
      m.dense_1.kernel,
      m.dense_1.bias,
      m.batch_normalization.gamma,
      m.batch_normalization.beta,
      m.layers[0].kernel,
      m.layers[1],
    ])
    expect(tree.leaves(m)[0]).toBe(m.dense_1.kernel)
    const flat = tree.flatten(m)
    expect(flat.map(([p]) => p)).toEqual([
      'dense_1.kernel',
      'dense_1.bias',
      'batch_normalization.gamma',
      'batch_normalization.beta',
      'layers.0.kernel',
      'layers.1',
    ])
    expect(flat[0]![1]).toBe(m.dense_1.kernel)
    expect(tree.flatten({ dense_1: { kernel: ones([2, 2]) } })).toEqual([
      ['dense_1.kernel', expect.anything()],
    ])
    expect(tree.count(m)).toBe(6 + 3 + 3 + 3 + 3 + 1)
    expect(tree.count({ kernel: zeros([784, 300]), bias: zeros([300]) })).toBe(235500)
    expect(tree.count({})).toBe(0)
    expect(tree.leaves([])).toEqual([])
  })

  it('unflatten rebuilds the structure from leaves in flatten order', () => {
    const m = model()
    const rebuilt = tree.unflatten(
      m,
      tree.leaves(m).map((t) => mul(t, 0)),
    )
    expect(rebuilt.dense_1.kernel.shape).toEqual([2, 3])
    expect(rebuilt.layers[1].toArray()).toEqual([0])
    expect(tree.flatten(rebuilt).map(([p]) => p)).toEqual(tree.flatten(m).map(([p]) => p))
    expect(() => tree.unflatten(m, [ones([1])])).toThrow(ShapeError)
    expect(() => tree.unflatten(m, [ones([1])])).toThrow('tree.unflatten: the structure has 6 leaves, got 1')
  })

  it('properties: unflatten(flatten) is the identity, paths are unique, count sums the sizes', () =>
    fc.assert(
      fc.property(treeArb, (t) => {
        const flat = tree.flatten(t)
        const back = tree.unflatten(
          t,
          flat.map(([, l]) => l),
        )
        expect(back).toEqual(t)
        expect(tree.leaves(back)).toEqual(tree.leaves(t))
        expect(new Set(flat.map(([p]) => p)).size).toBe(flat.length)
        expect(tree.count(t)).toBe(flat.reduce((s, [, l]) => s + l.size, 0))
        expect(tree.map2(t, t, (x) => x)).toEqual(t)
        const seen: string[] = []
        tree.map(t, (l, p) => {
          seen.push(p)
          return l
        })
        expect(seen).toEqual(flat.map(([p]) => p))
      }),
      runs(900, 60),
    ))

  it('maskLeaves reads a mask that stops early, in flatten order', () => {
    const m = model()
    expect(
      tree.maskLeaves(m, {
        dense_1: { kernel: true, bias: false },
        batch_normalization: false,
        layers: true,
      }),
    ).toEqual([true, false, false, false, true, true])
    expect(tree.maskLeaves(m, false)).toEqual([false, false, false, false, false, false])
    expect(tree.maskLeaves(m, { dense_1: true, batch_normalization: true, layers: [false, true] })).toEqual([
      true,
      true,
      true,
      true,
      false,
      true,
    ])
    expect(tree.maskLeaves(tensor([1]), true)).toEqual([true])
    expect(tree.maskLeaves({ empty: {}, w: ones([1]) }, { empty: {}, w: false })).toEqual([false])
  })

  it('maskLeaves names the path where the mask does not fit', () => {
    const t = ones([1])
    const params = { a: t, b: { c: t } }
    expect(() => tree.maskLeaves(params, { a: true })).toThrow(ShapeError)
    expect(() => tree.maskLeaves(params, { a: true })).toThrow(
      'tree.maskLeaves: the mask does not match the params at "b": expected a boolean or a subtree, got nothing',
    )
    expect(() => tree.maskLeaves(params, { a: true, b: { c: 1 } } as unknown as TreeOf<boolean>)).toThrow(
      'tree.maskLeaves: the mask does not match the params at "b.c": expected a boolean, got number',
    )
    expect(() => tree.maskLeaves(params, { a: { x: true }, b: true })).toThrow(
      'tree.maskLeaves: the mask does not match the params at "a": expected a boolean, got object',
    )
    expect(() => tree.maskLeaves(params, null as unknown as TreeOf<boolean>)).toThrow(
      'tree.maskLeaves: the mask does not match the params at "(root)": expected a boolean or a subtree, got null',
    )
    expect(() => tree.maskLeaves(params, { a: true, b: true, x: false })).toThrow(
      'tree.maskLeaves: the mask has an entry "x" that the params do not',
    )
    expect(() => tree.maskLeaves(params, { a: true, b: { c: true, d: false } })).toThrow(
      'tree.maskLeaves: the mask has an entry "b.d" that the params do not',
    )
    expect(() => tree.maskLeaves({ l: [t] }, { l: { 0: true } })).toThrow(
      'tree.maskLeaves: the mask does not match the params at "l": expected a boolean or an array, got object',
    )
    expect(() => tree.maskLeaves({ l: { 0: t } }, { l: [true] })).toThrow(
      'tree.maskLeaves: the mask does not match the params at "l": expected a boolean or an object, got array',
    )
    expect(() => tree.maskLeaves(params, { a: true }, { op: 'masked' })).toThrow(
      'masked: the mask does not match the params at "b"',
    )
    expect(() => tree.maskLeaves({ a: 3 } as unknown as Tree, { a: true })).toThrow(
      'tree: leaf at "a" is a number, not a tensor',
    )
  })

  it('maskLeaves options: a value for missing entries, extra entries ignored', () => {
    const t = ones([1])
    const params = { a: t, b: { c: t, d: t }, toString: t }
    expect(tree.maskLeaves(params, { b: { d: false } }, { missing: true })).toEqual([true, true, false, true])
    expect(tree.maskLeaves(params, {}, { missing: false })).toEqual([false, false, false, false])
    const wide = { a: false, b: { c: true, d: false, e: true }, toString: true, z: false }
    expect(tree.maskLeaves(params, wide, { extra: 'ignore' })).toEqual([false, true, false, true])
    // a mask written for an array also reads a part of it kept as an object keyed by index
    expect(tree.maskLeaves({ l: { 0: t, 2: t } }, { l: [true, false, false] }, { extra: 'ignore' })).toEqual([
      true,
      false,
    ])
    expect(() => tree.maskLeaves(params, wide)).toThrow(
      'tree.maskLeaves: the mask has an entry "z" that the params do not',
    )
  })

  it("property: maskLeaves of a mask with the structure of the tree is the mask's leaves", () =>
    fc.assert(
      fc.property(
        treeArb.chain((t) =>
          fc.tuple(
            fc.constant(t),
            fc.array(fc.boolean(), { minLength: tree.leaves(t).length, maxLength: tree.leaves(t).length }),
          ),
        ),
        ([t, bits]) => {
          let i = 0
          const mask = tree.map(t, () => bits[i++]!)
          expect(tree.maskLeaves(t, mask)).toEqual(bits)
        },
      ),
      runs(901, 100),
    ))

  it('property: a boolean in the mask covers every leaf below it', () =>
    fc.assert(
      fc.property(
        treeArb.chain((t) => fc.tuple(fc.constant(t), prefixMaskArb(t))),
        ([t, mask]) => {
          const flags = tree.maskLeaves(t, mask)
          expect(flags).toEqual(tree.flatten(t).map(([path]) => lookup(mask, path)))
          expect(tree.maskLeaves(t, mask, { missing: false, extra: 'ignore' })).toEqual(flags)
        },
      ),
      runs(902, 100),
    ))
})
