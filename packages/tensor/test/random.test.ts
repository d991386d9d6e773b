import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { mul } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { valueAndGrad } from '../src/grad.js'
import { erf, erfc, erfinv } from '../src/internal/special.js'
import { threefry2x32, threefryXor } from '../src/internal/threefry.js'
import {
  bernoulli,
  dropout,
  foldIn,
  type Key,
  key,
  normal,
  permutation,
  split,
  truncatedNormal,
  uniform,
} from '../src/random.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'

const runs = { seed: 42, numRuns: 50 }
const seeds = fc.oneof(fc.integer(), fc.maxSafeInteger())

const mean = (d: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < d.length; i++) s += d[i]!
  return s / d.length
}
const variance = (d: ArrayLike<number>): number => {
  const m = mean(d)
  let s = 0
  for (let i = 0; i < d.length; i++) s += (d[i]! - m) ** 2
  return s / (d.length - 1)
}
const words = (ks: readonly Key[]): (readonly [number, number])[] => ks.map((k) => k.words)
const sameWords = (a: Key, b: Key): boolean => a.words[0] === b.words[0] && a.words[1] === b.words[1]

// Statistical checks draw N = 1e5 values from a fixed key, so they are deterministic; each bound
// is 5 standard errors of the estimator, which a correct generator misses with probability < 1e-6.
const N = 100_000

describe('threefry2x32', () => {
  // Known-answer vectors of Random123 (test_threefry.cpp), the ones JAX's testThreefry2x32 uses.
  it('matches the Random123 known-answer vectors', () => {
    expect(threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3])).toEqual([0xc4923a9c, 0x483df7a0])
    expect(threefry2x32([0, 0], [0, 0])).toEqual([0x6b200159, 0x99ba4efe])
    expect(threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([0x1cb996fc, 0xbb002be7])
  })

  it("reproduces JAX's legacy random_bits(PRNGKey(1701), 32, (3,))", () => {
    // JAX tests/random_test.py testRngRandomBits: [56197195, 4200222568, 961309823]. Legacy
    // random_bits hashes the padded iota [0, 1, 2, 0] as x0 = [0, 1], x1 = [2, 0] and returns
    // [y0(0,2), y0(1,0), y1(0,2)].
    const a = threefry2x32(key(1701).words, [0, 2])
    const b = threefry2x32(key(1701).words, [1, 0])
    expect([a[0], b[0], a[1]]).toEqual([56197195, 4200222568, 961309823])
  })

  const word = fc.integer({ min: 0, max: 0xffffffff })
  test.prop([word, word, word, word], runs)('unrolled (threefryXor) gives y0 ^ y1', (k0, k1, x0, x1) => {
    const [y0, y1] = threefry2x32([k0, k1], [x0, x1])
    expect(threefryXor(k0, k1, x0, x1)).toBe((y0 ^ y1) >>> 0)
  })
})

describe('key', () => {
  it('takes the high and low words of the 64-bit seed, as JAX with x64', () => {
    // JAX tests/random_test.py test_prng_seeds_and_keys (jax_enable_x64 values)
    const cases: [number, [number, number]][] = [
      [0, [0, 0]],
      [1, [0, 1]],
      [3, [0, 3]],
      [-1, [4294967295, 4294967295]],
      [-3, [4294967295, 4294967293]],
      [2147483647 + 100, [0, 2147483747]],
      [-2147483648 - 100, [4294967295, 2147483548]],
      [-2147483648 - 101, [4294967295, 2147483547]],
      [2 ** 53, [2 ** 21, 0]],
      [-(2 ** 53), [2 ** 32 - 2 ** 21, 0]],
      [2 ** 32 + 5, [1, 5]],
    ]
    for (const [seed, expected] of cases) expect(key(seed).words).toEqual(expected)
  })

  it('is a frozen value', () => {
    const k = key(7)
    expect(Object.isFrozen(k)).toBe(true)
    expect(Object.isFrozen(k.words)).toBe(true)
  })

  it('rejects non-integer and too large seeds', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, -0.25])
      expect(() => key(bad)).toThrow(TypeError)
    expect(() => key(1.5)).toThrow(/integer/)
    expect(() => key(2 ** 53 + 2)).toThrow(RangeError)
  })

  test.prop([seeds], runs)('same seed, same key and same numbers', (seed) => {
    const a = key(seed)
    const b = key(seed)
    expect(a.words).toEqual(b.words)
    expect(Array.from(uniform(a, [16]).data)).toEqual(Array.from(uniform(b, [16]).data))
    expect(Array.from(normal(a, [16]).data)).toEqual(Array.from(normal(b, [16]).data))
    expect(words(split(a, 3))).toEqual(words(split(b, 3)))
    expect(Array.from(permutation(a, 20))).toEqual(Array.from(permutation(b, 20)))
  })
})

