// Explicit PRNG keys, JAX style: every random function takes a Key and returns the same numbers
// for the same key, on any thread count. There is no hidden generator state.

import { mul } from './arith.js'
import { isSharedBuffer } from './internal/platform.js'
import { poolThreads, runChunks, sharedScratch } from './internal/pool.js'
import { checkShape, sizeOf } from './internal/shape.js'
import { erf, erfinv } from './internal/special.js'
import { record } from './internal/tape.js'
import { dropoutKernel, dropoutRange, threefryInto, threefryXor } from './internal/threefry.js'
import { alloc, buf, fromBuffer, type Tensor } from './tensor.js'

/**
 * A PRNG key: two uint32 words that seed the counter-based Threefry-2x32 generator.
 *
 * @remarks
 * A key is a frozen value, never a generator with state: drawing from it does not change it, and
 * the same key always gives the same numbers. To draw several independent samples, derive new keys
 * with {@link split} (or {@link foldIn}) and use each key once, as in JAX. `words` is `[k0, k1]`,
 * what `jax.random.key_data(jax.random.key(seed))` shows for the same seed (for seeds outside
 * [0, 2³²), with `jax_enable_x64`). The generator is Threefry-2x32 (Salmon et al. 2011, "Parallel random
 * numbers: as easy as 1, 2, 3"), as in JAX.
 *
 * @example
 * ```ts
 * import { key } from '@purenn/tensor'
 * console.log(key(42).words) // [ 0, 42 ]
 * ```
 * @category Random
 */
export interface Key {
  /** The two key words, each an integer in [0, 2³²). */
  readonly words: readonly [number, number]
}

/**
 * Options of {@link uniform}: the interval [minval, maxval) to sample from.
 *
 * @remarks
 * Both bounds are rounded to float32 and must satisfy `minval < maxval`, as in `jax.random.uniform`.
 *
 * @example
 * ```ts
 * import { key, uniform, type UniformOptions } from '@purenn/tensor'
 * const opts: UniformOptions = { minval: -0.05, maxval: 0.05 }
 * console.log(uniform(key(0), [3], opts).size) // 3
 * ```
 * @category Random
 */
export interface UniformOptions {
  /** Lower bound, included (default 0). */
  readonly minval?: number
  /** Upper bound, excluded (default 1). */
  readonly maxval?: number
}

/**
 * Options of {@link normal} and {@link truncatedNormal}: the mean and standard deviation.
 *
 * @remarks
 * Samples are `mean + stddev·z` with `z` standard normal (truncated at ±2 for
 * {@link truncatedNormal}, where `stddev` is that of the normal before truncation, as in Keras).
 *
 * @example
 * ```ts
 * import { key, normal, type NormalOptions } from '@purenn/tensor'
 * const opts: NormalOptions = { mean: 0, stddev: Math.sqrt(2 / 784) } // He normal for 784 inputs
 * console.log(normal(key(0), [784, 300], opts).shape) // [ 784, 300 ]
 * ```
 * @category Random
 */
export interface NormalOptions {
  /** Mean of the distribution (default 0). */
  readonly mean?: number
  /** Standard deviation of the (untruncated) distribution, ≥ 0 (default 1). */
  readonly stddev?: number
}

const TWO_POW_32 = 0x100000000
const TWO_POW_53 = 2 ** 53

const makeKey = (k0: number, k1: number): Key =>
  Object.freeze({ words: Object.freeze([k0 >>> 0, k1 >>> 0] as const) })

const isWord = (w: unknown): boolean =>
  typeof w === 'number' && Number.isInteger(w) && w >= 0 && w < TWO_POW_32

/** Throws a TypeError naming `op` unless `k` looks like a {@link Key}. */
const checkKey = (op: string, k: Key): void => {
  const words = (k as { words?: unknown } | null)?.words
  if (!Array.isArray(words) || words.length !== 2 || !isWord(words[0]) || !isWord(words[1]))
    throw new TypeError(`${op}: expected a PRNG key made by key(seed), split or foldIn, got ${String(k)}`)
}

