import { neg, type Tensor, type Tree, tensor, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  adam,
  chain,
  freeze,
  type GradientTransformation,
  type Mask,
  masked,
  rmsprop,
  scaleByAdam,
  sgd,
} from '../src/index.js'
import { bits, expectBitwise, type Params, problemArb, run, values } from './helpers/trees.js'

/** The leaves of `t` whose paths are in `keep`, as `[path, bits]`. */
const pick = (t: Tree, keep: (path: string) => boolean) =>
  tree
    .flatten(t)
    .filter(([p]) => keep(p))
    .map(([p, x]) => [p, bits(x)] as const)

// a mask over the Params structure of the helpers, as a tree and as the same predicate
const maskArb = fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean())
const asTree = ([k, b, b0, b1]: readonly boolean[]) => ({
  dense: { kernel: k!, bias: b! },
  blocks: [b0!, b1!],
})
const asPredicate =
  (m: readonly boolean[]) =>
  (path: string): boolean =>
    ({ 'dense.kernel': m[0], 'dense.bias': m[1], 'blocks.0': m[2], 'blocks.1': m[3] })[path] ?? false

const optimizers: [string, () => GradientTransformation<unknown>][] = [
  ['adam', () => adam({ learningRate: 0.1 })],
  ['sgd momentum', () => sgd({ learningRate: 0.1, momentum: 0.9 })],
  ['rmsprop centered with clipping', () => rmsprop({ centered: true, clipNorm: 1, clipValue: 1 })],
]

describe('masked', () => {
  it.each(optimizers)('unselected leaves are bitwise unchanged after any number of steps: %s', (_, make) => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 8 }), maskArb, fc.boolean(), ([params, grads], m, byPath) => {
        const mask: Mask = byPath ? asPredicate(m) : asTree(m)
        const last = run(masked(make(), mask), params, grads).at(-1)!.params
        const frozen = (p: string) => !asPredicate(m)(p)
        expect(pick(last, frozen)).toEqual(pick(params, frozen))
      }),
      { seed: 91, numRuns: 30 },
    )
  })

  it.each(optimizers)('selected leaves move exactly as the optimizer alone on them: %s', (_, make) => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 5 }), maskArb, ([params, grads], m) => {
        const sel = asPredicate(m)
        const only = (t: Tree): Tree => Object.fromEntries(tree.flatten(t).filter(([p]) => sel(p)))
        const withMask = run(masked(make(), asTree(m)), params, grads)
        const alone = run(make(), only(params), grads.map(only))
        withMask.forEach((s, i) => {
          expect(pick(s.params, sel).map(([, b]) => b)).toEqual(
            tree.leaves(alone[i]!.params).map((x) => bits(x)),
          )
        })
      }),
      { seed: 92, numRuns: 30 },
    )
  })

  it('the inner state holds only the selected leaves, with their paths (not advanced for the others)', () => {
    const params = {
      dense: { kernel: tensor([[1, 2]]), bias: tensor([0]) },
      blocks: [tensor([1]), tensor([2]), tensor([3])],
    }
    const tx = masked(scaleByAdam(), { dense: { kernel: true, bias: false }, blocks: [true, false, true] })
    const s = tx.init(params)
    expect(tree.flatten(s.inner.mu).map(([p]) => p)).toEqual(['dense.kernel', 'blocks.0', 'blocks.2'])
    const r = tx.update(params, s, params)
    expect(tree.flatten(r.state.inner.nu).map(([p]) => p)).toEqual(['dense.kernel', 'blocks.0', 'blocks.2'])
    expect(values(r.updates)).toEqual([1, 1, 0, 1, 0, 1].map((x) => expect.closeTo(x, 5)))
  })

  it('accepts a mask that stops early (a boolean for a whole subtree)', () => {
    const params = { base: { a: tensor([1]), b: [tensor([1])] }, head: tensor([1]) }
    const grads = { base: { a: tensor([1]), b: [tensor([1])] }, head: tensor([1]) }
    const tx = masked(sgd({ learningRate: 0.5 }), { base: false, head: true })
    const { updates } = tx.update(grads, tx.init(params), params)
    expect(values(updates)).toEqual([0, 0, -0.5])
  })

  it('gives unselected leaves a zero update, reusing an incoming all-zero gradient', () => {
    const params = { a: tensor([1, 2]), b: tensor([1, 2]) }
    const tx = masked(sgd({ learningRate: 0.1 }), { a: true, b: false })
    const zero = tensor([0, 0])
    const negZero = tensor([-0, 0])
    expect(tx.update({ a: zero, b: zero }, tx.init(params), params).updates.b).toBe(zero)
    const u = tx.update({ a: zero, b: negZero }, tx.init(params), params).updates.b
    expect(u).not.toBe(negZero)
    expect(Array.from(new Uint32Array(Float32Array.from(u.data).buffer))).toEqual([0, 0]) // +0, not −0
  })

  it("unmasked: 'passThrough' keeps the other leaves' updates (Optax semantics)", () => {
    const g = { a: tensor([2]), b: tensor([3]) }
    const tx = masked(sgd({ learningRate: 0.5 }), { a: true, b: false }, { unmasked: 'passThrough' })
    expect(values(tx.update(g, tx.init(g), g).updates)).toEqual([-1, 3])
  })

  it('names the path where the mask does not match the params', () => {
    const params = { a: tensor([1]), b: { c: tensor([1]) } }
    expect(() => masked(sgd(), { a: true } as Mask).init(params)).toThrow(
      /mask does not match the params at "b"/,
    )
    expect(() => masked(sgd(), { a: true, b: { c: 1 } } as unknown as Mask).init(params)).toThrow(/at "b.c"/)
  })
})

