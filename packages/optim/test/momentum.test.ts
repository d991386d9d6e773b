import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chain, scaleByLearningRate, traceMomentum } from '../src/index.js'
import { bits, expectRelClose, problemArb, run, values } from './helpers/trees.js'

describe('traceMomentum', () => {
  it('accumulates v ← μv + u and returns v', () => {
    const tx = traceMomentum({ decay: 0.9 })
    const us = [
      [1, -2],
      [0.5, 0.5],
      [-1, 3],
    ]
    let state = tx.init({ w: tensor([0, 0]) })
    let v = [0, 0]
    for (const u of us) {
      const r = tx.update({ w: tensor(u) }, state, { w: tensor([0, 0]) })
      v = v.map((vi, i) => 0.9 * vi + u[i]!)
      expectRelClose(values(r.updates), v)
      expect(bits(r.state.trace)).toEqual(bits(r.updates))
      state = r.state
    }
  })

  it('Nesterov returns μv + u with the new v', () => {
    const tx = traceMomentum({ decay: 0.5, nesterov: true })
    const us = [
      [1, -2],
      [0.5, 0.5],
      [-1, 3],
    ]
    let state = tx.init({ w: tensor([0, 0]) })
    let v = [0, 0]
    for (const u of us) {
      const r = tx.update({ w: tensor(u) }, state, { w: tensor([0, 0]) })
      v = v.map((vi, i) => 0.5 * vi + u[i]!)
      expectRelClose(
        values(r.updates),
        v.map((vi, i) => 0.5 * vi + u[i]!),
      )
      expectRelClose(values(r.state.trace), v)
      state = r.state
    }
  })

  it('with decay 0 is the identity on values', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 4 }), ([params, grads]) => {
        const steps = run(traceMomentum({ decay: 0 }), params, grads)
        steps.forEach((s, i) => {
          expect(values(s.updates)).toEqual(values(grads[i]!))
        })
      }),
      { seed: 51, numRuns: 20 },
    )
  })

  it('after the learning rate it is Keras momentum: v ← μv − lr·g', () => {
    const tx = chain(scaleByLearningRate(0.1), traceMomentum({ decay: 0.9 }))
    const g = { w: tensor([1]) }
    const steps = run(tx, g, [g, g, g])
    expectRelClose(
      steps.map((s) => values(s.updates)[0]!),
      [-0.1, -0.19, -0.271],
    )
  })

  it('keeps a zero velocity for every leaf at init and rejects a bad decay', () => {
    const s = traceMomentum({ decay: 0.9 }).init({ a: tensor([1, 2]), b: [tensor([[3]])] })
    expect(values(s.trace)).toEqual([0, 0, 0])
    expect(() => traceMomentum({ decay: 1 })).toThrow(RangeError)
  })
})