/**
 * A new PRNG key from an integer seed, like `jax.random.key(seed)` (or the legacy `PRNGKey`).
 *
 * @remarks
 * The words are the high and low 32 bits of the seed as a 64-bit two's complement integer,
 * `[⌊seed / 2³²⌋ mod 2³², seed mod 2³²]`, as JAX's `threefry_seed` with 64-bit seeds
 * (`jax_enable_x64`): `key(1)` is `[0, 1]`, `key(-1)` is `[2³² − 1, 2³² − 1]`. Seeds that fit in
 * 32 bits give the same key as JAX's default (32-bit) mode when non-negative. Threefry-2x32 is the
 * counter-based generator of Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3".
 *
 * @param seed - an integer with |seed| ≤ 2⁵³
 * @returns a frozen key
 * @throws TypeError when `seed` is not an integer; RangeError when |seed| > 2⁵³
 * @example
 * ```ts
 * import { key } from '@purenn/tensor'
 * console.log(key(0).words, key(-1).words) // [ 0, 0 ] [ 4294967295, 4294967295 ]
 * ```
 * @category Random
 */
export const key = (seed: number): Key => {
  if (typeof seed !== 'number' || !Number.isInteger(seed))
    throw new TypeError(`key: the PRNG seed must be an integer, got ${String(seed)}`)
  if (Math.abs(seed) > TWO_POW_53)
    throw new RangeError(`key: the PRNG seed must be at most 2^53 in absolute value, got ${seed}`)
  const hi = Math.floor(seed / TWO_POW_32)
  return makeKey(hi, seed - hi * TWO_POW_32)
}

/**
 * Splits a key into `n` new, independent keys, bit-identical to JAX's `jax.random.split`
 * with the original (non-partitionable) Threefry implementation.
 *
 * @remarks
 * With counters `c = 0, 1, …, 2n−1`, computes `(y0ᵢ, y1ᵢ) = threefry2x32(key, (cᵢ, cₙ₊ᵢ))` for
 * `i < n`, lays the outputs out as `[y0₀ … y0ₙ₋₁, y1₀ … y1ₙ₋₁]` and reads them as `n` pairs
 * (JAX's `_threefry_split_original`, the default before JAX 0.5.0). Threefry-2x32, 20 rounds:
 * Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3". Use each new key once; the
 * input key should not be used again after it has been split.
 *
 * @param k - the key to split
 * @param n - how many keys to make (a non-negative integer, default 2)
 * @returns `n` frozen keys
 * @example
 * ```ts
 * import { key, split } from '@purenn/tensor'
 * const [k1, k2] = split(key(0))
 * console.log(k1!.words, k2!.words) // [ 4146024105, 967050713 ] [ 2718843009, 1272950319 ]
 * ```
 * @category Random
 */
export const split = (k: Key, n = 2): Key[] => {
  checkKey('split', k)
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff)
    throw new RangeError(`split: the number of keys must be an integer in [0, 2^31), got ${n}`)
  const [k0, k1] = k.words
  const out = new Uint32Array(2 * n) // [y0_0, y1_0, y0_1, y1_1, …]
  for (let i = 0; i < n; i++) threefryInto(k0, k1, i, n + i, out, 2 * i)
  // the flat output is all y0 then all y1; key j holds flat entries 2j and 2j + 1
  const flat = (f: number): number => (f < n ? out[2 * f]! : out[2 * (f - n) + 1]!)
  return Array.from({ length: n }, (_, j) => makeKey(flat(2 * j), flat(2 * j + 1)))
}

/**
 * A new key that mixes an integer into `k`, like JAX's `jax.random.fold_in`.
 *
 * @remarks
 * `foldIn(k, d) = threefry2x32(k, (0, d))` (Salmon et al. 2011, "Parallel random numbers: as easy
 * as 1, 2, 3"), bit-identical to JAX. Handy for deriving per-step or per-layer keys from one key
 * without threading splits through: `foldIn(k, step)`.
 *
 * @param k - the key
 * @param data - an integer in [−2³¹, 2³²), taken as uint32 (negative values wrap)
 * @returns a frozen key
 * @example
 * ```ts
 * import { foldIn, key } from '@purenn/tensor'
 * console.log(foldIn(key(0), 4).words) // [ 2285895361, 433833334 ]
 * ```
 * @category Random
 */
