import { type Key, key, split, type Tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  computeFans,
  type FanMode,
  getInitializer,
  type Initializer,
  type InitializerName,
  initializerFromConfig,
  initializers,
  initializerToConfig,
  type VarianceScalingDistribution,
} from '../src/initializers.js'

/** Keras' constant: the standard deviation of a standard normal truncated to [−2, 2]. */
const TRUNC = 0.87962566103423978

/** Sample moments in float64. */
const stats = (t: Tensor) => {
  let s = 0
  let s2 = 0
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const v of t.data) {
    s += v
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  const mean = s / t.size
  for (const v of t.data) s2 += (v - mean) ** 2
  return { mean, std: Math.sqrt(s2 / t.size), min: lo, max: hi }
}

const fractionBeyond = (t: Tensor, bound: number): number =>
  t.data.filter((v) => Math.abs(v) > bound).length / t.size

/** Independent fans (Keras' `_compute_fans` written out once more). */
const fans64 = (shape: readonly number[]): [number, number] => {
  if (shape.length === 0) return [1, 1]
  if (shape.length === 1) return [shape[0]!, shape[0]!]
  let r = 1
  for (let i = 0; i < shape.length - 2; i++) r *= shape[i]!
  return [shape[shape.length - 2]! * r, shape[shape.length - 1]! * r]
}

describe('computeFans', () => {
  it('follows Keras for ranks 0 to 4', () => {
    expect(computeFans([])).toEqual({ fanIn: 1, fanOut: 1 })
    expect(computeFans([10])).toEqual({ fanIn: 10, fanOut: 10 })
    expect(computeFans([784, 300])).toEqual({ fanIn: 784, fanOut: 300 })
    expect(computeFans([5, 16, 32])).toEqual({ fanIn: 80, fanOut: 160 })
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 })
  })

  it('property: fanIn·shape[-1] = fanOut·shape[-2] = size for rank ≥ 2, and matches the reference', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 5 }), (shape) => {
        const { fanIn, fanOut } = computeFans(shape)
        expect([fanIn, fanOut]).toEqual(fans64(shape))
        if (shape.length >= 2) {
          const size = shape.reduce((p, d) => p * d, 1)
          expect(fanIn * shape.at(-1)!).toBe(size)
          expect(fanOut * shape.at(-2)!).toBe(size)
        }
      }),
      { seed: 11, numRuns: 200 },
    )
  })
})

// Sample statistics on 10⁶ (or 5·10⁵) draws. The relative standard error of a sample
// standard deviation is about 1/√(2N) ≈ 0.07 % for N = 10⁶ (0.1 % for a uniform), so the
// stated tolerance of 1 % is more than ten standard errors: these tests do not flake, and a
// wrong formula (a missing factor 2, a wrong fan, a forgotten 0.8796 correction = 13.7 %)
// fails them by far.
const STD_TOL = 0.01