describe('split', () => {
  it('is bit-identical to jax.random.split (legacy threefry)', () => {
    // JAX tests/random_test.py testPRNGValues
    expect(words(split(key(0), 4))).toEqual([
      [2285895361, 1501764800],
      [1518642379, 4090693311],
      [433833334, 4221794875],
      [839183663, 3740430601],
    ])
  })

  it('makes two keys by default, zero on request, and checks n', () => {
    expect(split(key(3))).toHaveLength(2)
    expect(split(key(3), 0)).toEqual([])
    expect(() => split(key(3), -1)).toThrow(RangeError)
    expect(() => split(key(3), 1.5)).toThrow(RangeError)
    expect(() => split({ words: [1, -2] } as unknown as Key)).toThrow(TypeError)
  })

  test.prop([seeds, fc.integer({ min: 2, max: 8 })], runs)(
    'gives distinct keys with different streams',
    (seed, n) => {
      const parent = key(seed)
      const ks = split(parent, n)
      expect(ks).toHaveLength(n)
      for (let i = 0; i < n; i++) {
        expect(sameWords(ks[i]!, parent)).toBe(false)
        for (let j = i + 1; j < n; j++) {
          expect(sameWords(ks[i]!, ks[j]!)).toBe(false)
          expect(Array.from(uniform(ks[i]!, [8]).data)).not.toEqual(Array.from(uniform(ks[j]!, [8]).data))
        }
      }
    },
  )
})

describe('foldIn', () => {
  it('is bit-identical to jax.random.fold_in', () => {
    // JAX tests/random_test.py testPRNGValues
    expect(foldIn(key(0), 4).words).toEqual([2285895361, 433833334])
  })

  it('wraps negative data to uint32 and rejects non-integers', () => {
    expect(foldIn(key(5), -1).words).toEqual(foldIn(key(5), 2 ** 32 - 1).words)
    expect(() => foldIn(key(5), 0.5)).toThrow(TypeError)
    expect(() => foldIn(key(5), 2 ** 32)).toThrow(TypeError)
  })

  test.prop([seeds, fc.nat(), fc.nat()], runs)('changes the key and separates data values', (seed, a, b) => {
    const k = key(seed)
    expect(sameWords(foldIn(k, a), k)).toBe(false)
    expect(foldIn(k, a).words).toEqual(foldIn(k, a).words)
    if (a !== b) expect(sameWords(foldIn(k, a), foldIn(k, b))).toBe(false)
  })
})

