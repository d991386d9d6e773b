import { ShapeError, setThreads, type Tree, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  adam,
  applyUpdates,
  chain,
  clipByNorm,
  type GradientTransformation,
  identity,
  nadam,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
  traceMomentum,
} from '../src/index.js'
import { bits, expectBitwise, float, problemArb, run, values } from './helpers/trees.js'

describe('identity', () => {
  it('returns the gradients and the state unchanged', () => {
    const g = { w: tensor([1, -2]) }
    const r = identity().update(g, {}, g)
    expect(r.updates).toBe(g)
    expect(r.state).toEqual({})
    expect(identity().init(g)).toEqual({})
  })
})

describe('chain', () => {
  const transformations: [string, () => GradientTransformation<unknown>][] = [
    ['adam', () => adam({ learningRate: 0.01 })],
    ['sgd nesterov', () => sgd({ momentum: 0.9, nesterov: true })],
    ['rmsprop centered momentum', () => rmsprop({ centered: true, momentum: 0.5, clipNorm: 2 })],
    ['nadam', () => nadam()],
  ]
  it.each(transformations)(
    'chain(identity(), t) ≡ t ≡ chain(t, identity()), bitwise over several steps: %s',
    (_, make) => {
      fc.assert(
        fc.property(problemArb({ min: 1, max: 5 }), ([params, grads]) => {
          const plain = run(make(), params, grads)
          const left = run(chain(identity(), make()), params, grads)
          const right = run(chain(make(), identity()), params, grads)
          plain.forEach((s, i) => {
            expectBitwise(left[i]!.updates, s.updates)
            expectBitwise(right[i]!.updates, s.updates)
            expectBitwise(left[i]!.params, s.params)
            expect(left[i]!.state[1]).toEqual(s.state)
            expect(right[i]!.state[0]).toEqual(s.state)
          })
        }),
        { seed: 11, numRuns: 20 },
      )
    },
  )

  it('applies its members left to right and types the state as a tuple', () => {
    const tx = chain(scaleByAdam(), scaleByLearningRate(0.1), traceMomentum({ decay: 0.5 }))
    const g = { w: tensor([2, -3]) }
    const s0 = tx.init(g)
    expect(s0[0].count).toBe(0)
    expect(s0[1].count).toBe(0)
    expect(Object.keys(s0[2])).toEqual(['trace'])
    const { updates, state } = tx.update(g, s0, g)
    // first Adam step ≈ sign(g), times −0.1, plus 0.5 · 0 of momentum
    expect(values(updates)[0]).toBeCloseTo(-0.1, 6)
    expect(values(updates)[1]).toBeCloseTo(0.1, 6)
    expect(state[0].count).toBe(1)
    expect(state[1].count).toBe(1)
    expect(bits(state[2].trace)).toEqual(bits(updates))
  })

  it('with no members is the identity', () => {
    const g = { w: tensor([1]) }
    const tx = chain()
    expect(tx.init(g)).toEqual([])
    expect(tx.update(g, [], g).updates).toBe(g)
  })

  it('nests: a chain is a transformation', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 4 }), ([params, grads]) => {
        const flat = run(chain(clipByNorm(1), scaleByAdam(), scaleByLearningRate(0.01)), params, grads)
        const nested = run(
          chain(clipByNorm(1), chain(scaleByAdam(), scaleByLearningRate(0.01))),
          params,
          grads,
        )
        flat.forEach((s, i) => {
          expectBitwise(nested[i]!.updates, s.updates)
        })
      }),
      { seed: 12, numRuns: 10 },
    )
  })
})

describe('applyUpdates', () => {
  it('adds the updates leaf by leaf and keeps the structure', () => {
    const params = { a: [tensor([1, 2])], b: { c: tensor([[3]]) } }
    const next = applyUpdates(params, { a: [tensor([0.5, -1])], b: { c: tensor([[-3]]) } })
    expect(values(next)).toEqual([1.5, 1, 0])
    expect(next.b.c.shape).toEqual([1, 1])
    expect(values(params)).toEqual([1, 2, 3])
  })

  it('returns a weight bit for bit where the update is zero, even −0', () => {
    fc.assert(
      fc.property(fc.array(float, { minLength: 1, maxLength: 8 }), (w) => {
        const p = { w: tensor(w) }
        const zero = { w: tensor(new Float32Array(w.length)) }
        const negZero = { w: tensor(w.map(() => -0)) }
        expect(bits(applyUpdates(p, zero))).toEqual(bits(p))
        expect(bits(applyUpdates(p, negZero))).toEqual(bits(p))
      }),
      { seed: 13, numRuns: 50 },
    )
    expect(bits(applyUpdates({ w: tensor([-0]) }, { w: tensor([0]) }))).toEqual(bits({ w: tensor([-0]) }))
  })

  it('returns the same tensor for a leaf whose update is all +0, a new one otherwise', () => {
    const p = { a: tensor([1, 2]), b: tensor([3, 4]), c: tensor([5, 6]) }
    const zero = tensor([0, 0])
    const next = applyUpdates(p, { a: zero, b: tensor([0, 1]), c: tensor([-0, 0]) })
    expect(next.a).toBe(p.a)
    expect(next.b).not.toBe(p.b)
    expect(values(next)).toEqual([1, 2, 3, 5, 5, 6])
    expect(applyUpdates(p, { a: zero, b: zero, c: zero }).a).toBe(p.a) // the same zero again
  })

  it('gives bitwise the same result for large leaves (the worker pool) on 1 and 2 threads', () => {
    const n = 100_003
    const wave = (f: (i: number) => number) => tensor(Float32Array.from({ length: n }, (_, i) => f(i)))
    const params = { w: wave((i) => Math.sin(i)), b: tensor([1, 2]) }
    const grads = { w: wave((i) => (i % 5 === 0 ? 0 : Math.cos(i))), b: tensor([0.5, -0.5]) }
    const step = (threads: number, tx: GradientTransformation<unknown>) => {
      setThreads(threads)
      let p: Tree = params
      let s: unknown = tx.init(params)
      for (let k = 0; k < 3; k++) {
        const r: { updates: Tree; state: unknown } = tx.update(grads, s, p)
        p = applyUpdates(p, r.updates)
        s = r.state
      }
      return bits(p)
    }
    for (const make of [
      () => sgd({ momentum: 0.9 }),
      () => sgd({ momentum: 0.9, nesterov: true }),
      () => sgd(),
    ])
      expect(step(2, make())).toEqual(step(1, make()))
  })

  it('throws a ShapeError on different structures or shapes', () => {
    const p: Tree = { w: tensor([1, 2]) }
    expect(() => applyUpdates(p, { w: tensor([1, 2, 3]) })).toThrow(ShapeError)
    expect(() => applyUpdates(p, { w: tensor([[1, 2]]) })).toThrow(
      /applyUpdates: shape of the update at "w" \[1,2\]/,
    )
    expect(() => applyUpdates(p, { v: tensor([1, 2]) })).toThrow(ShapeError)
  })
})