export const foldIn = (k: Key, data: number): Key => {
  checkKey('foldIn', k)
  if (!Number.isInteger(data) || data < -0x80000000 || data >= TWO_POW_32)
    throw new TypeError(`foldIn: data must be an integer in [-2^31, 2^32), got ${String(data)}`)
  const out = new Uint32Array(2)
  threefryInto(k.words[0], k.words[1], 0, data >>> 0, out, 0)
  return makeKey(out[0]!, out[1]!)
}

/** The float32 next to `x` (a float32) towards +∞ (`dir = 1`) or −∞ (`dir = −1`). */
const nextFloat32 = (x: number, dir: 1 | -1): number => {
  if (x === 0) return dir * 2 ** -149
  const f = new Float32Array([x])
  const u = new Uint32Array(f.buffer)
  u[0] = u[0]! + (x > 0 === dir > 0 ? 1 : -1)
  return f[0]!
}

/**
 * Fills `out` with float32 uniforms in [lo, hi) (both float32), counter-based, as JAX's `uniform`:
 * 23 random bits as the mantissa of a float in [1, 2), minus 1, then `u·(hi − lo) + lo` in float32.
 */
const fillUniform = (k: Key, lo: number, hi: number, out: Float32Array): void => {
  const [k0, k1] = k.words
  const range = Math.fround(hi - lo)
  const below = nextFloat32(hi, -1)
  for (let i = 0; i < out.length; i++) {
    // ((bits >>> 9) | 0x3f800000) as a float32, minus 1, is exactly (bits >>> 9)·2⁻²³
    const f = (threefryXor(k0, k1, Math.floor(i / TWO_POW_32), i) >>> 9) * 2 ** -23
    const v = Math.max(lo, Math.fround(Math.fround(f * range) + lo))
    out[i] = v < hi ? v : below
  }
}

/**
 * Float32 samples uniform on [minval, maxval), like `jax.random.uniform`.
 *
 * @remarks
 * Counter-based: element `i` (row-major) is made from the 32 bits `y0 ^ y1` of
 * `(y0, y1) = threefry2x32(key, (⌊i/2³²⌋, i mod 2³²))` (Threefry-2x32, Salmon et al. 2011,
 * "Parallel random numbers: as easy as 1, 2, 3"), so it depends only on the key and `i`, never on
 * the shape or on how the work is split: the first k elements of `uniform(key, [n])` are
 * `uniform(key, [k])`. This is JAX's partitionable bit layout (`jax_threefry_partitionable`, the
 * default since JAX 0.5.0). Bits to float as JAX does: `u = float32(bits >>> 9 | 0x3f800000) − 1`,
 * uniform on the 2²³ points `j·2⁻²³`, then `max(minval, u·(maxval − minval) + minval)` in float32;
 * a result that rounds up to `maxval` is replaced by the float32 just below it.
 *
 * @param k - the key
 * @param shape - the output shape
 * @param opts - `minval` (default 0) and `maxval` (default 1), with `minval < maxval` in float32
 * @returns a new float32 tensor
 * @example
 * ```ts
 * import { key, uniform } from '@purenn/tensor'
 * const u = uniform(key(0), [2, 3], { minval: -1, maxval: 1 })
 * console.log(u.shape, u.data.every((v) => v >= -1 && v < 1)) // [ 2, 3 ] true
 * ```
 * @category Random
 */
export const uniform = (k: Key, shape: readonly number[], opts: UniformOptions = {}): Tensor => {
  checkKey('uniform', k)
  checkShape('uniform', shape)
  const lo = Math.fround(opts.minval ?? 0)
  const hi = Math.fround(opts.maxval ?? 1)
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi))
    throw new RangeError(
      `uniform: need finite minval < maxval (in float32), got minval=${opts.minval ?? 0}, maxval=${opts.maxval ?? 1}`,
    )
  const out = alloc(sizeOf(shape))
  fillUniform(k, lo, hi, out)
  return fromBuffer(shape, out)
}

/** Reads and checks `mean` and `stddev` (finite, stddev ≥ 0). */
const normalParams = (op: string, opts: NormalOptions): [number, number] => {
  const mean = opts.mean ?? 0
  const stddev = opts.stddev ?? 1
  if (!Number.isFinite(mean)) throw new RangeError(`${op}: mean must be finite, got ${mean}`)
  if (!Number.isFinite(stddev) || stddev < 0)
    throw new RangeError(`${op}: stddev must be finite and non-negative, got ${stddev}`)
  return [mean, stddev]
}