describe('uniform', () => {
  it('has mean 1/2 and variance 1/12 on [0, 1)', () => {
    const u = uniform(key(0), [N]).data
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true)
    // sd of U(0,1) is 1/√12, so SE(mean) = 1/√(12N) ≈ 9.1e-4; 5 SE ≈ 4.6e-3
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(5 / Math.sqrt(12 * N))
    // Var(s²) ≈ (μ₄ − σ⁴)/N with μ₄ = 1/80, σ⁴ = 1/144: SE ≈ 2.4e-4; 5 SE ≈ 1.2e-3
    expect(Math.abs(variance(u) - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N))
  })

  it('scales to [minval, maxval)', () => {
    const u = uniform(key(1), [N], { minval: -3, maxval: 5 }).data
    expect(u.every((v) => v >= -3 && v < 5)).toBe(true)
    // sd 8/√12: 5 SE of the mean ≈ 0.037
    expect(Math.abs(mean(u) - 1)).toBeLessThan((5 * 8) / Math.sqrt(12 * N))
  })

  it("uses JAX's partitionable bits and bits-to-float trick", () => {
    // JAX's partitionable random_bits: element i is y0 ^ y1 with (y0, y1) = threefry(key, (0, i)),
    // which is fold_in(key, i); JAX's testPRNGValues pins fold_in(PRNGKey(0), 4).
    const bits = (2285895361 ^ 433833334) >>> 0
    expect(uniform(key(0), [5]).data[4]).toBe((bits >>> 9) * 2 ** -23)
  })

  it('returns a frozen float32 tensor of the given shape, and checks its arguments', () => {
    const t = uniform(key(2), [2, 3, 4])
    expect(t.shape).toEqual([2, 3, 4])
    expect(t.size).toBe(24)
    expect(t.data).toBeInstanceOf(Float32Array)
    expect(Object.isFrozen(t)).toBe(true)
    expect(uniform(key(2), []).size).toBe(1)
    expect(() => uniform(key(2), [2, -1])).toThrow(ShapeError)
    expect(() => uniform(key(2), [2], { minval: 1, maxval: 1 })).toThrow(RangeError)
    expect(() => uniform(key(2), [2], { minval: 0, maxval: Number.NaN })).toThrow(RangeError)
  })

  it('never reaches maxval even when float32 rounding would', () => {
    // u·(maxval − minval) + minval rounds up to maxval for the top mantissa values here
    const t = uniform(key(4), [10_000], { minval: 1e8, maxval: 1e8 + 64 }).data
    expect(t.every((v) => v >= 1e8 && v < 1e8 + 64)).toBe(true)
  })

  test.prop([seeds, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 300 })], runs)(
    'is counter-based: a prefix of a longer draw, independent of the shape',
    (seed, n, k0) => {
      const k = Math.min(k0, n)
      const kk = key(seed)
      const long = uniform(kk, [n]).data
      expect(Array.from(uniform(kk, [k]).data)).toEqual(Array.from(long.subarray(0, k)))
      expect(Array.from(normal(kk, [k]).data)).toEqual(Array.from(normal(kk, [n]).data.subarray(0, k)))
      expect(Array.from(uniform(kk, [n, 1]).data)).toEqual(Array.from(long))
    },
  )
})

describe('normal', () => {
  it('has mean 0 and variance 1', () => {
    const z = normal(key(0), [N]).data
    // SE(mean) = 1/√N ≈ 3.2e-3; 5 SE ≈ 0.016
    expect(Math.abs(mean(z))).toBeLessThan(5 / Math.sqrt(N))
    // Var(s²) = 2σ⁴/N for a normal: SE ≈ 4.5e-3; 5 SE ≈ 0.022
    expect(Math.abs(variance(z) - 1)).toBeLessThan(5 * Math.sqrt(2 / N))
    // u is within (−1 + 2⁻²⁴, 1 − 3·2⁻²⁴), so |z| ≤ √2·erfinv(1 − 2⁻²⁴) ≈ 5.42
    expect(z.every((v) => Math.abs(v) < 5.5)).toBe(true)
    // P(|z| < 1) = erf(1/√2) ≈ 0.6827; SE = √(p(1−p)/N) ≈ 1.5e-3; 5 SE ≈ 7.4e-3
    const p = erf(Math.SQRT1_2)
    const inside = z.filter((v) => Math.abs(v) < 1).length / N
    expect(Math.abs(inside - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N))
  })

  it('shifts and scales by mean and stddev', () => {
    const z = normal(key(1), [N], { mean: 3, stddev: 2 }).data
    expect(Math.abs(mean(z) - 3)).toBeLessThan((5 * 2) / Math.sqrt(N))
    expect(Math.abs(variance(z) - 4)).toBeLessThan(5 * 4 * Math.sqrt(2 / N))
    expect(() => normal(key(1), [2], { stddev: -1 })).toThrow(RangeError)
  })
})

