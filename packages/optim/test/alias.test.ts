import { isTensor, matmul, mul, sub, sum, type Tensor, type Tree, tensor, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  adagrad,
  adam,
  adamw,
  applyUpdates,
  cosineDecay,
  exponentialDecay,
  type GradientTransformation,
  nadam,
  rmsprop,
  sgd,
} from '../src/index.js'
import { expectBitwise, expectRelClose, problemArb, roundTrip, run, values } from './helpers/trees.js'

// ---------------------------------------------------------------------------------------------
// Keras' update rules, written out independently in float64 scalar code (from the Keras 3
// sources: keras/src/optimizers/{sgd,rmsprop,adam,adamw,nadam,adagrad}.py). Each reference
// keeps its own float64 state and weights over the flat vector of all weights. It never calls
// the code under test.
// ---------------------------------------------------------------------------------------------

type Ref = (w: number[], g: readonly number[], step: number) => number[]
type Lr = (step: number) => number

const refSgd = (lr: Lr, momentum = 0, nesterov = false): Ref => {
  let v: number[] | undefined
  return (w, g, step) => {
    const a = lr(step)
    if (momentum === 0) return w.map((wi, i) => wi - a * g[i]!)
    v ??= w.map(() => 0)
    const vs = v
    const next = w.map((wi, i) => {
      vs[i] = momentum * vs[i]! - a * g[i]! // m = μm − lr·g
      return nesterov ? wi + momentum * vs[i]! - a * g[i]! : wi + vs[i]!
    })
    return next
  }
}

const refRmsprop = (lr: Lr, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false): Ref => {
  let vel: number[] | undefined
  let avg: number[] | undefined
  let mom: number[] | undefined
  return (w, g, step) => {
    const a = lr(step)
    vel ??= w.map(() => 0)
    avg ??= w.map(() => 0)
    mom ??= w.map(() => 0)
    const [V, A, M] = [vel, avg, mom]
    return w.map((wi, i) => {
      const gi = g[i]!
      V[i] = rho * V[i]! + (1 - rho) * gi * gi
      let denominator: number
      if (centered) {
        A[i] = rho * A[i]! + (1 - rho) * gi
        denominator = V[i]! - A[i]! * A[i]! + epsilon
      } else denominator = V[i]! + epsilon
      const increment = (a * gi) / Math.sqrt(denominator)
      if (momentum > 0) {
        M[i] = momentum * M[i]! + increment
        return wi - M[i]!
      }
      return wi - increment
    })
  }
}

const refAdam = (
  lr: Lr,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = 1e-7,
  amsgrad = false,
  weightDecay = 0,
): Ref => {
  let m: number[] | undefined
  let v: number[] | undefined
  let vhat: number[] | undefined
  return (w, g, step) => {
    const a = lr(step)
    // AdamW (Keras 3 `_apply_weight_decay`, before the update step): w ← w − w·wd·lr
    const decayed = w.map((wi) => wi - wi * weightDecay * a)
    m ??= w.map(() => 0)
    v ??= w.map(() => 0)
    vhat ??= w.map(() => 0)
    const [M, V, VH] = [m, v, vhat]
    const t = step + 1
    const alpha = (a * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t)
    return decayed.map((wi, i) => {
      const gi = g[i]!
      M[i] = M[i]! + (gi - M[i]!) * (1 - beta1)
      V[i] = V[i]! + (gi * gi - V[i]!) * (1 - beta2)
      let vi = V[i]!
      if (amsgrad) vi = VH[i] = Math.max(VH[i]!, V[i]!)
      return wi - (M[i]! * alpha) / (Math.sqrt(vi) + epsilon)
    })
  }
}

