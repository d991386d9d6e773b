import { readFileSync } from 'node:fs'
import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  adam,
  adamax,
  applyUpdates,
  type GradientTransformation,
  getOptimizer,
  inverseTimeDecay,
  nadam,
  optimizerNames,
  polynomialDecay,
  scaleByAdam,
  scaleByAdamax,
  scaleByNesterovAdam,
} from '../src/index.js'
import {
  expectRelClose,
  fixedGradients,
  nonZeroFloat,
  problemArb,
  run,
  runFixed,
  values,
} from './helpers/trees.js'

/** Reference runs from Keras 3 and Optax: scripts/fixtures/optim-extra.py. */
const fx = JSON.parse(readFileSync(new URL('./fixtures/optim-extra.json', import.meta.url), 'utf8')) as {
  w0: number[]
  grads: number[][]
  [k: string]: unknown
}

/** The weights after each step of `tx` from the fixture's w0 and gradients. */
const weights = (tx: GradientTransformation<unknown>): number[][] => {
  let params = { w: tensor(fx.w0) }
  let state = tx.init(params)
  return fx.grads.map((g) => {
    const r = tx.update({ w: tensor(g) }, state, params)
    params = applyUpdates(params, r.updates)
    state = r.state
    return [...params.w.data]
  })
}

const expectRun = (got: number[][], want: unknown, rel: number) => {
  ;(want as number[][]).forEach((w, k) => {
    expectRelClose(got[k]!, w, rel)
  })
}

/**
 * Against Optax, which computes the bias corrections 1 − β^t in float32 (a relative error up
 * to ~6e-5 in v̂ at β2 = 0.999; purenn computes them in float64): an absolute tolerance of
 * 6e-5 of the step bound `lr` per step, summed over the steps.
 */
const expectOptaxRun = (got: number[][], want: unknown, lr: number) => {
  ;(want as number[][]).forEach((w, k) => {
    w.forEach((v, i) => {
      expect(Math.abs(got[k]![i]! - v)).toBeLessThanOrEqual(6e-5 * lr * (k + 1))
    })
  })
}

describe('adamax (Keras form)', () => {
  it('scaleByAdamax is m/((1 − β1^t)(u + ε)) with u = max(β2u, |g|) (float64 recurrence, 1e-6)', () => {
    const [b1, b2, eps] = [0.8, 0.9, 1e-3]
    const steps = runFixed(scaleByAdamax({ beta1: b1, beta2: b2, epsilon: eps }))
    let m = [0, 0]
    let u = [0, 0]
    steps.forEach((s, k) => {
      const g = fixedGradients[k]!
      m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!)
      u = u.map((ui, i) => Math.max(b2 * ui, Math.abs(g[i]!)))
      expectRelClose(
        values(s.updates),
        m.map((mi, i) => mi / ((1 - b1 ** (k + 1)) * (u[i]! + eps))),
      )
    })
  })

  it('equals Keras 3 Adamax (5 steps, two settings; 1e-5 relative)', () => {
    expectRun(
      weights(adamax({ learningRate: 0.1 }) as GradientTransformation<unknown>),
      fx.keras_adamax,
      1e-5,
    )
    expectRun(
      weights(
        adamax({
          learningRate: 0.01,
          beta1: 0.8,
          beta2: 0.9,
          epsilon: 1e-3,
        }) as GradientTransformation<unknown>,
      ),
      fx.keras_adamax_b,
      1e-5,
    )
  })

  it('no coordinate moves more than lr: |Δ| ≤ 1 before the learning rate, with ε = 0 (property)', () => {
    fc.assert(
      fc.property(problemArb({ min: 1, max: 6 }, nonZeroFloat), ([params, grads]) => {
        // |m_t| ≤ (1 − β1^t)·max|g| ≤ (1 − β1^t)·u_t, so |Δ| ≤ 1 before the learning rate
        for (const s of run(scaleByAdamax({ epsilon: 0 }), params, grads))
          for (const v of values(s.updates))
            if (Number.isFinite(v)) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6)
      }),
      { seed: 61, numRuns: 50 },
    )
  })
})

describe('nadam: Keras form and Optax form', () => {
  it("the default form is Keras' (5 steps against Keras 3 Nadam; 1e-5 relative)", () => {
    expectRun(weights(nadam({ learningRate: 0.1 }) as GradientTransformation<unknown>), fx.keras_nadam, 1e-5)
  })

  it("form 'optax' equals optax.nadam (5 steps, two settings; see expectOptaxRun)", () => {
    expectOptaxRun(
      weights(nadam({ learningRate: 0.1, form: 'optax' }) as GradientTransformation<unknown>),
      fx.optax_nadam,
      0.1,
    )
    expectOptaxRun(
      weights(
        nadam({
          learningRate: 0.01,
          beta1: 0.8,
          beta2: 0.9,
          epsilon: 1e-3,
          form: 'optax',
        }) as GradientTransformation<unknown>,
      ),
      fx.optax_nadam_b,
      0.01,
    )
  })

  it('the two forms differ at the first step (Keras μ1 ≈ 0.468 vs Optax β1 = 0.9)', () => {
    const k = fx.keras_nadam as number[][]
    const o = fx.optax_nadam as number[][]
    expect(Math.abs(k[0]![0]! - o[0]![0]!)).toBeGreaterThan(0.01)
    const tx = scaleByNesterovAdam({ epsilon: 0 })
    const g = { w: tensor([2]) }
    // m̂ = 0.9·0.2/(1 − 0.81) + 0.1·2/(1 − 0.9), v̂ = 4
    expect(values(tx.update(g, tx.init(g), g).updates)[0]).toBeCloseTo(
      ((0.9 * 0.2) / 0.19 + 0.2 / 0.1) / 2,
      5,
    )
    expect(() => nadam({ form: 'pytorch' } as never)).toThrow("nadam: form must be 'keras' or 'optax'")
    expect(() => nadam({ epsRoot: 1e-8 })).toThrow("nadam: epsRoot is an option of form 'optax'")
  })
})