describe('truncatedNormal', () => {
  // Standard normal truncated to [−a, a], a = 2, Z = erf(a/√2), φ(a) = e^(−a²/2)/√(2π):
  // σ_t² = 1 − 2aφ(a)/Z ≈ 0.773741 (σ_t ≈ 0.87962566), E z⁴ = 3 − (2a³ + 6a)φ(a)/Z ≈ 1.416186.
  // Var(s²) ≈ (E z⁴ − σ_t⁴)/N, SE(s) ≈ SE(s²)/(2σ_t) ≈ 1.6e-3 for σ = 1; 5 SE ≈ 8.1e-3.
  const Z = erf(Math.SQRT2)
  const phi = Math.exp(-2) / Math.sqrt(2 * Math.PI)
  const sdT = Math.sqrt(1 - (4 * phi) / Z)
  const m4 = 3 - ((16 + 12) * phi) / Z
  const seStd = Math.sqrt((m4 - sdT ** 4) / N) / (2 * sdT)

  it('has standard deviation 0.87962566·σ', () => {
    expect(sdT).toBeCloseTo(0.87962566103423978, 12)
    const x = truncatedNormal(key(0), [N]).data
    expect(Math.abs(Math.sqrt(variance(x)) - 0.87962566103423978)).toBeLessThan(5 * seStd)
    expect(Math.abs(mean(x))).toBeLessThan((5 * sdT) / Math.sqrt(N))
    const y = truncatedNormal(key(1), [N], { mean: -1, stddev: 0.05 }).data
    expect(Math.abs(Math.sqrt(variance(y)) - 0.05 * 0.87962566103423978)).toBeLessThan(5 * 0.05 * seStd)
  })

  it('never goes beyond two standard deviations', () => {
    for (const [m, s] of [
      [0, 1],
      [0.5, 3],
      [-1, 0.05],
      [100, 1e-3],
    ] as const) {
      const x = truncatedNormal(key(7), [N], { mean: m, stddev: s }).data
      expect(x.every((v) => v > m - 2 * s && v < m + 2 * s)).toBe(true)
    }
  })

  it('puts the truncated mass where the normal has it', () => {
    // P(|z| < 1 | |z| < 2) = erf(1/√2)/erf(√2) ≈ 0.7153; 5 SE ≈ 7.1e-3
    const p = erf(Math.SQRT1_2) / Z
    const x = truncatedNormal(key(2), [N]).data
    const inside = x.filter((v) => Math.abs(v) < 1).length / N
    expect(Math.abs(inside - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N))
  })
})

describe('bernoulli', () => {
  it('gives ones with frequency p', () => {
    const x = bernoulli(key(0), 0.3, [N]).data
    expect(x.every((v) => v === 0 || v === 1)).toBe(true)
    // SE = √(p(1−p)/N) ≈ 1.45e-3; 5 SE ≈ 7.2e-3
    expect(Math.abs(mean(x) - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / N))
  })

  it('handles p = 0 and p = 1 exactly and rejects p outside [0, 1]', () => {
    expect(bernoulli(key(1), 0, [1000]).data.every((v) => v === 0)).toBe(true)
    expect(bernoulli(key(1), 1, [1000]).data.every((v) => v === 1)).toBe(true)
    for (const p of [-0.1, 1.1, Number.NaN]) expect(() => bernoulli(key(1), p, [2])).toThrow(RangeError)
  })
})

describe('dropout', () => {
  const bits = (d: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(d).buffer))
  const rates = fc.oneof(
    fc.constantFrom(0, 0.2, 0.5, 1 / 3, 0.9, 1 - 2 ** -24),
    fc.double({ min: 0, max: 0.999, noNaN: true }),
  )
  const values = fc.oneof(
    fc.float({ noNaN: false }),
    fc.constantFrom(0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1.5),
  )
  test.prop([seeds, rates, fc.array(values, { minLength: 1, maxLength: 300 })], runs)(
    'is bitwise the product with the scaled bernoulli mask, in value and gradient',
    (seed, rate, xs) => {
      const k = key(seed)
      const x = tensor(Float32Array.from(xs))
      const composed = (t: Tensor) => mul(t, mul(bernoulli(k, 1 - rate, t.shape), 1 / (1 - rate)))
      expect(bits(dropout(k, x, rate).data)).toEqual(bits(composed(x).data))
      const g = tensor(Float32Array.from(xs, (_, i) => ((i * 7) % 11) - 5.25))
      const grad = (f: (t: Tensor) => Tensor) => valueAndGrad((t: Tensor) => sum(mul(f(t), g)))(x).grad
      expect(bits(grad((t) => dropout(k, t, rate)).data)).toEqual(bits(grad(composed).data))
    },
  )

  it('keeps 1 − rate of the elements, scaled by 1/(1 − rate), and checks its arguments', () => {
    const y = dropout(key(3), tensor(new Float32Array(N).fill(1), [N / 100, 100]), 0.3).data
    expect(y.every((v) => v === 0 || v === Math.fround(1 / 0.7))).toBe(true)
    const kept = y.filter((v) => v !== 0).length / N
    expect(Math.abs(kept - 0.7)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / N))
    const x = uniform(key(4), [50])
    expect(Array.from(dropout(key(5), x, 0).data)).toEqual(Array.from(x.data))
    for (const rate of [-0.1, 1, Number.NaN]) expect(() => dropout(key(1), x, rate)).toThrow(RangeError)
    expect(() => dropout({ words: [1] } as unknown as Key, x, 0.5)).toThrow(TypeError)
  })
})

