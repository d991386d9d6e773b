import {
  full,
  type Key,
  normal,
  type Tensor,
  truncatedNormal as truncatedNormalSample,
  uniform,
} from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeAt, show } from './internal/config.js'
import type { Json } from './layer.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * A weight initializer as a value: a name, its parameters as plain JSON, and the function
 * that draws a tensor of a given shape from a PRNG key.
 *
 * @remarks
 * `init` is pure: the same key and shape always give the same tensor, bit for bit (there is
 * no seed in the initializer itself, unlike Keras: the key comes from the layer's `init`).
 * `name` and `config` are what {@link initializerToConfig} saves.
 *
 * @example
 * ```ts
 * import { initializers } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const init = initializers.constant(0.5)
 * console.log(init.name, init.config, init.init(key(0), [2]).toString()) // constant { value: 0.5 } tensor([0.5, 0.5])
 * ```
 * @category Initializers
 */
export interface Initializer {
  /** The initializer's name (`'heNormal'`, `'varianceScaling'`, ...). */
  readonly name: string
  /** Its parameters as plain JSON (`{}` for the named, parameterless ones). */
  readonly config: { readonly [k: string]: Json }
  /** Draws a tensor of shape `shape` from `key`. */
  readonly init: (key: Key, shape: readonly number[]) => Tensor
}

/**
 * The initializers a plain name can stand for, as in `dense({ kernelInitializer: 'heNormal' })`
 * (Keras' `'he_normal'` in camelCase). Parameterized ones are values from {@link initializers}.
 *
 * @example
 * ```ts
 * import { getInitializer, type InitializerName } from '@purenn/layers'
 * const name: InitializerName = 'lecunNormal'
 * console.log(getInitializer(name).name) // lecunNormal
 * ```
 * @category Initializers
 */
export type InitializerName =
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heNormal'
  | 'heUniform'
  | 'lecunNormal'
  | 'lecunUniform'
  | 'zeros'
  | 'ones'

/**
 * Which fan a {@link VarianceScalingOptions} divides by: `fanIn`, `fanOut`, or their mean
 * `fanAvg` (Keras' `fan_in`, `fan_out`, `fan_avg`).
 * @category Initializers
 */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg'

/**
 * The distribution of {@link VarianceScalingOptions}: Keras' `truncated_normal`,
 * `untruncated_normal` and `uniform`.
 * @category Initializers
 */
export type VarianceScalingDistribution = 'truncatedNormal' | 'untruncatedNormal' | 'uniform'

/**
 * Options of `initializers.varianceScaling`, with Keras' defaults.
 * @category Initializers
 */
export interface VarianceScalingOptions {
  /** The target variance is `scale / n`; must be positive. Default 1. */
  readonly scale?: number
  /** Which fan `n` is. Default `'fanIn'`. */
  readonly mode?: FanMode
  /** Which distribution to draw from. Default `'truncatedNormal'`. */
  readonly distribution?: VarianceScalingDistribution
}

/**
 * Options of `initializers.randomNormal` and `initializers.truncatedNormal`.
 * @category Initializers
 */
export interface RandomNormalOptions {
  /** Mean. Default 0. */
  readonly mean?: number
  /** Standard deviation (before truncation, for `truncatedNormal`), ≥ 0. Default 0.05. */
  readonly stddev?: number
}

/**
 * Options of `initializers.randomUniform`.
 * @category Initializers
 */
export interface RandomUniformOptions {
  /** Lower bound, included. Default −0.05. */
  readonly minval?: number
  /** Upper bound, excluded; must be greater than `minval`. Default 0.05. */
  readonly maxval?: number
}

/**
 * The fans of a weight tensor, as Keras' `_compute_fans`.
 * @category Initializers
 */
export interface Fans {
  /** Number of inputs feeding each output unit. */
  readonly fanIn: number
  /** Number of outputs each input unit feeds. */
  readonly fanOut: number
}

// ---------------------------------------------------------------------------------------
// Constructors

/** Standard deviation of a standard normal truncated to [−2, 2] (Keras' constant). */
const TRUNCATED_STDDEV = 0.87962566103423978

const make = (
  name: string,
  init: (key: Key, shape: readonly number[]) => Tensor,
  config: { [k: string]: Json } = {},
): Initializer => Object.freeze({ name, config: Object.freeze(config), init })

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

const modes: readonly FanMode[] = ['fanIn', 'fanOut', 'fanAvg']
const distributions: readonly VarianceScalingDistribution[] = [
  'truncatedNormal',
  'untruncatedNormal',
  'uniform',
]

// Each check returns the problem (naming the field) or undefined: the constructors throw
// it, the config decoder returns it as a Left.
type Problem = readonly [field: string, message: string] | undefined

const varianceScalingProblem = (scale: unknown, mode: unknown, distribution: unknown): Problem =>
  !isFiniteNumber(scale) || !(scale > 0)
    ? ['scale', `expected a positive finite number, got ${show(scale)}`]
    : !modes.includes(mode as FanMode)
      ? ['mode', `expected one of ${quote(modes)}, got ${show(mode)}`]
      : !distributions.includes(distribution as VarianceScalingDistribution)
        ? ['distribution', `expected one of ${quote(distributions)}, got ${show(distribution)}`]
        : undefined

const normalProblem = (mean: unknown, stddev: unknown): Problem =>
  !isFiniteNumber(mean)
    ? ['mean', `expected a finite number, got ${show(mean)}`]
    : !isFiniteNumber(stddev) || !(stddev >= 0)
      ? ['stddev', `expected a non-negative finite number, got ${show(stddev)}`]
      : undefined

const uniformProblem = (minval: unknown, maxval: unknown): Problem =>
  !isFiniteNumber(minval)
    ? ['minval', `expected a finite number, got ${show(minval)}`]
    : !isFiniteNumber(maxval) || !(Math.fround(maxval) > Math.fround(minval))
      ? ['maxval', `expected a finite number greater than minval (${minval}), got ${show(maxval)}`]
      : undefined

const constantProblem = (value: unknown): Problem =>
  isFiniteNumber(value) ? undefined : ['value', `expected a finite number, got ${show(value)}`]

const orThrow = (fn: string, p: Problem): void => {
  if (p !== undefined) throw new RangeError(`initializers.${fn}: ${p[0]}: ${p[1]}`)
}

/**
 * The fans of a weight tensor of shape `shape`, exactly as Keras' `_compute_fans`.
 *
 * @remarks
 * - rank 0: `fanIn = fanOut = 1`;
 * - rank 1 (a bias): `fanIn = fanOut = shape[0]`;
 * - rank 2 (a dense kernel `[in, out]`): `fanIn = in`, `fanOut = out`;
 * - rank ≥ 3 (a convolution kernel `[...receptive field, in, out]`): with `r` the product of
 *   all but the last two dimensions, `fanIn = r·shape[−2]` and `fanOut = r·shape[−1]`.
 *
 * @param shape - the weight's shape
 * @returns `{ fanIn, fanOut }`
 * @example
 * ```ts
 * import { computeFans } from '@purenn/layers'
 * console.log(computeFans([784, 300]), computeFans([3, 3, 16, 32])) // { fanIn: 784, fanOut: 300 } { fanIn: 144, fanOut: 288 }
 * ```
 * @category Initializers
 */
export const computeFans = (shape: readonly number[]): Fans => {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 }
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! }
  const receptive = shape.slice(0, -2).reduce((p, d) => p * d, 1)
  return { fanIn: shape.at(-2)! * receptive, fanOut: shape.at(-1)! * receptive }
}