describe("adam's epsRoot (Optax's eps_root)", () => {
  it('with epsilon 0 equals optax.adam(eps=0, eps_root=1e-2) (5 steps; see expectOptaxRun)', () => {
    expectOptaxRun(
      weights(adam({ learningRate: 0.1, epsilon: 0, epsRoot: 1e-2 }) as GradientTransformation<unknown>),
      fx.optax_adam_eps_root,
      0.1,
    )
  })

  it('applies to large leaves too (those the WebAssembly kernel would take): one formula for all', () => {
    const n = 50_000
    const g = { w: tensor(Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 8)) }
    const tx = scaleByAdam({ epsilon: 0, epsRoot: 1e-2 })
    const u = tx.update(g, tx.init(g), g).updates.w.data
    // first step: m = 0.1g, v = 0.001g², c = √0.001/0.1, er = 1e-2·0.001
    for (let i = 0; i < n; i += 997) {
      const gi = ((i % 7) - 3) / 8
      const want = ((Math.sqrt(0.001) / 0.1) * 0.1 * gi) / Math.sqrt(0.001 * gi * gi + 1e-5)
      expect(Math.abs(u[i]! - want)).toBeLessThanOrEqual(1e-6)
    }
  })

  it('keeps the update finite for a zero gradient at the first step', () => {
    const tx = scaleByAdam({ epsilon: 0, epsRoot: 1e-8 })
    const g = { w: tensor([0]) }
    expect(values(tx.update(g, tx.init(g), g).updates)).toEqual([0])
    expect(() => scaleByAdam({ epsRoot: -1 })).toThrow('epsRoot')
  })
})

describe('schedules: inverseTimeDecay and polynomialDecay (against Keras 3; 1e-6 relative)', () => {
  const at = (s: (n: number) => number, steps: number[]) => steps.map(s)
  it('inverseTimeDecay', () => {
    expectRelClose(
      at(
        inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }),
        [0, 1, 5, 10, 25, 100],
      ),
      fx.keras_inverse_time_decay as number[],
    )
    expectRelClose(
      at(
        inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true }),
        [0, 1, 9, 10, 25, 100],
      ),
      fx.keras_inverse_time_decay_staircase as number[],
    )
  })

  it('polynomialDecay: power 2, the linear default with Keras end rate 1e-4, and cycle', () => {
    expectRelClose(
      at(
        polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2 }),
        [0, 1, 5, 10, 25],
      ),
      fx.keras_polynomial_decay as number[],
    )
    expectRelClose(
      at(polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10 }), [0, 3, 10, 11]),
      fx.keras_polynomial_decay_linear as number[],
    )
    expectRelClose(
      at(
        polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, cycle: true }),
        [0, 5, 10, 11, 15, 20, 21],
      ),
      fx.keras_polynomial_decay_cycle as number[],
    )
  })

  it('rejects bad options', () => {
    expect(() => inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 1 })).toThrow(
      'decaySteps',
    )
    expect(() => polynomialDecay({ initialLearningRate: Number.NaN, decaySteps: 1 })).toThrow(
      'initialLearningRate',
    )
  })
})

describe('optimizers by name', () => {
  it("each name is the optimizer with Keras' defaults (same updates as the function)", () => {
    const fns: Record<string, () => GradientTransformation<unknown>> = {
      sgd: () => getOptimizer('sgd'),
      adam: () => adam() as GradientTransformation<unknown>,
      adamax: () => adamax() as GradientTransformation<unknown>,
    }
    expect(weights(getOptimizer('adam'))).toEqual(weights(fns.adam!()))
    expect(weights(getOptimizer('adamax'))).toEqual(weights(fns.adamax!()))
    // plain SGD with lr 0.01: w1 = w0 − 0.01·g1
    expectRelClose(weights(getOptimizer('sgd'))[0]!, [0.5 - 0.01, -1.5 + 0.02])
    expect(optimizerNames).toEqual(['sgd', 'rmsprop', 'adam', 'adamw', 'nadam', 'adagrad', 'adamax'])
    for (const n of optimizerNames) expect(typeof getOptimizer(n).update).toBe('function')
  })

  it('an unknown name throws and lists the names; a transformation passes through', () => {
    expect(() => getOptimizer('Adam' as never)).toThrow(
      "getOptimizer: unknown optimizer 'Adam', expected one of sgd, rmsprop",
    )
    const tx = adam()
    expect(getOptimizer(tx)).toBe(tx)
  })
})