const refNadam = (lr: Lr, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): Ref => {
  let m: number[] | undefined
  let v: number[] | undefined
  let uProduct = 1
  return (w, g, step) => {
    const a = lr(step)
    const t = step + 1
    uProduct = uProduct * beta1 * (1 - 0.5 * 0.96 ** t) // `_backend_update_step`, before update_step
    const ut = beta1 * (1 - 0.5 * 0.96 ** t)
    const ut1 = beta1 * (1 - 0.5 * 0.96 ** (t + 1))
    const uProductT1 = uProduct * ut1
    const beta2Power = beta2 ** t
    m ??= w.map(() => 0)
    v ??= w.map(() => 0)
    const [M, V] = [m, v]
    return w.map((wi, i) => {
      const gi = g[i]!
      M[i] = M[i]! + (gi - M[i]!) * (1 - beta1)
      V[i] = V[i]! + (gi * gi - V[i]!) * (1 - beta2)
      const mHat = (ut1 * M[i]!) / (1 - uProductT1) + ((1 - ut) * gi) / (1 - uProduct)
      const vHat = V[i]! / (1 - beta2Power)
      return wi - (mHat * a) / (Math.sqrt(vHat) + epsilon)
    })
  }
}

const refAdagrad = (lr: Lr, initial = 0.1, epsilon = 1e-7): Ref => {
  let acc: number[] | undefined
  return (w, g, step) => {
    const a = lr(step)
    acc ??= w.map(() => initial)
    const A = acc
    return w.map((wi, i) => {
      const gi = g[i]!
      A[i] = A[i]! + gi * gi
      return wi - (a * gi) / Math.sqrt(A[i]! + epsilon)
    })
  }
}