const varianceScalingInit =
  (scale: number, mode: FanMode, distribution: VarianceScalingDistribution) =>
  (key: Key, shape: readonly number[]): Tensor => {
    const { fanIn, fanOut } = computeFans(shape)
    const n = mode === 'fanIn' ? fanIn : mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2
    const variance = scale / Math.max(1, n)
    if (distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance)
      return uniform(key, shape, { minval: -limit, maxval: limit })
    }
    if (distribution === 'untruncatedNormal') return normal(key, shape, { stddev: Math.sqrt(variance) })
    return truncatedNormalSample(key, shape, { stddev: Math.sqrt(variance) / TRUNCATED_STDDEV })
  }

const varianceScaling = (opts: VarianceScalingOptions = {}): Initializer => {
  const { scale = 1, mode = 'fanIn', distribution = 'truncatedNormal' } = opts
  orThrow('varianceScaling', varianceScalingProblem(scale, mode, distribution))
  return make('varianceScaling', varianceScalingInit(scale, mode, distribution), {
    scale,
    mode,
    distribution,
  })
}

const constant = (value = 0): Initializer => {
  orThrow('constant', constantProblem(value))
  return make('constant', (_key, shape) => full(shape, value), { value })
}

const randomNormal = (opts: RandomNormalOptions = {}): Initializer => {
  const { mean = 0, stddev = 0.05 } = opts
  orThrow('randomNormal', normalProblem(mean, stddev))
  return make('randomNormal', (key, shape) => normal(key, shape, { mean, stddev }), { mean, stddev })
}