describe('variance-scaling initializers: sample statistics match the formulas', () => {
  const k = key(2024)
  const cases: readonly (readonly [InitializerName, readonly number[], number, 'normal' | 'uniform'])[] = [
    // [name, shape, target variance, distribution]
    ['glorotUniform', [1000, 1000], 1 / 1000, 'uniform'],
    ['glorotNormal', [1000, 1000], 1 / 1000, 'normal'],
    ['glorotUniform', [400, 1600], 1 / 1000, 'uniform'], // fan_avg = 1000, fan_in = 400
    ['glorotNormal', [400, 1600], 1 / 1000, 'normal'],
    ['heNormal', [1000, 1000], 2 / 1000, 'normal'],
    ['heUniform', [1000, 1000], 2 / 1000, 'uniform'],
    ['heNormal', [500, 2000], 2 / 500, 'normal'], // fan_in = 500, fan_avg = 1250
    ['heUniform', [500, 2000], 2 / 500, 'uniform'],
    ['lecunNormal', [1000, 1000], 1 / 1000, 'normal'],
    ['lecunUniform', [500, 2000], 1 / 500, 'uniform'],
    ['heNormal', [3, 3, 64, 256], 2 / 576, 'normal'], // a convolution kernel: fan_in = 3·3·64
  ]

  it.each(cases)('%s %j: std = sqrt(variance) within 1 %', (name, shape, variance, dist) => {
    const w = getInitializer(name).init(k, shape)
    expect(w.shape).toEqual(shape)
    const { mean, std, min, max } = stats(w)
    const target = Math.sqrt(variance)
    expect(Math.abs(std / target - 1)).toBeLessThan(STD_TOL)
    expect(Math.abs(mean)).toBeLessThan((5 * target) / Math.sqrt(w.size))
    if (dist === 'uniform') {
      const limit = Math.sqrt(3 * variance)
      expect(min).toBeGreaterThanOrEqual(-limit * (1 + 1e-6))
      expect(max).toBeLessThan(limit * (1 + 1e-6))
      expect(max).toBeGreaterThan(limit * 0.999) // the whole interval is used
      expect(Math.abs(std ** 2 / (limit ** 2 / 3) - 1)).toBeLessThan(2 * STD_TOL)
    } else {
      const before = target / TRUNC // stddev of the normal before truncation
      expect(Math.max(-min, max)).toBeLessThan(2 * before * (1 + 1e-6)) // cut at 2σ
      expect(Math.max(-min, max)).toBeGreaterThan(2 * before * 0.999)
    }
  })

  const modes: readonly (readonly [FanMode, number])[] = [
    ['fanIn', 200],
    ['fanOut', 2000],
    ['fanAvg', 1100],
  ]
  const dists: readonly VarianceScalingDistribution[] = ['truncatedNormal', 'untruncatedNormal', 'uniform']

  it.each(modes.flatMap(([mode, n]) => dists.map((d) => [mode, n, d] as const)))(
    'varianceScaling(scale 3, %s, %s) on [200, 2000]: n = %i',
    (mode, n, distribution) => {
      const scale = 3
      const w = initializers.varianceScaling({ scale, mode, distribution }).init(key(7), [200, 2000])
      const { std, min, max } = stats(w)
      const target = Math.sqrt(scale / n)
      expect(Math.abs(std / target - 1)).toBeLessThan(STD_TOL)
      const amax = Math.max(-min, max)
      if (distribution === 'uniform') expect(amax).toBeLessThan(Math.sqrt((3 * scale) / n) * (1 + 1e-6))
      if (distribution === 'truncatedNormal') expect(amax).toBeLessThan(((2 * target) / TRUNC) * (1 + 1e-6))
      if (distribution === 'untruncatedNormal') {
        // P(|z| > 2) = 4.55 % for an untruncated normal; none for the truncated one
        expect(Math.abs(fractionBeyond(w, 2 * target) - 0.0455)).toBeLessThan(0.003)
      }
    },
  )

  it("the chapter's varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' })", () => {
    const init = initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' })
    const w = init.init(key(0), [784, 300])
    const limit = Math.sqrt((3 * 2) / ((784 + 300) / 2))
    const { std, max } = stats(w)
    expect(max).toBeLessThan(limit)
    expect(Math.abs(std / (limit / Math.sqrt(3)) - 1)).toBeLessThan(0.02) // 235,200 draws
  })

  it('Keras defaults of varianceScaling: scale 1, fanIn, truncatedNormal', () => {
    expect(initializers.varianceScaling().config).toEqual({
      scale: 1,
      mode: 'fanIn',
      distribution: 'truncatedNormal',
    })
    const a = initializers.varianceScaling().init(key(3), [50, 20])
    const b = initializers.lecunNormal.init(key(3), [50, 20])
    expect(a.data).toEqual(b.data)
  })

  it('fans below 1 are floored at 1, as Keras (max(1, n))', () => {
    const w = initializers.heUniform.init(key(0), [0, 5])
    expect(w.shape).toEqual([0, 5])
    expect(initializers.glorotUniform.init(key(0), []).shape).toEqual([])
  })
})