/** tf.keras 2.x clipping, clipvalue then clipnorm, per tensor (lengths give the tensors). */
const refClip = (
  g: readonly number[],
  sizes: readonly number[],
  clipValue: number,
  clipNorm: number,
): number[] => {
  const byValue = g.map((x) => Math.min(Math.max(x, -clipValue), clipValue))
  const out: number[] = []
  let at = 0
  for (const n of sizes) {
    const part = byValue.slice(at, at + n)
    const norm = Math.sqrt(part.reduce((s, x) => s + x * x, 0))
    out.push(...part.map((x) => (x * clipNorm) / Math.max(norm, clipNorm)))
    at += n
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// The fixed problem: a kernel [2,2] and a bias [2] (flat order: kernel row-major, then bias),
// five gradient steps. Every gradient element has the opposite sign of its weight, so the
// weights move away from 0 and a relative comparison stays meaningful.
// ---------------------------------------------------------------------------------------------

const w0 = [1.0, -2.0, 0.5, 1.5, -0.7, 0.3]
const gradSeq = [
  [-0.5, 1.2, -3.0, -0.1, 0.8, -2.0],
  [-0.4, 0.8, -2.5, -0.3, 0.6, -0.5],
  [-0.7, 1.5, -1.0, -0.05, 1.1, -1.5],
  [-0.2, 0.3, -4.0, -0.2, 0.2, -0.9],
  [-0.6, 1.0, -2.0, -0.15, 0.9, -1.2],
]
const asTree = (flat: readonly number[]): Tree => ({
  kernel: tensor(flat.slice(0, 4), [2, 2]),
  bias: tensor(flat.slice(4), [2]),
})
const f32 = (xs: readonly number[]): number[] => xs.map(Math.fround)

/**
 * Runs `tx` and the reference side by side and compares, after every step, the weights and
 * the update to 1e-6 relative.
 *
 * How float32 fits in that bound: purenn computes each step in float64 and rounds the new
 * state and the update to float32 (relative error ≤ 2⁻²⁴ ≈ 6e-8 each), and `applyUpdates`
 * rounds the new weights (another 6e-8). The reference starts from the same float32 weights
 * and gradients and stays in float64. Over 5 steps the differences add up to a few 1e-7 at
 * most, because no quantity here goes through cancellation (the gradients keep their sign).
 */
const check = (
  tx: GradientTransformation<unknown>,
  ref: Ref,
  grads: readonly (readonly number[])[] = gradSeq,
) => {
  let params = asTree(w0)
  let state = tx.init(params)
  let w = f32(w0)
  grads.forEach((g, step) => {
    const r = tx.update(asTree(g), state, params)
    params = applyUpdates(params, r.updates)
    state = r.state
    const next = ref(w, f32(g), step)
    expectRelClose(
      values(r.updates),
      next.map((x, i) => x - w[i]!),
    )
    expectRelClose(values(params), next)
    w = next
  })
}

const constant =
  (lr: number): Lr =>
  () =>
    lr

describe('reference sequences: Keras formulas, five steps, 1e-6 relative', () => {
  it('sgd plain', () => check(sgd({ learningRate: 0.1 }), refSgd(constant(0.1))))
  it('sgd with momentum', () =>
    check(sgd({ learningRate: 0.05, momentum: 0.9 }), refSgd(constant(0.05), 0.9)))
  it('sgd with Nesterov momentum', () =>
    check(sgd({ learningRate: 0.05, momentum: 0.8, nesterov: true }), refSgd(constant(0.05), 0.8, true)))
  it('sgd with momentum and a schedule: the learning rate is inside the velocity, as Keras', () => {
    const schedule = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 })
    check(sgd({ learningRate: schedule, momentum: 0.9 }), refSgd(schedule, 0.9))
  })
  it('rmsprop plain', () => check(rmsprop({ learningRate: 0.01 }), refRmsprop(constant(0.01))))
  it('rmsprop centered', () =>
    check(
      rmsprop({ learningRate: 0.01, centered: true, rho: 0.8 }),
      refRmsprop(constant(0.01), 0.8, 0, 1e-7, true),
    ))
  it('rmsprop with momentum', () =>
    check(rmsprop({ learningRate: 0.01, momentum: 0.9 }), refRmsprop(constant(0.01), 0.9, 0.9)))
  it('rmsprop centered with momentum and a schedule', () => {
    const schedule = exponentialDecay({ initialLearningRate: 0.02, decaySteps: 2, decayRate: 0.3 })
    check(
      rmsprop({ learningRate: schedule, centered: true, momentum: 0.5, epsilon: 1e-4 }),
      refRmsprop(schedule, 0.9, 0.5, 1e-4, true),
    )
  })
  it('adam', () => check(adam({ learningRate: 0.01 }), refAdam(constant(0.01))))
  it('adam with other betas and epsilon', () =>
    check(
      adam({ learningRate: 0.05, beta1: 0.5, beta2: 0.9, epsilon: 0.01 }),
      refAdam(constant(0.05), 0.5, 0.9, 0.01),
    ))
  it('adam amsgrad', () => {
    // the second-moment estimate falls for some elements here, so the max matters
    const grads = [gradSeq[2]!, gradSeq[0]!, gradSeq[3]!, gradSeq[1]!, gradSeq[4]!]
    check(
      adam({ learningRate: 0.01, amsgrad: true, beta2: 0.5 }),
      refAdam(constant(0.01), 0.9, 0.5, 1e-7, true),
      grads,
    )
  })
  it('adamw', () =>
    check(adamw({ learningRate: 0.01 }), refAdam(constant(0.01), 0.9, 0.999, 1e-7, false, 0.004)))
  it('adamw with a decay of 0.1 and a schedule', () => {
    const schedule = exponentialDecay({ initialLearningRate: 0.05, decaySteps: 1, decayRate: 0.8 })
    check(
      adamw({ learningRate: schedule, weightDecay: 0.1 }),
      refAdam(schedule, 0.9, 0.999, 1e-7, false, 0.1),
    )
  })
  it('nadam', () => check(nadam({ learningRate: 0.01 }), refNadam(constant(0.01))))
  it('nadam with other betas', () =>
    check(nadam({ learningRate: 0.02, beta1: 0.8, beta2: 0.99 }), refNadam(constant(0.02), 0.8, 0.99)))
  it('adagrad', () => check(adagrad({ learningRate: 0.1 }), refAdagrad(constant(0.1))))
  it('adagrad with another initial accumulator', () =>
    check(adagrad({ learningRate: 0.1, initialAccumulatorValue: 1 }), refAdagrad(constant(0.1), 1)))
  it("the chapter's rmsprop({ clipNorm: 1, clipValue: 1 }): clip by value, then by norm", () => {
    const inner = refRmsprop(constant(0.001))
    check(rmsprop({ clipNorm: 1, clipValue: 1 }), (w, g, step) => inner(w, refClip(g, [4, 2], 1, 1), step))
  })
})