const randomUniform = (opts: RandomUniformOptions = {}): Initializer => {
  const { minval = -0.05, maxval = 0.05 } = opts
  orThrow('randomUniform', uniformProblem(minval, maxval))
  return make('randomUniform', (key, shape) => uniform(key, shape, { minval, maxval }), { minval, maxval })
}

const truncatedNormal = (opts: RandomNormalOptions = {}): Initializer => {
  const { mean = 0, stddev = 0.05 } = opts
  orThrow('truncatedNormal', normalProblem(mean, stddev))
  return make('truncatedNormal', (key, shape) => truncatedNormalSample(key, shape, { mean, stddev }), {
    mean,
    stddev,
  })
}

const named = (
  name: InitializerName,
  scale: number,
  mode: FanMode,
  distribution: VarianceScalingDistribution,
) => make(name, varianceScalingInit(scale, mode, distribution))

/**
 * The weight initializers (Keras' `keras.initializers`), as values for
 * `dense({ kernelInitializer, biasInitializer })`. Parameterless ones are constants and also
 * have a name (`'heNormal'`); parameterized ones are functions of their options.
 *
 * @remarks
 * Every variance-scaling initializer draws with variance `scale / n`, where `n` is fan_in,
 * fan_out or fan_avg = (fan_in + fan_out)/2 (see {@link computeFans}):
 *
 * | initializer  | scale | n       | activations                        | paper                   |
 * |--------------|-------|---------|------------------------------------|-------------------------|
 * | Glorot       | 1     | fan_avg | none, tanh, sigmoid, softmax       | Glorot & Bengio (2010)  |
 * | He           | 2     | fan_in  | ReLU, leaky ReLU, ELU, GELU, Swish | He et al. (2015)        |
 * | LeCun        | 1     | fan_in  | SELU                               | LeCun et al. (1998)     |
 *
 * The names clash with tensor-creating functions of `@purenn/tensor` (`zeros`, `ones`,
 * `truncatedNormal`), hence the namespace object. The object is frozen.
 *
 * @example
 * ```ts
 * import { dense, initializers } from '@purenn/layers'
 * const he = dense({ units: 300, activation: 'relu', kernelInitializer: 'heNormal' })
 * const heAvgInit = initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' })
 * const heAvg = dense({ units: 300, activation: 'relu', kernelInitializer: heAvgInit })
 * console.log(he.config.kernelInitializer) // heNormal
 * console.log(JSON.stringify(heAvg.config.kernelInitializer)) // {"name":"varianceScaling","scale":2,"mode":"fanAvg","distribution":"uniform"}
 * ```
 * @namespace
 * @category Initializers
 */