describe('freeze', () => {
  it('frozen leaves are bitwise unchanged after any number of steps; the others move as without freeze', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 8 }), maskArb, ([params, grads], m) => {
        const frozen = asPredicate(m)
        const withFreeze = run(chain(adam({ learningRate: 0.1 }), freeze(asTree(m))), params, grads)
        const without = run(adam({ learningRate: 0.1 }), params, grads)
        const last = withFreeze.at(-1)!.params
        const free = (p: string) => !frozen(p)
        expect(pick(last, frozen)).toEqual(pick(params, frozen))
        expect(pick(last, free)).toEqual(pick(without.at(-1)!.params, free))
      }),
      { seed: 93, numRuns: 30 },
    )
  })

  it('is masked(setToZero(), mask) passing the rest through, and takes a predicate', () => {
    const p: Params = {
      dense: { kernel: tensor([[1]]), bias: tensor([1]) },
      blocks: [tensor([1]), tensor(2)] as const,
    }
    const g = tree.map(p, (x: Tensor) => x)
    const tx = freeze((path) => path.startsWith('dense'))
    expect(tx.init(p)).toEqual({ inner: {} })
    const { updates } = tx.update(g, tx.init(p), p)
    expect(values(updates)).toEqual([0, 0, 1, 2])
    expectBitwise(updates.blocks[1], p.blocks[1])
  })
})

describe('masked, every leaf selected', () => {
  it("the fused step returns the params in the params' structure, whatever the inner one returns", () => {
    const params = { w: tensor([1, 2]), blocks: [tensor([3]), tensor([4])], none: {} }
    const grads = { w: tensor([1, 1]), blocks: [tensor([1]), tensor([1])], none: {} }
    type P = typeof params
    // an inner step that returns its params in another order, and an object for the array
    const inner: GradientTransformation<Record<string, never>> = {
      init: () => ({}),
      update: (g, state) => ({ updates: g, state }),
      applyStep: <Q extends Tree>(_: Tree, state: Record<string, never>, p: Q) => {
        const { w, blocks } = p as unknown as P
        const moved = { blocks: { 0: neg(blocks[0]!), 1: neg(blocks[1]!) }, none: {}, w: neg(w) }
        return { params: moved as unknown as Q, state }
      },
    }
    for (const mask of [true, { w: true, blocks: true, none: true }, (path: string) => path !== '']) {
      const next = masked(inner, mask).applyStep!(grads, { inner: {} }, params).params as P
      expect(Array.isArray(next.blocks)).toBe(true)
      expect(next.none).toEqual({})
      expect(values(next)).toEqual([-1, -2, -3, -4])
    }
  })
})