describe('fixed-scale initializers', () => {
  it('randomNormal: Keras defaults mean 0, stddev 0.05', () => {
    const init = initializers.randomNormal()
    expect(init.config).toEqual({ mean: 0, stddev: 0.05 })
    const { mean, std } = stats(init.init(key(1), [1000, 1000]))
    expect(Math.abs(mean)).toBeLessThan(5 * (0.05 / 1000))
    expect(Math.abs(std / 0.05 - 1)).toBeLessThan(STD_TOL)
  })

  it('randomNormal with a mean', () => {
    const { mean, std } = stats(initializers.randomNormal({ mean: 3, stddev: 2 }).init(key(1), [100000]))
    expect(Math.abs(mean - 3)).toBeLessThan((5 * 2) / Math.sqrt(1e5))
    expect(Math.abs(std / 2 - 1)).toBeLessThan(0.02)
  })

  it('randomUniform: Keras defaults [-0.05, 0.05), variance (max − min)²/12', () => {
    const init = initializers.randomUniform()
    expect(init.config).toEqual({ minval: -0.05, maxval: 0.05 })
    const { std, min, max } = stats(init.init(key(1), [1000, 1000]))
    expect(min).toBeGreaterThanOrEqual(Math.fround(-0.05))
    expect(max).toBeLessThan(Math.fround(0.05))
    expect(Math.abs(std ** 2 / (0.1 ** 2 / 12) - 1)).toBeLessThan(2 * STD_TOL)
  })

  it('truncatedNormal: stddev is before truncation (std 0.8796·stddev, cut at 2·stddev)', () => {
    const init = initializers.truncatedNormal()
    expect(init.config).toEqual({ mean: 0, stddev: 0.05 })
    const { std, min, max } = stats(init.init(key(1), [1000, 1000]))
    expect(Math.abs(std / (0.05 * TRUNC) - 1)).toBeLessThan(STD_TOL)
    expect(Math.max(-min, max)).toBeLessThan(0.1)
    const shifted = stats(initializers.truncatedNormal({ mean: 1, stddev: 0.5 }).init(key(2), [100000]))
    expect(shifted.min).toBeGreaterThan(0)
    expect(shifted.max).toBeLessThan(2)
  })

  it('zeros, ones and constant ignore the key', () => {
    expect(initializers.zeros.init(key(0), [2, 3]).data).toEqual(new Float32Array(6))
    expect(initializers.ones.init(key(5), [4]).data).toEqual(new Float32Array([1, 1, 1, 1]))
    expect(initializers.constant(0.25).init(key(9), [3]).data).toEqual(new Float32Array([0.25, 0.25, 0.25]))
    expect(initializers.constant().config).toEqual({ value: 0 })
  })
})

const everyInitializer: readonly (readonly [string, Initializer])[] = [
  ...(
    [
      'glorotUniform',
      'glorotNormal',
      'heNormal',
      'heUniform',
      'lecunNormal',
      'lecunUniform',
      'zeros',
      'ones',
    ] as const
  ).map((n) => [n, getInitializer(n)] as const),
  ['constant(-1.5)', initializers.constant(-1.5)],
  ['randomNormal', initializers.randomNormal({ mean: 0.5, stddev: 2 })],
  ['randomUniform', initializers.randomUniform({ minval: -3, maxval: 1 })],
  ['truncatedNormal', initializers.truncatedNormal({ mean: -1, stddev: 0.1 })],
  ...(['truncatedNormal', 'untruncatedNormal', 'uniform'] as const).map(
    (distribution) =>
      [
        `varianceScaling(${distribution})`,
        initializers.varianceScaling({ scale: 0.5, mode: 'fanOut', distribution }),
      ] as const,
  ),
]

describe('keys', () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })

  it.each(everyInitializer)('%s: same key and shape, same weights, bit for bit', (_, init) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), shapeArb, (seed, shape) => {
        const a = init.init(key(seed), shape)
        const b = init.init(key(seed), shape)
        expect(a.shape).toEqual(shape)
        expect(b.data).toEqual(a.data)
      }),
      { seed: 3, numRuns: 25 },
    )
  })

  it.each(everyInitializer.filter(([n]) => !['zeros', 'ones', 'constant(-1.5)'].includes(n)))(
    '%s: different keys give different weights',
    (_, init) => {
      const [k1, k2] = split(key(0), 2) as [Key, Key]
      const a = init.init(k1, [20, 10])
      const b = init.init(k2, [20, 10])
      const c = init.init(key(1), [20, 10])
      expect(a.data).not.toEqual(b.data)
      expect(a.data).not.toEqual(c.data)
    },
  )
})

describe('getInitializer', () => {
  it('names give the constants, values pass through', () => {
    expect(getInitializer('glorotUniform')).toBe(initializers.glorotUniform)
    expect(getInitializer('heNormal').name).toBe('heNormal')
    const v = initializers.constant(2)
    expect(getInitializer(v)).toBe(v)
  })

  it('an unknown name (from untyped code) throws, listing the names', () => {
    expect(() => getInitializer('he_normal' as InitializerName)).toThrow(
      /unknown initializer 'he_normal', expected one of 'glorotUniform'/,
    )
  })

  it('bad parameters throw RangeError naming the field', () => {
    expect(() => initializers.varianceScaling({ scale: 0 })).toThrow(
      /varianceScaling: scale: expected a positive/,
    )
    expect(() => initializers.varianceScaling({ mode: 'fan_avg' as FanMode })).toThrow(
      /mode: expected one of/,
    )
    expect(() =>
      initializers.varianceScaling({ distribution: 'normal' as VarianceScalingDistribution }),
    ).toThrow(/distribution: expected one of 'truncatedNormal'/)
    expect(() => initializers.randomUniform({ minval: 1, maxval: 1 })).toThrow(
      /maxval: expected a finite number greater/,
    )
    expect(() => initializers.randomNormal({ stddev: -1 })).toThrow(/stddev: expected a non-negative/)
    expect(() => initializers.constant(Number.NaN)).toThrow(RangeError)
  })

  it('initializers are frozen values', () => {
    expect(Object.isFrozen(initializers)).toBe(true)
    expect(Object.isFrozen(initializers.heNormal)).toBe(true)
    expect(Object.isFrozen(initializers.varianceScaling().config)).toBe(true)
  })
})