/**
 * Float32 samples from the normal distribution N(mean, stddev²), like `jax.random.normal`.
 *
 * @remarks
 * By inversion, as JAX: `z = √2 · erfinv(u)` with `u` uniform on (−1, 1) (JAX's
 * `uniform(key, shape, nextafter(−1, 0), 1)` in float32, so |z| ≤ 5.42), and the result is
 * `mean + stddev·z`. `erfinv` is evaluated in float64 (Giles' approximation refined by Halley
 * steps), so the values can differ from JAX's float32 `erf_inv` in the last bit. Counter-based
 * like {@link uniform}: element `i` depends only on the key and `i`. Threefry-2x32: Salmon et al.
 * 2011, "Parallel random numbers: as easy as 1, 2, 3".
 *
 * @param k - the key
 * @param shape - the output shape
 * @param opts - `mean` (default 0) and `stddev` (default 1)
 * @returns a new float32 tensor
 * @example
 * ```ts
 * import { key, mean, normal } from '@purenn/tensor'
 * const x = normal(key(0), [10000], { mean: 3, stddev: 0.5 })
 * console.log(Math.abs(mean(x).item() - 3) < 0.05) // true
 * ```
 * @category Random
 */
export const normal = (k: Key, shape: readonly number[], opts: NormalOptions = {}): Tensor => {
  checkKey('normal', k)
  checkShape('normal', shape)
  const [mean, stddev] = normalParams('normal', opts)
  const out = alloc(sizeOf(shape))
  fillUniform(k, nextFloat32(-1, 1), 1, out)
  for (let i = 0; i < out.length; i++) out[i] = mean + stddev * (Math.SQRT2 * erfinv(out[i]!))
  return fromBuffer(shape, out)
}

/** erf(±2/√2) in float32: the bounds of the uniform that maps to a normal truncated at ±2σ. */
const TRUNC_LO = Math.fround(erf(-Math.SQRT2))
const TRUNC_HI = Math.fround(erf(Math.SQRT2))

/**
 * Float32 samples from a normal distribution truncated at two standard deviations, as Keras'
 * and TensorFlow's `truncated_normal`: every value lies strictly inside (mean − 2σ, mean + 2σ).
 *
 * @remarks
 * As `jax.random.truncated_normal(key, −2, 2)`: `z = √2 · erfinv(u)` with `u` uniform between
 * `erf(−2/√2)` and `erf(2/√2)`, clipped to the open interval (−2, 2), then `mean + stddev·z`
 * (rounded to float32, and kept strictly inside the interval). No rejection loop, so it is
 * counter-based like {@link uniform}. The standard deviation of the truncated distribution is
 * `0.87962566103423978·stddev`: Keras' `TruncatedNormal` takes `stddev` before truncation, and so
 * does this function (Glorot/He initializers that want a target variance divide by 0.8796…).
 * Threefry-2x32: Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3".
 *
 * @param k - the key
 * @param shape - the output shape
 * @param opts - `mean` (default 0) and `stddev` (default 1) of the normal before truncation
 * @returns a new float32 tensor
 * @example
 * ```ts
 * import { key, max, min, truncatedNormal } from '@purenn/tensor'
 * const w = truncatedNormal(key(1), [1000], { stddev: 0.05 })
 * console.log(min(w).item() > -0.1, max(w).item() < 0.1) // true true
 * ```
 * @category Random
 */