export const initializers = Object.freeze({
  /**
   * Glorot (Xavier) uniform, the default kernel initializer of `dense`: $U(-l, l)$ with
   * $l = \sqrt{6 / (\text{fan}_\text{in} + \text{fan}_\text{out})}$, i.e. variance $1/\text{fan}_\text{avg}$.
   *
   * @remarks
   * `varianceScaling({ scale: 1, mode: 'fanAvg', distribution: 'uniform' })`. Glorot &
   * Bengio (2010) derived it to keep the variance of activations (forward) and of gradients
   * (backward) roughly equal across layers with symmetric saturating activations
   * (tanh, sigmoid, softmax) or none.
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { abs, key, max } from '@purenn/tensor'
   * const w = initializers.glorotUniform.init(key(0), [784, 300])
   * console.log(w.shape, max(abs(w)).item() <= Math.sqrt(6 / (784 + 300))) // [ 784, 300 ] true
   * ```
   */
  glorotUniform: named('glorotUniform', 1, 'fanAvg', 'uniform'),

  /**
   * Glorot (Xavier) normal: truncated normal with standard deviation $\sqrt{1/\text{fan}_\text{avg}}$ after
   * truncation ($\sqrt{2/(\text{fan}_\text{in} + \text{fan}_\text{out})} \,/\, 0.87962566103423978$ before, cut at $2\sigma$).
   *
   * @remarks
   * `varianceScaling({ scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal' })`.
   * Glorot & Bengio (2010). For tanh, sigmoid, softmax or no activation.
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { abs, key, max } from '@purenn/tensor'
   * const w = initializers.glorotNormal.init(key(0), [100, 100])
   * console.log(max(abs(w)).item() < (2 * Math.sqrt(1 / 100)) / 0.87962566103423978) // true
   * ```
   */
  glorotNormal: named('glorotNormal', 1, 'fanAvg', 'truncatedNormal'),

  /**
   * He (Kaiming) normal: truncated normal with standard deviation $\sqrt{2/\text{fan}_\text{in}}$ after
   * truncation ($\sqrt{2/\text{fan}_\text{in}} \,/\, 0.87962566103423978$ before, cut at $2\sigma$).
   *
   * @remarks
   * `varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'truncatedNormal' })`. He et
   * al. (2015): a ReLU zeroes half of its input, so doubling the variance keeps the signal's
   * variance constant through the layers. For ReLU and its variants (leaky ReLU, ELU, GELU,
   * Swish).
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key } from '@purenn/tensor'
   * const w = initializers.heNormal.init(key(0), [784, 300])
   * const std = Math.sqrt(w.data.reduce((s, v) => s + v * v, 0) / w.size)
   * console.log(Math.abs(std / Math.sqrt(2 / 784) - 1) < 0.01) // true
   * ```
   */
  heNormal: named('heNormal', 2, 'fanIn', 'truncatedNormal'),

  /**
   * He (Kaiming) uniform: $U(-l, l)$ with $l = \sqrt{6/\text{fan}_\text{in}}$, i.e. variance $2/\text{fan}_\text{in}$.
   *
   * @remarks
   * `varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'uniform' })`. He et al. (2015).
   * For ReLU and its variants.
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { abs, key, max } from '@purenn/tensor'
   * const w = initializers.heUniform.init(key(0), [784, 300])
   * console.log(max(abs(w)).item() <= Math.sqrt(6 / 784)) // true
   * ```
   */
  heUniform: named('heUniform', 2, 'fanIn', 'uniform'),

  /**
   * LeCun normal: truncated normal with standard deviation $\sqrt{1/\text{fan}_\text{in}}$ after
   * truncation ($\sqrt{1/\text{fan}_\text{in}} \,/\, 0.87962566103423978$ before, cut at $2\sigma$).
   *
   * @remarks
   * `varianceScaling({ scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' })`.
   * LeCun et al. (1998), "Efficient BackProp"; the initializer SELU's self-normalization
   * needs (Klambauer et al., 2017).
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key } from '@purenn/tensor'
   * const w = initializers.lecunNormal.init(key(0), [400, 300])
   * const std = Math.sqrt(w.data.reduce((s, v) => s + v * v, 0) / w.size)
   * console.log(Math.abs(std / Math.sqrt(1 / 400) - 1) < 0.01) // true
   * ```
   */
  lecunNormal: named('lecunNormal', 1, 'fanIn', 'truncatedNormal'),

  /**
   * LeCun uniform: $U(-l, l)$ with $l = \sqrt{3/\text{fan}_\text{in}}$, i.e. variance $1/\text{fan}_\text{in}$.
   *
   * @remarks
   * `varianceScaling({ scale: 1, mode: 'fanIn', distribution: 'uniform' })`. LeCun et al.
   * (1998); Klambauer et al. (2017) for SELU.
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { abs, key, max } from '@purenn/tensor'
   * const w = initializers.lecunUniform.init(key(0), [300, 100])
   * console.log(max(abs(w)).item() <= Math.sqrt(3 / 300)) // true
   * ```
   */
  lecunUniform: named('lecunUniform', 1, 'fanIn', 'uniform'),

  /**
   * All zeros: the default bias initializer. The key is ignored.
   *
   * @remarks
   * Zero kernels would make every unit of a layer compute the same thing forever (nothing
   * breaks the symmetry), so use it for biases and batch-norm offsets only.
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key } from '@purenn/tensor'
   * console.log(initializers.zeros.init(key(0), [3]).toString()) // tensor([0, 0, 0])
   * ```
   */
  zeros: make('zeros', (_key, shape) => full(shape, 0)),

  /**
   * All ones (batch-norm scales start here). The key is ignored.
   *
   * @remarks `f = 1` elementwise; same symmetry caveat as `zeros` for kernels.
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key } from '@purenn/tensor'
   * console.log(initializers.ones.init(key(0), [2, 2]).toString()) // tensor([[1, 1], [1, 1]])
   * ```
   */
  ones: make('ones', (_key, shape) => full(shape, 1)),

  /**
   * Every element equal to `value` (Keras' `Constant`). The key is ignored.
   *
   * @remarks `f = value` elementwise.
   * @param value - a finite number; default 0, as Keras
   * @returns the initializer, with `config` `{ value }`
   * @throws RangeError when `value` is not finite
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key } from '@purenn/tensor'
   * console.log(initializers.constant(0.1).init(key(0), [2]).toString()) // tensor([0.1, 0.1])
   * ```
   */
  constant,

  /**
   * Normal $\mathcal{N}(\mathrm{mean}, \mathrm{stddev}^2)$, Keras' `RandomNormal` (defaults mean 0, stddev 0.05).
   *
   * @remarks
   * A fixed scale, blind to the layer's fans: fine for shallow networks, the source of
   * vanishing or exploding signals in deep ones (which variance scaling fixes).
   * @param opts - `mean` (default 0) and `stddev` (default 0.05, ≥ 0)
   * @returns the initializer, with `config` `{ mean, stddev }`
   * @throws RangeError when `mean` is not finite or `stddev` is negative or not finite
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key, mean } from '@purenn/tensor'
   * const w = initializers.randomNormal({ mean: 1, stddev: 0.01 }).init(key(0), [1000])
   * console.log(Math.abs(mean(w).item() - 1) < 0.002) // true
   * ```
   */
  randomNormal,

  /**
   * Uniform on `[minval, maxval)`, Keras' `RandomUniform` (defaults −0.05 and 0.05).
   *
   * @remarks Variance $(\mathrm{maxval} - \mathrm{minval})^2 / 12$. A fixed scale, blind to the fans.
   * @param opts - `minval` (default −0.05) and `maxval` (default 0.05, greater than `minval`)
   * @returns the initializer, with `config` `{ minval, maxval }`
   * @throws RangeError when a bound is not finite or `maxval ≤ minval`
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { key, max, min } from '@purenn/tensor'
   * const w = initializers.randomUniform({ minval: 0, maxval: 2 }).init(key(0), [1000])
   * console.log(min(w).item() >= 0, max(w).item() < 2) // true true
   * ```
   */
  randomUniform,

  /**
   * Normal $\mathcal{N}(\mathrm{mean}, \mathrm{stddev}^2)$ truncated to $(\mathrm{mean} - 2\,\mathrm{stddev}, \mathrm{mean} + 2\,\mathrm{stddev})$, Keras'
   * `TruncatedNormal` (defaults mean 0, stddev 0.05).
   *
   * @remarks
   * `stddev` is the standard deviation *before* truncation, as in Keras: the samples' own
   * standard deviation is `0.87962566103423978·stddev`.
   * @param opts - `mean` (default 0) and `stddev` (default 0.05, ≥ 0)
   * @returns the initializer, with `config` `{ mean, stddev }`
   * @throws RangeError when `mean` is not finite or `stddev` is negative or not finite
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { abs, key, max } from '@purenn/tensor'
   * const w = initializers.truncatedNormal({ stddev: 1 }).init(key(0), [1000])
   * console.log(max(abs(w)).item() < 2) // true
   * ```
   */
  truncatedNormal,

  /**
   * Keras' `VarianceScaling`: samples with variance $\mathrm{scale} / n$, where $n$ is $\text{fan}_\text{in}$,
   * $\text{fan}_\text{out}$ or $\text{fan}_\text{avg} = (\text{fan}_\text{in} + \text{fan}_\text{out})/2$ of the weight's shape ({@link computeFans}),
   * floored at 1.
   *
   * @remarks
   * - `truncatedNormal` (default): truncated normal cut at $2\sigma$ with
   *   $\sigma = \sqrt{\mathrm{scale}/n} \,/\, 0.87962566103423978$, so that the samples' standard deviation is
   *   $\sqrt{\mathrm{scale}/n}$;
   * - `untruncatedNormal`: normal with standard deviation $\sqrt{\mathrm{scale}/n}$;
   * - `uniform`: $U(-l, l)$ with $l = \sqrt{3 \cdot \mathrm{scale}/n}$.
   *
   * Glorot, He and LeCun initializers are special cases (see {@link initializers}).
   * The chapter's example uses He's scale with fan_avg:
   * `varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' })`.
   * Defaults (`scale` 1, `'fanIn'`, `'truncatedNormal'`) are Keras'.
   *
   * @param opts - `scale` (> 0), `mode` and `distribution`
   * @returns the initializer, with `config` `{ scale, mode, distribution }`
   * @throws RangeError when `scale` is not a positive finite number, or `mode` or
   *   `distribution` is not one of the allowed strings
   * @example
   * ```ts
   * import { initializers } from '@purenn/layers'
   * import { abs, key, max } from '@purenn/tensor'
   * const init = initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' })
   * const w = init.init(key(0), [300, 100])
   * console.log(max(abs(w)).item() <= Math.sqrt((3 * 2) / 200)) // true
   * ```
   */
  varianceScaling,
})

