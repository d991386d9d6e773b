import { key, type Tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  activation,
  batchNormalization,
  constraintFromConfig,
  constraintToConfig,
  dense,
  dropout,
  flatten,
  fromConfig,
  getConstraint,
  leakyRelu,
  maxNorm,
  mcDropout,
  minMaxNorm,
  nonNeg,
  sequential,
  toSpec,
  unitNorm,
} from '../src/index.js'
import { t32 } from './helpers/fd64.js'

/** `n` float32-exact values in [−3, 3] (a grid of step 2⁻¹²). */
const valuesArb = (n: number): fc.Arbitrary<number[]> =>
  fc.array(
    fc.integer({ min: -3 * 4096, max: 3 * 4096 }).map((i) => i / 4096),
    { minLength: n, maxLength: n },
  )

// Column norms (axis 0) of a [rows, cols] matrix, in float64 from the raw data.
const colNorms = (w: Tensor): number[] => {
  const [r, c] = w.shape as [number, number]
  return Array.from({ length: c }, (_, j) => {
    let s = 0
    for (let i = 0; i < r; i++) s += w.data[i * c + j]! ** 2
    return Math.sqrt(s)
  })
}

/** A random [r, c] float32 matrix with values in [−3, 3]. */
const matrix = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .chain(([r, c]) => valuesArb(r * c).map((v) => t32(v, [r, c])))

const EPS = 1e-7

describe('constraints: the Keras formulas, in float64', () => {
  /** Keras' projection `w·d(n)/(ε + n)` per column, computed in float64. */
  const reference = (w: Tensor, d: (n: number) => number): number[] => {
    const n = colNorms(w)
    const c = w.shape[1]!
    return Array.from(w.data, (v, k) => (v * d(n[k % c]!)) / (EPS + n[k % c]!))
  }
  const close = (got: Tensor, want: readonly number[]) =>
    want.forEach((w, i) => {
      expect(Math.abs(got.data[i]! - w)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(w)))
    })

  it('maxNorm(m) = w·clip(n, 0, m)/(ε + n) and every column norm ≤ m (1e-6 relative)', () => {
    fc.assert(
      fc.property(matrix, fc.integer({ min: 1, max: 8 }), (w, m4) => {
        const m = m4 / 4
        const y = maxNorm(m).project(w)
        close(
          y,
          reference(w, (n) => Math.min(n, m)),
        )
        for (const n of colNorms(y)) expect(n).toBeLessThanOrEqual(m * (1 + 1e-6))
      }),
      { seed: 101, numRuns: 100 },
    )
  })

  it('unitNorm: every column gets norm n/(n + ε), 1 up to ε (1e-5)', () => {
    fc.assert(
      fc.property(matrix, (w) => {
        const y = unitNorm().project(w)
        close(
          y,
          reference(w, () => 1),
        )
        colNorms(w).forEach((n, j) => {
          if (n > 0) expect(Math.abs(colNorms(y)[j]! - n / (n + EPS))).toBeLessThanOrEqual(1e-5)
        })
      }),
      { seed: 102, numRuns: 100 },
    )
  })

  it('minMaxNorm: d = rate·clip(n, lo, hi) + (1 − rate)·n; with rate 1 the norms land in [lo, hi]', () => {
    fc.assert(
      fc.property(matrix, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), (w, a, r) => {
        const lo = a / 4
        const hi = lo + 0.5
        const rate = r / 4
        const y = minMaxNorm({ minValue: lo, maxValue: hi, rate }).project(w)
        close(
          y,
          reference(w, (n) => rate * Math.min(Math.max(n, lo), hi) + (1 - rate) * n),
        )
        if (rate === 1)
          colNorms(w).forEach((n, j) => {
            if (n > 1e-3) {
              expect(colNorms(y)[j]!).toBeLessThanOrEqual(hi * (1 + 1e-5))
              expect(colNorms(y)[j]!).toBeGreaterThanOrEqual(lo * (1 - 1e-5))
            }
          })
      }),
      { seed: 103, numRuns: 100 },
    )
  })

  it('nonNeg zeroes the negative weights and keeps the others bit for bit', () => {
    fc.assert(
      fc.property(matrix, (w) => {
        const y = nonNeg().project(w)
        w.data.forEach((v, i) => {
          if (v < 0) expect(y.data[i]).toBe(0)
          else expect(y.data[i]).toBe(v)
        })
      }),
      { seed: 104, numRuns: 100 },
    )
  })

  it('the norm is taken along the axis asked for', () => {
    const w = t32([3, 4, 0.3, 0.4], [2, 2])
    // rows [3, 4] (norm 5) and [0.3, 0.4] (norm 0.5) with axis 1
    expect([...maxNorm(1, { axis: 1 }).project(w).data].map((v) => +v.toFixed(6))).toEqual([
      0.6, 0.8, 0.3, 0.4,
    ])
    expect([...unitNorm({ axis: [0, 1] }).project(w).data].map((v) => +v.toFixed(5))).toEqual(
      [3, 4, 0.3, 0.4].map((v) => +(v / Math.sqrt(25.25)).toFixed(5)),
    )
  })

  it('rejects bad parameters with the name of the field', () => {
    expect(() => maxNorm(-1)).toThrow('maxNorm: maxValue must be a finite number ≥ 0, got -1')
    expect(() => maxNorm(2, { axis: 0.5 })).toThrow('maxNorm: axis must be an integer')
    expect(() => minMaxNorm({ minValue: 2, maxValue: 1 })).toThrow('minValue 2 is larger than maxValue 1')
    expect(() => minMaxNorm({ rate: 2 })).toThrow('rate must be in [0, 1], got 2')
    expect(() => getConstraint('maxnorm' as never)).toThrow("unknown constraint 'maxnorm'")
  })
})