export const truncatedNormal = (k: Key, shape: readonly number[], opts: NormalOptions = {}): Tensor => {
  checkKey('truncatedNormal', k)
  checkShape('truncatedNormal', shape)
  const [mean, stddev] = normalParams('truncatedNormal', opts)
  const out = alloc(sizeOf(shape))
  fillUniform(k, TRUNC_LO, TRUNC_HI, out)
  // z in the open interval (−2, 2), as JAX's clip to nextafter(±2, 0) in float32
  const zMax = nextFloat32(2, -1)
  // the float32 interval strictly inside (mean − 2σ, mean + 2σ)
  let lo = Math.fround(mean - 2 * stddev)
  if (lo <= mean - 2 * stddev) lo = nextFloat32(lo, 1)
  let hi = Math.fround(mean + 2 * stddev)
  if (hi >= mean + 2 * stddev) hi = nextFloat32(hi, -1)
  const clamp = stddev > 0 && lo <= hi
  for (let i = 0; i < out.length; i++) {
    const z = Math.min(zMax, Math.max(-zMax, Math.SQRT2 * erfinv(out[i]!)))
    const v = Math.fround(mean + stddev * z)
    out[i] = clamp ? Math.min(hi, Math.max(lo, v)) : v
  }
  return fromBuffer(shape, out)
}

/**
 * A float32 mask of Bernoulli(p) samples: 1 with probability `p`, else 0, like
 * `jax.random.bernoulli` (which returns booleans).
 *
 * @remarks
 * `mask = uniform(key, shape) < p` (with `p` rounded to float32), so it is counter-based like
 * {@link uniform}; `p = 0` gives all zeros and `p = 1` all ones. The comparison is made on the
 * raw 32 bits of each element, against the bound that gives exactly the same mask. Dropout keeps units with
 * `bernoulli(key, 1 − rate, shape)`. Threefry-2x32: Salmon et al. 2011, "Parallel random numbers:
 * as easy as 1, 2, 3".
 *
 * @param k - the key
 * @param p - the probability of a 1, in [0, 1]
 * @param shape - the output shape
 * @returns a new float32 tensor of zeros and ones
 * @throws RangeError when `p` is not in [0, 1]
 * @example
 * ```ts
 * import { bernoulli, key } from '@purenn/tensor'
 * console.log(bernoulli(key(0), 1, [3]).toString()) // tensor([1, 1, 1])
 * ```
 * @category Random
 */
export const bernoulli = (k: Key, p: number, shape: readonly number[]): Tensor => {
  checkKey('bernoulli', k)
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be a probability in [0, 1], got ${p}`)
  checkShape('bernoulli', shape)
  const n = sizeOf(shape)
  const [k0, k1] = k.words
  const below = bitsThreshold(p)
  const out = alloc(n)
  for (let i = 0; i < n; i++) out[i] = threefryXor(k0, k1, Math.floor(i / TWO_POW_32), i) < below ? 1 : 0
  return fromBuffer(shape, out)
}

/**
 * The bound `T` such that `uniform < fround(p)` exactly when the element's 32 random bits are
 * below `T`: the uniform is `(bits >>> 9)·2⁻²³`, so the test is `bits >>> 9 < ⌈fround(p)·2²³⌉`,
 * i.e. `bits < ⌈fround(p)·2²³⌉·2⁹`. Comparing the raw bits skips the float conversion.
 */
const bitsThreshold = (p: number): number => Math.ceil(Math.fround(p) * 2 ** 23) * 2 ** 9

/**
 * Inverted dropout in one fused op: each element of `x` is kept with probability `1 − rate`
 * and scaled by `1/(1 − rate)`, or zeroed, with the mask drawn from `k`.
 *
 * @remarks
 * Srivastava et al. (2014), "Dropout: A Simple Way to Prevent Neural Networks from
 * Overfitting", in the inverted form Keras and `tf.nn.dropout` use:
 * `y = x·m·s` with `m = bernoulli(k, 1 − rate, x.shape)` and `s = 1/(1 − rate)` (in float32),
 * so `E[y] = x`. Bitwise equal to `mul(x, mul(bernoulli(k, 1 − rate, x.shape), 1 / (1 − rate)))`,
 * in one pass: element `i` of the mask depends only on the key and `i` (counter-based
 * Threefry-2x32, Salmon et al. 2011), so large inputs are split over the worker pool with the
 * same bits on any thread count. VJP: `g·m·s`, the same mask. `rate = 0` keeps everything
 * (`y` equals `x`).
 *
 * @param k - the key the mask is drawn from
 * @param x - the input
 * @param rate - the probability of dropping each element, in [0, 1) (Keras' `rate`)
 * @returns a tensor of the shape of `x`
 * @throws RangeError when `rate` is not in [0, 1).
 * @example
 * ```ts
 * import { dropout, key, ones } from '@purenn/tensor'
 * const y = dropout(key(0), ones([1000]), 0.5)
 * console.log([...new Set(y.data)].sort()) // [ 0, 2 ]
 * ```
 * @category Random
 */
export const dropout = (k: Key, x: Tensor, rate: number): Tensor => {
  checkKey('dropout', k)
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout: rate must be in [0, 1), got ${rate}`)
  const n = x.size
  const [k0, k1] = k.words
  const below = bitsThreshold(1 - rate)
  const scale = Math.fround(1 / (1 - rate))
  const out = alloc(n)
  const mask = alloc(n) // scale where kept, 0 where dropped: the VJP multiplies by it
  if (n < DROPOUT_POOL_MIN || poolThreads() < 2) dropoutRange(k0, k1, below, scale, buf(x), out, mask, 0, n)
  else {
    let xd = buf(x)
    if (!isSharedBuffer(xd.buffer)) {
      xd = sharedScratch(0, n)
      xd.set(buf(x))
    }
    runChunks(
      'dropout',
      dropoutKernel,
      [k0, k1, below, scale, xd, out, mask, n, DROPOUT_CHUNK],
      Math.ceil(n / DROPOUT_CHUNK),
    )
  }
  return record(
    'dropout',
    x.shape,
    out,
    [x],
    [
      (g) => {
        const gd = buf(g)
        const dx = alloc(n)
        for (let i = 0; i < n; i++) dx[i] = gd[i]! * mask[i]!
        // linear in g: recorded (times the same mask) for higher-order gradients
        return record('dropout.vjp', x.shape, dx, [g], [(h) => mul(h, fromBuffer(x.shape, mask))])
      },
    ],
  )
}