/** The initializer each name stands for. */
const byName: { readonly [N in InitializerName]: Initializer } = {
  glorotUniform: initializers.glorotUniform,
  glorotNormal: initializers.glorotNormal,
  heNormal: initializers.heNormal,
  heUniform: initializers.heUniform,
  lecunNormal: initializers.lecunNormal,
  lecunUniform: initializers.lecunUniform,
  zeros: initializers.zeros,
  ones: initializers.ones,
}

const names = Object.keys(byName) as InitializerName[]

/**
 * The initializer a name stands for; an initializer value is returned as is.
 *
 * @remarks The name is Keras' in camelCase (`'he_normal'` is `'heNormal'`).
 * @param nameOrValue - an {@link InitializerName} or an {@link Initializer}
 * @returns the initializer
 * @throws Error when given a string that names no initializer (possible only from untyped code)
 * @example
 * ```ts
 * import { getInitializer, initializers } from '@purenn/layers'
 * console.log(getInitializer('heNormal') === initializers.heNormal) // true
 * ```
 * @category Initializers
 */
export const getInitializer = (nameOrValue: InitializerName | Initializer): Initializer => {
  if (typeof nameOrValue !== 'string') return nameOrValue
  const found = Object.hasOwn(byName, nameOrValue) ? byName[nameOrValue] : undefined
  if (found === undefined)
    throw new Error(
      `getInitializer: unknown initializer '${String(nameOrValue)}', expected one of ${quote(names)}`,
    )
  return found
}

