import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, mul } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { ones, type Tensor, tensor, zeros } from '../src/tensor.js'
import type { Tree } from '../src/tree.js'
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
})
