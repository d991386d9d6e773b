import { add, mul, type Tree, tensor, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { adam, adamw, addDecayedWeights, applyUpdates, type GradientTransformation } from '../src/index.js'
import { expectRelClose, float, mapValues, nonZeroFloat, problemArb, run, values } from './helpers/trees.js'

describe('addDecayedWeights', () => {
  it('adds rate · w to every update', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 1 }), float, ([params, [g]], rate) => {
        const { updates } = addDecayedWeights(rate).update(g!, {}, params)
        const w = values(params)
        expect(values(updates)).toEqual(values(g!).map((x, i) => Math.fround(x + rate * w[i]!)))
      }),
      { seed: 81, numRuns: 50 },
    )
  })

  it('with a mask decays only the selected leaves (Keras exclude_from_weight_decay)', () => {
    const params = { dense: { kernel: tensor([10]), bias: tensor([10]) }, out: [tensor([10])] }
    const grads = { dense: { kernel: tensor([1]), bias: tensor([1]) }, out: [tensor([1])] }
    const byPath = addDecayedWeights(0.5, (path) => !path.endsWith('bias')).update(grads, {}, params).updates
    expect(values(byPath)).toEqual([6, 1, 6])
    const byTree = addDecayedWeights(0.5, { dense: { kernel: true, bias: false }, out: true }).update(
      grads,
      {},
      params,
    )
    expect(values(byTree.updates)).toEqual([6, 1, 6])
  })

  it('throws when the params do not match the gradients', () => {
    expect(() => addDecayedWeights(0.1).update({ w: tensor([1]) }, {}, { w: tensor([1, 2]) })).toThrow(
      /addDecayedWeights: params does not match the gradients: leaf "w" \[2\] vs "w" \[1\]/,
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Why AdamW exists. Adam divides each update by √v, the root of the running mean of squared
// gradients, so it is invariant to the scale of the gradients. An L2 penalty λ‖w‖²/2 adds λw
// to the gradient *before* Adam, so it is divided by √v too: scaling the loss gradients by c
// is the same as dividing the decay by c. Weights whose gradients are large (or noisy) are
// hardly decayed at all. AdamW adds λw *after* Adam's scaling, so every weight decays by
// lr·λ·w per step whatever its gradients (Loshchilov & Hutter 2019).
//
// With ε = 0 and c a power of 2 these are exact identities (scaling by 2^k commutes with
// float32 rounding), so they hold for every generated input; we check them to 1e-6.
// ---------------------------------------------------------------------------------------------

/** Adam on the loss gradient plus the gradient λw of an L2 penalty (the pre-AdamW way). */
const runL2 = (tx: GradientTransformation<unknown>, params: Tree, grads: readonly Tree[], lambda: number) => {
  let p = params
  let s = tx.init(params)
  const out: Tree[] = []
  for (const g of grads) {
    const r = tx.update(
      tree.map2(g, p, (gi, wi) => add(gi, mul(wi, lambda))),
      s,
      p,
    )
    p = applyUpdates(p, r.updates)
    s = r.state
    out.push(p)
  }
  return out
}

describe('AdamW (decoupled decay) differs from an L2 penalty under Adam', () => {
  const lambda = fc.float({ min: Math.fround(0.01), max: Math.fround(1), noNaN: true })
  const k = fc.integer({ min: 2, max: 10 })

  it('AdamW: scaling the loss gradients by c changes nothing, the decay stays lr·λ·w', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 5 }, nonZeroFloat), lambda, k, ([params, grads], wd, e) => {
        const tx = () => adamw({ learningRate: 0.01, weightDecay: wd, epsilon: 0 })
        const a = run(tx(), params, grads)
        const b = run(
          tx(),
          params,
          grads.map((g) => mapValues(g, (x) => x * 2 ** e)),
        )
        a.forEach((s, i) => {
          expectRelClose(values(b[i]!.params), values(s.params))
        })
      }),
      { seed: 82, numRuns: 20 },
    )
  })

  it('L2 under Adam: scaling the loss gradients by c is the same as dividing the decay by c', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 5 }, nonZeroFloat), lambda, k, ([params, grads], wd, e) => {
        const c = 2 ** e
        const scaled = runL2(
          adam({ learningRate: 0.01, epsilon: 0 }),
          params,
          grads.map((g) => mapValues(g, (x) => x * c)),
          wd,
        )
        const weaker = runL2(adam({ learningRate: 0.01, epsilon: 0 }), params, grads, wd / c)
        scaled.forEach((p, i) => {
          expectRelClose(values(p), values(weaker[i]!))
        })
      }),
      { seed: 83, numRuns: 20 },
    )
  })

  it("one step: AdamW's update is Adam's plus −lr·λ·w, whatever the gradients", () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 1 }), lambda, ([params, [g]], wd) => {
        const plain = adam({ learningRate: 0.01 })
        const decoupled = adamw({ learningRate: 0.01, weightDecay: wd })
        const u = values(plain.update(g!, plain.init(params), params).updates)
        const uw = values(decoupled.update(g!, decoupled.init(params), params).updates)
        values(params).forEach((w, i) => {
          const expected = u[i]! - 0.01 * wd * w
          expect(Math.abs(uw[i]! - expected)).toBeLessThanOrEqual(
            1e-6 * (Math.abs(u[i]!) + Math.abs(0.01 * wd * w)) + 1e-12,
          )
        })
      }),
      { seed: 84, numRuns: 50 },
    )
  })

  it('example: a weight with large noisy gradients is barely decayed by L2, fully by AdamW', () => {
    // two weights at 1: gradients ±0.01 (quiet) and ±100 (noisy), alternating, zero mean
    const params = { quiet: tensor([1]), noisy: tensor([1]) }
    const grads = Array.from({ length: 200 }, (_, i) => {
      const s = i % 2 === 0 ? 1 : -1
      return { quiet: tensor([0.01 * s]), noisy: tensor([100 * s]) }
    })
    const l2 = runL2(adam({ learningRate: 0.01 }), params, grads, 0.1).at(-1) as typeof params
    const decoupled = run(adamw({ learningRate: 0.01, weightDecay: 0.1 }), params, grads).at(-1)!
      .params as typeof params
    // L2: the quiet weight's gradient is dominated by the decay and it shrinks fast; the noisy one hardly moves
    expect(l2.quiet.item()).toBeLessThan(0.2)
    expect(l2.noisy.item()).toBeGreaterThan(0.95)
    // AdamW: both decay the same way (Adam's part is scale-free), by about (1 − lr·λ)^200 ≈ 0.82
    expect(decoupled.quiet.item()).toBeCloseTo(decoupled.noisy.item(), 4)
    expect(decoupled.noisy.item()).toBeCloseTo((1 - 0.01 * 0.1) ** 200, 1)
  })
})