describe('initializer config', () => {
  it('writes a name for the named ones and { name, ...params } otherwise', () => {
    expect(initializerToConfig(initializers.glorotUniform)).toBe('glorotUniform')
    expect(initializerToConfig(initializers.zeros)).toBe('zeros')
    expect(
      initializerToConfig(
        initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' }),
      ),
    ).toEqual({
      name: 'varianceScaling',
      scale: 2,
      mode: 'fanAvg',
      distribution: 'uniform',
    })
    expect(initializerToConfig(initializers.randomUniform())).toEqual({
      name: 'randomUniform',
      minval: -0.05,
      maxval: 0.05,
    })
  })

  it.each(everyInitializer)(
    '%s: fromConfig(toConfig(x)) draws the same weights (through JSON text)',
    (_, init) => {
      const back = initializerFromConfig(JSON.parse(JSON.stringify(initializerToConfig(init))))
      if (back._tag === 'Left') throw new Error(back.left)
      expect(back.right.name).toBe(init.name)
      expect(back.right.config).toEqual(init.config)
      expect(back.right.init(key(4), [30, 7]).data).toEqual(init.init(key(4), [30, 7]).data)
    },
  )

  it('missing parameters take the Keras defaults', () => {
    const r = initializerFromConfig({ name: 'varianceScaling', scale: 2 })
    expect(r._tag === 'Right' && r.right.config).toEqual({
      scale: 2,
      mode: 'fanIn',
      distribution: 'truncatedNormal',
    })
    const n = initializerFromConfig({ name: 'truncatedNormal' })
    expect(n._tag === 'Right' && n.right.config).toEqual({ mean: 0, stddev: 0.05 })
    const h = initializerFromConfig({ name: 'heNormal' })
    expect(h._tag === 'Right' && h.right).toBe(initializers.heNormal)
  })

  it.each([
    ['he_normal', "initializer: expected one of 'glorotUniform' | 'glorotNormal'"],
    ['varianceScaling', 'initializer: expected one of'], // parameterized: needs the object form
    [3, 'initializer: expected an initializer name or { name, ...params }, got 3'],
    [{ scale: 2 }, 'initializer.name: expected one of'],
    [{ name: 'orthogonal' }, 'initializer.name: expected one of'],
    [{ name: 'varianceScaling', scale: -1 }, 'initializer.scale: expected a positive finite number, got -1'],
    [
      { name: 'varianceScaling', scale: '2' },
      'initializer.scale: expected a positive finite number, got "2"',
    ],
    [
      { name: 'varianceScaling', mode: 'fan_avg' },
      "initializer.mode: expected one of 'fanIn' | 'fanOut' | 'fanAvg', got \"fan_avg\"",
    ],
    [{ name: 'varianceScaling', distribution: 'normal' }, 'initializer.distribution: expected one of'],
    [
      { name: 'varianceScaling', seed: 1 },
      "initializer.seed: 'varianceScaling' takes only scale, mode, distribution",
    ],
    [
      { name: 'randomUniform', minval: 1 },
      'initializer.maxval: expected a finite number greater than minval (1), got 0.05',
    ],
    [
      { name: 'randomNormal', stddev: null },
      'initializer.stddev: expected a non-negative finite number, got null',
    ],
    [{ name: 'constant', value: 'one' }, 'initializer.value: expected a finite number, got "one"'],
    [{ name: 'zeros', value: 0 }, "initializer.value: 'zeros' takes no parameters, got a field 'value'"],
  ] as const)('bad config %j gives an error naming the field', (config, message) => {
    const r = initializerFromConfig(config)
    expect(r._tag).toBe('Left')
    expect(r._tag === 'Left' && r.left).toContain(message)
  })

  it('error messages use the path of the caller', () => {
    const r = initializerFromConfig({ name: 'varianceScaling', mode: 'avg' }, 'kernelInitializer')
    expect(r._tag === 'Left' && r.left).toBe(
      "kernelInitializer.mode: expected one of 'fanIn' | 'fanOut' | 'fanAvg', got \"avg\"",
    )
  })
})