/**
 * Elements per chunk of a pooled dropout: fixed, so the split depends only on the size (and
 * each element only on the key and its index anyway).
 */
const DROPOUT_CHUNK = 2048

/**
 * Dropouts of at least this many elements run on the worker pool when more than one thread
 * is set (the output and mask are then on shared memory, see `alloc`): the input of the
 * chapter's dropout model, [32, 784], is; its hidden layers' [32, 100] are not.
 */
const DROPOUT_POOL_MIN = 1 << 14

/**
 * A uniformly random permutation of `0, 1, …, n−1`, like `jax.random.permutation(key, n)`.
 *
 * @remarks
 * Fisher–Yates (Durstenfeld) shuffle: for `j = n−1, …, 1`, swap entry `j` with an entry drawn
 * uniformly from `[0, j]`. Each draw takes 53 bits of a Threefry-2x32 block (Salmon et al. 2011,
 * "Parallel random numbers: as easy as 1, 2, 3") at the next counter `(0, c), (0, c+1), …`, and
 * rejects the few values ≥ `2⁵³ − (2⁵³ mod (j+1))`, so every one of the n! orders is exactly
 * equally likely (up to the generator). Deterministic for a key; it does not reproduce JAX's
 * sort-based values.
 *
 * @param k - the key
 * @param n - the length, a non-negative integer below 2³¹
 * @returns a new `Int32Array` holding each of `0 … n−1` once
 * @example
 * ```ts
 * import { key, permutation } from '@purenn/tensor'
 * const p = permutation(key(0), 5)
 * console.log(Array.from(p).sort((a, b) => a - b)) // [ 0, 1, 2, 3, 4 ]
 * ```
 * @category Random
 */
export const permutation = (k: Key, n: number): Int32Array => {
  checkKey('permutation', k)
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff)
    throw new RangeError(`permutation: n must be an integer in [0, 2^31), got ${n}`)
  const [k0, k1] = k.words
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  const pair = new Uint32Array(2)
  let counter = 0
  for (let j = n - 1; j > 0; j--) {
    const m = j + 1
    const limit = TWO_POW_53 - (TWO_POW_53 % m)
    let v: number
    do {
      threefryInto(k0, k1, Math.floor(counter / TWO_POW_32), counter, pair, 0)
      counter++
      v = pair[0]! * 2 ** 21 + (pair[1]! >>> 11) // 53 bits
    } while (v >= limit)
    const r = v % m
    const t = out[j]!
    out[j] = out[r]!
    out[r] = t
  }
  return out
}