// ---------------------------------------------------------------------------------------
// Config (plain JSON) and its decoding

/**
 * The plain-JSON config of an initializer: its name (`'heNormal'`) when it has no
 * parameters, else the name with its parameters
 * (`{ name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'uniform' }`).
 *
 * @remarks Inverse of {@link initializerFromConfig}.
 * @param init - the initializer
 * @returns the JSON to save
 * @example
 * ```ts
 * import { initializerToConfig, initializers } from '@purenn/layers'
 * console.log(initializerToConfig(initializers.heNormal), initializerToConfig(initializers.constant(1))) // heNormal { name: 'constant', value: 1 }
 * ```
 * @category Initializers
 */
export const initializerToConfig = (init: Initializer): Json =>
  Object.keys(init.config).length === 0 ? init.name : { name: init.name, ...init.config }

type ParamKind = 'constant' | 'randomNormal' | 'randomUniform' | 'truncatedNormal' | 'varianceScaling'

/** The parameters each parameterized initializer takes, with their defaults. */
const defaults: { readonly [K in ParamKind]: { readonly [field: string]: Json } } = {
  constant: { value: 0 },
  randomNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
}

const allNames: readonly string[] = [...names, ...Object.keys(defaults)]

const InitializerNameC = t.keyof(
  Object.fromEntries(names.map((n) => [n, null])) as { [N in InitializerName]: null },
  `one of ${quote(names)}`,
)
const KindC = t.keyof(
  Object.fromEntries(allNames.map((n) => [n, null])) as { [N in InitializerName | ParamKind]: null },
  `one of ${quote(allNames)}`,
)
const Named = t.type({ name: t.unknown }, 'an initializer name or { name, ...params }')