describe('Keras defaults', () => {
  const grads = gradSeq.map(asTree)
  const same = (a: GradientTransformation<unknown>, b: GradientTransformation<unknown>) =>
    expectBitwise(run(a, asTree(w0), grads).at(-1)!.params, run(b, asTree(w0), grads).at(-1)!.params)
  it('sgd: learning rate 0.01, no momentum', () => same(sgd(), sgd({ learningRate: 0.01, momentum: 0 })))
  it('rmsprop: 0.001, rho 0.9, epsilon 1e-7', () =>
    same(rmsprop(), rmsprop({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false })))
  it('adam: 0.001, 0.9, 0.999, 1e-7', () =>
    same(adam(), adam({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false })))
  it('adamw: weight decay 0.004 (Keras 3)', () =>
    same(adamw(), adamw({ learningRate: 0.001, weightDecay: 0.004 })))
  it('nadam: 0.001, 0.9, 0.999, 1e-7', () =>
    same(nadam(), nadam({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 })))
  it('adagrad: 0.001, initial accumulator 0.1, epsilon 1e-7', () =>
    same(adagrad(), adagrad({ learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 })))
  it('the defaults match the reference formulas with the Keras defaults', () => {
    check(adam(), refAdam(constant(0.001)))
    check(sgd(), refSgd(constant(0.01)))
    check(adagrad(), refAdagrad(constant(0.001)))
  })
})

describe('each alias is a chain in the documented order', () => {
  it('the state lists the members in order', () => {
    const p = asTree(w0)
    expect(Object.keys(adam().init(p)[1])).toEqual(['count', 'mu', 'nu'])
    expect(adam().init(p)[2]).toEqual({ count: 0 })
    expect(adamw().init(p)[2]).toEqual({})
    expect(adamw().init(p)).toHaveLength(4)
    expect(sgd().init(p)).toHaveLength(2)
    expect(Object.keys(sgd({ momentum: 0.9 }).init(p)[2] ?? {})).toEqual(['trace'])
    expect(rmsprop({ momentum: 0.9 }).init(p)).toHaveLength(4)
    expect(Object.keys(rmsprop({ centered: true }).init(p)[1])).toEqual(['nu', 'mu'])
    expect(rmsprop({ clipNorm: 1, clipValue: 1 }).init(p)[0]).toEqual([{}, {}])
  })
  it('clipNorm with globalClipNorm is refused with a clear error', () => {
    expect(() => adam({ clipNorm: 1, globalClipNorm: 1 })).toThrow(
      /clipNorm .* and globalClipNorm .* cannot be used together/,
    )
  })
  it('bad hyperparameters throw at construction', () => {
    expect(() => sgd({ momentum: 1 })).toThrow(RangeError)
    expect(() => adam({ beta1: -0.1 })).toThrow(/beta1 must be in \[0, 1\)/)
    expect(() => rmsprop({ clipValue: 0 })).toThrow(/maxDelta must be a finite number > 0/)
  })
})