describe('permutation', () => {
  test.prop([seeds, fc.integer({ min: 0, max: 200 })], runs)('is a deterministic permutation', (seed, n) => {
    const p = permutation(key(seed), n)
    expect(p).toBeInstanceOf(Int32Array)
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(Array.from(permutation(key(seed), n))).toEqual(Array.from(p))
  })

  it('shuffles, and makes the 6 orders of 3 items equally often', () => {
    const p = permutation(key(0), 100)
    expect(Array.from(p)).not.toEqual(Array.from({ length: 100 }, (_, i) => i))
    // 6000 keys: each order expected 1000 times, sd √(6000·(1/6)·(5/6)) ≈ 28.9; 5 sd ≈ 144
    const counts = new Map<string, number>()
    const base = key(1)
    for (let i = 0; i < 6000; i++) {
      const s = Array.from(permutation(foldIn(base, i), 3)).join('')
      counts.set(s, (counts.get(s) ?? 0) + 1)
    }
    expect(counts.size).toBe(6)
    for (const c of counts.values())
      expect(Math.abs(c - 1000)).toBeLessThan(5 * Math.sqrt(6000 * (1 / 6) * (5 / 6)))
  })

  it('rejects a bad length', () => {
    expect(() => permutation(key(0), -1)).toThrow(RangeError)
    expect(() => permutation(key(0), 2.5)).toThrow(RangeError)
  })
})

describe('erf, erfc, erfinv', () => {
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b)

  it('match reference values', () => {
    // erf to ~1e-15 relative: the reference values below are correctly rounded float64
    const cases: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [1e-3, 0.0011283787909692363],
      [0.25, 0.27632639016823696],
      [2.5, 0.999593047982555],
      [3.5, 0.9999992569016276],
      [5, 0.9999999999984626],
    ]
    for (const [x, v] of cases) {
      expect(rel(erf(x), v)).toBeLessThan(1e-15)
      expect(rel(erf(-x), -v)).toBeLessThan(1e-15)
    }
    expect(erf(0)).toBe(0)
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1)
    expect(erf(Number.NEGATIVE_INFINITY)).toBe(-1)
    expect(erf(Number.NaN)).toBeNaN()
    expect(rel(erfc(5), 1.537459794428035e-12)).toBeLessThan(1e-14)
    expect(rel(erfc(3.5), 7.430983723414128e-7)).toBeLessThan(1e-14)
    expect(rel(erfc(0.5), 0.4795001221869535)).toBeLessThan(1e-15)
    // erfinv(0.5) = 0.476936276204469873…, erfinv(0.999) = 2.326753765513524…, erfinv(1e-10) = √π/2·1e-10
    expect(rel(erfinv(0.5), 0.4769362762044699)).toBeLessThan(1e-15)
    expect(rel(erfinv(0.999), 2.3267537655135246)).toBeLessThan(1e-15)
    expect(rel(erfinv(-0.3), -0.2724627147267544)).toBeLessThan(1e-15)
    expect(rel(erfinv(1e-10), 8.86226925452758e-11)).toBeLessThan(1e-15)
    expect(erfinv(1)).toBe(Number.POSITIVE_INFINITY)
    expect(erfinv(-1)).toBe(Number.NEGATIVE_INFINITY)
    expect(erfinv(1.5)).toBeNaN()
  })

  test.prop([fc.double({ min: -1, max: 1, noNaN: true, minExcluded: true, maxExcluded: true })], runs)(
    'erf(erfinv(y)) = y',
    (y) => {
      expect(Math.abs(erf(erfinv(y)) - y)).toBeLessThanOrEqual(4e-16 + 4e-16 * Math.abs(y))
    },
  )

  // In the tail (1 − y < erfc 2) erfinv solves ln erfc x = ln(1 − y), so it keeps the relative
  // precision of 1 − y, and erfc there has ~1e-15 relative error.
  test.prop([fc.double({ min: 1e-15, max: 4e-3, noNaN: true })], runs)(
    'erfinv keeps the tail: erfc(erfinv(1 − q)) = q',
    (q) => {
      const y = 1 - q // rounds; 1 − y is then the exact q that y represents
      expect(rel(erfc(erfinv(y)), 1 - y)).toBeLessThan(1e-14)
    },
  )
})