describe('constraints: config', () => {
  it('Keras defaults: maxNorm(2, axis 0), minMaxNorm(0, 1, rate 1, axis 0), unitNorm(axis 0)', () => {
    expect(getConstraint('maxNorm').config).toEqual({ maxValue: 2, axis: 0 })
    expect(getConstraint('minMaxNorm').config).toEqual({ minValue: 0, maxValue: 1, rate: 1, axis: 0 })
    expect(getConstraint('unitNorm').config).toEqual({ axis: 0 })
  })

  it('decode(encode(c)) has the same config, for every constraint', () => {
    for (const c of [
      maxNorm(3, { axis: [0, 1] }),
      nonNeg(),
      unitNorm({ axis: 1 }),
      minMaxNorm({ rate: 0.5 }),
    ]) {
      const back = constraintFromConfig(constraintToConfig(c))
      expect(back._tag === 'Right' && [back.right.name, back.right.config]).toEqual([c.name, c.config])
    }
  })

  it('names the bad field of a saved config', () => {
    const r = constraintFromConfig({ name: 'maxNorm', maxValue: '2' }, 'kernelConstraint')
    expect(r._tag === 'Left' && r.left).toBe('kernelConstraint.maxValue: expected a finite number, got "2"')
    const s = constraintFromConfig({ name: 'maxNorm', maxValue: -2 }, 'kernelConstraint')
    expect(s._tag === 'Left' && s.left).toBe(
      'kernelConstraint: maxNorm: maxValue must be a finite number ≥ 0, got -2',
    )
  })
})

describe('dense with constraints', () => {
  it('constrain projects the kernel and the bias; saved and rebuilt with the config', () => {
    const layer = dense({ units: 2, kernelConstraint: maxNorm(1), biasConstraint: 'nonNeg' })
    expect(layer.config.kernelConstraint).toEqual({ name: 'maxNorm', maxValue: 1, axis: 0 })
    expect(layer.config.biasConstraint).toEqual({ name: 'nonNeg' })
    const params = { kernel: t32([3, 0.3, 4, 0.4], [2, 2]), bias: t32([-1, 1], [2]) }
    const out = layer.constrain!(params)
    expect([...out.kernel.data].map((v) => +v.toFixed(6))).toEqual([0.6, 0.3, 0.8, 0.4])
    expect([...out.bias!.data]).toEqual([0, 1])
    const rebuilt = fromConfig(toSpec(sequential([layer], { name: 's' })))
    expect(rebuilt._tag).toBe('Right')
    if (rebuilt._tag !== 'Right') return
    const again = rebuilt.right.constrain!({ dense: params }) as { dense: typeof params }
    expect([...again.dense.kernel.data]).toEqual([...out.kernel.data])
    expect(toSpec(rebuilt.right)).toEqual(toSpec(sequential([layer], { name: 's' })))
  })

  it('a layer without constraints has no constrain (nor config keys), nor has a sequential of such layers', () => {
    expect(dense({ units: 1 }).constrain).toBeUndefined()
    expect(Object.keys(dense({ units: 1 }).config)).not.toContain('kernelConstraint')
    expect(sequential([dense({ units: 1 })]).constrain).toBeUndefined()
  })

  it('a bad constraint in a saved Dense config is an error naming the field', () => {
    const r = fromConfig({
      kind: 'Dense',
      config: { ...dense({ units: 1 }).config, kernelConstraint: { name: 'maxNorm', axis: 'x' } },
    })
    expect(r._tag === 'Left' && r.left).toContain(
      'kernelConstraint.axis: expected an integer or an array of integers',
    )
  })
})

describe('unknown options are rejected by the built-in constructors', () => {
  const cases: [string, () => unknown, string][] = [
    [
      'dense',
      () => dense({ units: 1, kernelConstraints: maxNorm() } as never),
      "dense: unknown option 'kernelConstraints'",
    ],
    ['flatten', () => flatten({ inputShape: [2] } as never), "flatten: unknown option 'inputShape'"],
    ['activation', () => activation('relu', { alpha: 1 } as never), "activation: unknown option 'alpha'"],
    [
      'leakyRelu',
      () => leakyRelu({ negativeSlope: 0.1 } as never),
      "leakyRelu: unknown option 'negativeSlope'",
    ],
    [
      'batchNormalization',
      () => batchNormalization({ gammaConstraint: 'nonNeg' } as never),
      "batchNormalization: unknown option 'gammaConstraint'",
    ],
    ['dropout', () => dropout({ rate: 0.1, seed: 1 } as never), "dropout: unknown option 'seed'"],
    [
      'mcDropout',
      () => mcDropout({ rate: 0.1, noiseShape: [1] } as never),
      "mcDropout: unknown option 'noiseShape'",
    ],
    [
      'sequential',
      () => sequential([], { input_shape: [2] } as never),
      "sequential: unknown option 'input_shape'",
    ],
  ]
  it.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(message)
  })

  it('the message lists the options the constructor takes', () => {
    expect(() => dense({ units: 1, kernel_constraint: null } as never)).toThrow(
      'dense takes units, activation, useBias, kernelInitializer, biasInitializer, kernelRegularizer, biasRegularizer, kernelConstraint, biasConstraint, name',
    )
  })

  it('a known key still works', () => {
    expect(dense({ units: 1, kernelConstraint: 'nonNeg' }).init(key(0), [2]).params.kernel.shape).toEqual([
      2, 1,
    ])
  })
})