describe('optimizer state is plain data: saved and restored bit-exactly', () => {
  const optimizers: [string, () => GradientTransformation<unknown>][] = [
    ['sgd momentum nesterov', () => sgd({ momentum: 0.9, nesterov: true, clipNorm: 1 })],
    ['rmsprop centered momentum', () => rmsprop({ centered: true, momentum: 0.5, clipValue: 1 })],
    ['adam amsgrad', () => adam({ amsgrad: true, globalClipNorm: 2 })],
    ['adamw', () => adamw()],
    ['nadam', () => nadam()],
    ['adagrad', () => adagrad()],
  ]
  it.each(optimizers)('%s: a JSON round trip of the state gives identical later updates', (_, make) => {
    fc.assert(
      fc.property(problemArb({ min: 2, max: 6 }), ([params, grads]) => {
        const tx = make()
        const half = Math.floor(grads.length / 2)
        const first = run(tx, params, grads.slice(0, half))
        const at = first.at(-1) ?? { params, state: tx.init(params) }
        const restored = roundTrip(at.state)
        expect(restored).not.toBe(at.state)
        const a = run(tx, at.params, grads.slice(half), at.state)
        const b = run(make(), at.params, grads.slice(half), restored)
        a.forEach((s, i) => {
          expectBitwise(s.updates, b[i]!.updates)
          expectBitwise(s.params, b[i]!.params)
        })
      }),
      { seed: 301, numRuns: 15 },
    )
  })
  it('the state holds only tensors, numbers, arrays and plain objects', () => {
    const plain = (x: unknown): boolean =>
      typeof x === 'number' ||
      isTensor(x) ||
      (Array.isArray(x)
        ? x.every(plain)
        : typeof x === 'object' &&
          x !== null &&
          Object.getPrototypeOf(x) === Object.prototype &&
          Object.values(x).every(plain))
    for (const [, make] of optimizers) {
      const tx = make()
      const p = asTree(w0)
      const s = tx.update(asTree(gradSeq[0]!), tx.init(p), p).state
      expect(plain(s)).toBe(true)
    }
  })
})

describe('convergence on random convex quadratics f(w) = ½ (w − b)ᵀ A (w − b), A = MᵀM + ½I', () => {
  const entry = fc.float({ min: Math.fround(-1), max: Math.fround(1), noNaN: true })
  const quadratic = fc.tuple(
    fc.array(entry, { minLength: 9, maxLength: 9 }),
    fc.array(fc.float({ min: Math.fround(-3), max: Math.fround(3), noNaN: true }), {
      minLength: 3,
      maxLength: 3,
    }),
  )
  type P = { readonly w: Tensor }
  const setup = ([m, b]: [number[], number[]]) => {
    const a = Array.from({ length: 9 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3]
      return [0, 1, 2].reduce((s, r) => s + m[r * 3 + i]! * m[r * 3 + j]!, 0) + (i === j ? 0.5 : 0)
    })
    const A = tensor(a, [3, 3])
    const target = tensor(b, [3, 1])
    const loss = (p: P) => {
      const d = sub(p.w, target)
      return mul(sum(mul(d, matmul(A, d))), 0.5)
    }
    // the largest eigenvalue is at most the trace
    return { loss: valueAndGrad(loss), b, trace: a[0]! + a[4]! + a[8]! }
  }
  const minimize = (
    tx: GradientTransformation<unknown>,
    f: ReturnType<typeof setup>['loss'],
    steps: number,
  ) => {
    let params: P = { w: tensor([[0], [0], [0]]) }
    let state = tx.init(params)
    for (let i = 0; i < steps; i++) {
      const r = tx.update(f(params).grad, state, params)
      params = applyUpdates(params, r.updates)
      state = r.state
    }
    return { w: Array.from(params.w.data), loss: f(params).value.item() }
  }

  it('sgd (plain and with momentum) reaches the minimum', () => {
    fc.assert(
      fc.property(quadratic, (q) => {
        const { loss, b, trace } = setup(q)
        for (const tx of [
          sgd({ learningRate: 1 / trace }),
          sgd({ learningRate: 0.5 / trace, momentum: 0.5 }),
        ]) {
          const r = minimize(tx, loss, 300)
          r.w.forEach((wi, i) => {
            expect(wi).toBeCloseTo(b[i]!, 2)
          })
          expect(r.loss).toBeLessThan(1e-5)
        }
      }),
      { seed: 311, numRuns: 10 },
    )
  })

  it('adam with a cosine-decayed learning rate reaches the minimum', () => {
    fc.assert(
      fc.property(quadratic, (q) => {
        const { loss, b } = setup(q)
        const r = minimize(
          adam({ learningRate: cosineDecay({ initialLearningRate: 0.2, decaySteps: 400 }) }),
          loss,
          400,
        )
        r.w.forEach((wi, i) => {
          expect(wi).toBeCloseTo(b[i]!, 2)
        })
        expect(r.loss).toBeLessThan(1e-4)
      }),
      { seed: 312, numRuns: 10 },
    )
  })
})