function quote(xs: readonly string[]): string {
  return xs.map((x) => `'${x}'`).join(' | ')
}

const problemOf = (kind: ParamKind, p: { readonly [field: string]: unknown }): Problem => {
  switch (kind) {
    case 'constant':
      return constantProblem(p.value)
    case 'randomNormal':
    case 'truncatedNormal':
      return normalProblem(p.mean, p.stddev)
    case 'randomUniform':
      return uniformProblem(p.minval, p.maxval)
    case 'varianceScaling':
      return varianceScalingProblem(p.scale, p.mode, p.distribution)
  }
}

// Called only on params that passed `problemOf`, so the constructors do not throw.
const build = (kind: ParamKind, p: { readonly [field: string]: unknown }): Initializer => {
  switch (kind) {
    case 'constant':
      return initializers.constant(p.value as number)
    case 'randomNormal':
      return initializers.randomNormal(p as RandomNormalOptions)
    case 'truncatedNormal':
      return initializers.truncatedNormal(p as RandomNormalOptions)
    case 'randomUniform':
      return initializers.randomUniform(p as RandomUniformOptions)
    case 'varianceScaling':
      return initializers.varianceScaling(p as VarianceScalingOptions)
  }
}

/**
 * Rebuilds an initializer from its plain-JSON config (data from outside: a saved model), with
 * io-ts. Accepts an {@link InitializerName} or an object `{ name, ...params }` as written by
 * {@link initializerToConfig}; missing parameters take Keras' defaults.
 *
 * @remarks
 * Never throws: a bad config gives a `Left` whose message names the field, e.g.
 * `initializer.mode: expected one of 'fanIn' | 'fanOut' | 'fanAvg', got "fan_avg"`. Fields an
 * initializer does not take are rejected.
 *
 * @param u - the JSON value
 * @param path - the name of the field being decoded, used in messages; default `'initializer'`
 * @returns `Right(initializer)` or `Left(message)`
 * @example
 * ```ts
 * import { initializerFromConfig } from '@purenn/layers'
 * const ok = initializerFromConfig({ name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'uniform' })
 * console.log(ok._tag === 'Right' && ok.right.config) // { scale: 2, mode: 'fanAvg', distribution: 'uniform' }
 * const bad = initializerFromConfig({ name: 'varianceScaling', mode: 'fan_avg' }, 'kernelInitializer')
 * console.log(bad._tag === 'Left' && bad.left) // kernelInitializer.mode: expected one of 'fanIn' | 'fanOut' | 'fanAvg', got "fan_avg"
 * ```
 * @category Initializers
 */
export const initializerFromConfig = (u: unknown, path = 'initializer'): E.Either<string, Initializer> => {
  if (typeof u === 'string')
    return E.map((n: InitializerName) => byName[n])(decodeAt(InitializerNameC, u, path))
  const namedConfig = decodeAt(Named, u, path)
  if (E.isLeft(namedConfig)) return namedConfig
  const kind = decodeAt(KindC, namedConfig.right.name, `${path}.name`)
  if (E.isLeft(kind)) return kind
  const fields = namedConfig.right as { readonly [k: string]: unknown }
  const k = kind.right
  const allowed = Object.hasOwn(defaults, k) ? defaults[k as ParamKind] : {}
  for (const f of Object.keys(fields)) {
    if (f === 'name' || Object.hasOwn(allowed, f)) continue
    const fieldList = Object.keys(allowed)
    const takes = fieldList.length === 0 ? 'no parameters' : `only ${fieldList.join(', ')}`
    return E.left(`${path}.${f}: '${k}' takes ${takes}, got a field '${f}'`)
  }
  if (!Object.hasOwn(defaults, k)) return E.right(byName[k as InitializerName])
  const params = { ...allowed, ...fields }
  const problem = problemOf(k as ParamKind, params)
  return problem === undefined
    ? E.right(build(k as ParamKind, params))
    : E.left(`${path}.${problem[0]}: ${problem[1]}`)
}
