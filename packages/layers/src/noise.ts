import { add, bernoulli, type Key, mul, normal, sub, type Tensor } from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { jsonField } from './fields.js'
import { rateField } from './internal/fields.js'
import type { Empty, NameOption } from './layer.js'

// Self-normalizing dropout and noise layers: AlphaDropout (and its Monte Carlo variant),
// GaussianDropout, GaussianNoise. None has params; each draws from the call's key.

/**
 * Options of {@link alphaDropout}, {@link mcAlphaDropout} and {@link gaussianDropout}.
 * @category Layers
 */
export interface RateOptions extends NameOption {
  /** The drop probability, in [0, 1), as Keras' `rate`. */
  readonly rate: number
}

/**
 * Options of {@link gaussianNoise}.
 * @category Layers
 */
export interface GaussianNoiseOptions extends NameOption {
  /** The standard deviation of the added noise, ≥ 0. */
  readonly stddev: number
}

/** SELU's α and λ: the values alpha dropout sets dropped units to are built from them. */
const SELU_ALPHA = 1.6732632423543772
const SELU_SCALE = 1.0507009873554805

/** The one option of the rate layers: the drop probability. */
const rateSchema = { rate: rateField } as const

/** The one option of gaussianNoise: the noise's standard deviation. */
const noiseSchema = {
  stddev: jsonField('number', {
    check: (s) => (s >= 0 ? undefined : `must be a finite number ≥ 0, got ${s}`),
  }),
} as const

// the options the noise layers take are the schemas'
const _options: (o: RateOptions & GaussianNoiseOptions) => unknown = (o) => [
  alphaDropout(o),
  mcAlphaDropout(o),
  gaussianDropout(o),
  gaussianNoise(o),
]

/**
 * Alpha dropout (Keras' `AlphaDropout`): dropout for self-normalizing (SELU) networks, which
 * keeps the mean and variance of its inputs.
 *
 * @remarks
 * Klambauer et al. (2017), "Self-Normalizing Neural Networks". Ordinary dropout sets units to
 * 0 and rescales the others, which changes the variance of SELU activations; alpha dropout
 * sets dropped units to SELU's negative saturation value $\alpha' = -\lambda\alpha \approx -1.7581$ and then applies
 * the affine map that restores mean 0 and variance 1. With $m \sim \operatorname{Bernoulli}(1 - \mathrm{rate})$ per
 * element from the call's key:
 *
 * $$
 * y = a \left(x m + \alpha' (1 - m)\right) + b, \quad
 * a = \left((1 - \mathrm{rate})(1 + \mathrm{rate} \cdot \alpha'^2)\right)^{-1/2}, \quad
 * b = -a \alpha' \, \mathrm{rate}
 * $$
 *
 * If $x$ has mean 0 and variance 1, so has $y$. Gradient: $a m g$.
 *
 * It drops when `opts.dropout` is true, or when it is absent and `opts.training` is true
 * (as {@link dropout}); at inference it is the identity. Use it with `selu` and
 * `lecunNormal`, with a rate of 5–10% (the paper's advice).
 *
 * @param opts - `{ rate, name? }`
 * @returns the layer
 * @throws Error when `rate` is not in [0, 1) or on an unknown option; at apply time, when
 * dropping without a `key`
 * @example
 * ```ts
 * import { alphaDropout } from '@purenn/layers'
 * import { key, mean, normal } from '@purenn/tensor'
 * const layer = alphaDropout({ rate: 0.1 })
 * const x = normal(key(0), [1, 100000])
 * const y = layer.apply({}, {}, x, { training: true, key: key(1) }).y
 * console.log(Math.abs(mean(y).item()) < 0.02) // true
 * console.log(layer.apply({}, {}, x, { training: false }).y === x) // true
 * ```
 * @category Layers
 */
export const alphaDropout: DefinedLayer<'AlphaDropout', typeof rateSchema, Empty, Empty> = rateLayer(
  'AlphaDropout',
  'alphaDropout',
  alphaDrop,
  false,
)

/**
 * Monte Carlo alpha dropout (the chapter's `MCAlphaDropout`): {@link alphaDropout} that
 * stays on at inference too, for MC-dropout predictions of a SELU network.
 *
 * @remarks Same formula as {@link alphaDropout}; every call draws a fresh mask from its key,
 * whatever `training` and `dropout` say. Gal & Ghahramani (2016) for Monte Carlo dropout.
 * @param opts - `{ rate, name? }`
 * @returns the layer
 * @throws Error when `rate` is not in [0, 1); at apply time, when called without a `key`
 * @example
 * ```ts
 * import { mcAlphaDropout } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const layer = mcAlphaDropout({ rate: 0.5 })
 * const a = layer.apply({}, {}, ones([1, 8]), { training: false, key: key(1) }).y
 * const b = layer.apply({}, {}, ones([1, 8]), { training: false, key: key(2) }).y
 * console.log(a.toString() === b.toString()) // false
 * ```
 * @category Layers
 */
export const mcAlphaDropout: DefinedLayer<'MCAlphaDropout', typeof rateSchema, Empty, Empty> = rateLayer(
  'MCAlphaDropout',
  'mcAlphaDropout',
  alphaDrop,
  true,
)

/**
 * Gaussian dropout (Keras' `GaussianDropout`): multiplies each unit by noise drawn from
 * `N(1, rate/(1 − rate))` while training; the identity at inference.
 *
 * @remarks
 * Srivastava et al. (2014), section 10: multiplicative Gaussian noise with the same mean (1)
 * and variance ($\mathrm{rate}/(1 - \mathrm{rate})$) as inverted Bernoulli dropout's factor $m/(1 - \mathrm{rate})$:
 * $y = x (1 + \sigma z)$, $\sigma = \sqrt{\mathrm{rate}/(1 - \mathrm{rate})}$, $z \sim \mathcal{N}(0, 1)$ per element from the call's key.
 * Gradient $(1 + \sigma z)\, g$. Drops when `opts.dropout ?? opts.training`, as {@link dropout}.
 * @param opts - `{ rate, name? }`
 * @returns the layer
 * @throws Error when `rate` is not in [0, 1); at apply time, when training without a `key`
 * @example
 * ```ts
 * import { gaussianDropout } from '@purenn/layers'
 * import { key, mean, ones } from '@purenn/tensor'
 * const y = gaussianDropout({ rate: 0.5 }).apply({}, {}, ones([1, 100000]), { training: true, key: key(0) }).y
 * console.log(Math.abs(mean(y).item() - 1) < 0.02) // true
 * ```
 * @category Layers
 */
export const gaussianDropout: DefinedLayer<'GaussianDropout', typeof rateSchema, Empty, Empty> = rateLayer(
  'GaussianDropout',
  'gaussianDropout',
  (x, rate, k) =>
    rate === 0 ? x : mul(x, normal(k, x.shape, { mean: 1, stddev: Math.sqrt(rate / (1 - rate)) })),
  false,
)

/**
 * Gaussian noise (Keras' `GaussianNoise`): adds $\mathcal{N}(0, \mathrm{stddev}^2)$ noise to every unit while
 * training; the identity at inference.
 *
 * @remarks
 * `y = x + stddev·z`, `z ~ N(0, 1)` per element from the call's key; gradient `g`. A
 * regularizer (noise injection is equivalent to a Tikhonov penalty for small noise; Bishop
 * 1995) and a data augmentation for real-valued inputs. Only `opts.training` turns it on
 * (the `dropout` flag of Monte Carlo dropout does not).
 * @param opts - `{ stddev, name? }`
 * @returns the layer
 * @throws Error when `stddev` is negative or not finite; at apply time, when training without a `key`
 * @example
 * ```ts
 * import { gaussianNoise } from '@purenn/layers'
 * import { key, zeros } from '@purenn/tensor'
 * const layer = gaussianNoise({ stddev: 0.1 })
 * const y = layer.apply({}, {}, zeros([1, 3]), { training: true, key: key(0) }).y
 * console.log(y.data.every((v) => v !== 0 && Math.abs(v) < 0.6)) // true
 * ```
 * @category Layers
 */
export const gaussianNoise: DefinedLayer<'GaussianNoise', typeof noiseSchema, Empty, Empty> = defineLayer({
  kind: 'GaussianNoise',
  fn: 'gaussianNoise',
  config: noiseSchema,
  build: ({ stddev }) => ({
    apply: (_params, _state, x, o) => {
      if (!o.training || stddev === 0) return x
      if (o.key === undefined)
        throw new Error('gaussianNoise: training mode needs a key (pass { training: true, key })')
      return add(x, normal(o.key, x.shape, { stddev }))
    },
  }),
})

// ---------------------------------------------------------------------------------------
// helpers

// function declarations: the layers above are made with them when the module loads

/** `a·(x·m + α'(1 − m)) + b` with `m ~ Bernoulli(1 − rate)` from `key`. */
function alphaDrop(x: Tensor, rate: number, k: Key): Tensor {
  if (rate === 0) return x
  const alphaP = -SELU_ALPHA * SELU_SCALE
  const a = ((1 - rate) * (1 + rate * alphaP * alphaP)) ** -0.5
  const b = -a * alphaP * rate
  const m = bernoulli(k, 1 - rate, x.shape)
  // a·(x·m + α'(1 − m)) + b = a·m·(x − α') + (a·α' + b)
  return add(mul(mul(m, sub(x, alphaP)), a), a * alphaP + b)
}

/** A layer of `kind` that runs `drop` when dropping (always, for Monte Carlo dropout). */
function rateLayer<K extends string>(
  kind: K,
  fn: string,
  drop: (x: Tensor, rate: number, k: Key) => Tensor,
  always: boolean,
): DefinedLayer<K, typeof rateSchema, Empty, Empty> {
  return defineLayer({
    kind,
    fn,
    config: rateSchema,
    build: ({ rate }) => ({
      apply: (_params, _state, x, o) => {
        if (!always && !(o.dropout ?? o.training)) return x
        if (o.key === undefined)
          throw new Error(
            always
              ? `${fn}: Monte Carlo dropout draws a mask on every call and needs a key (pass { training, key })`
              : `${fn}: training mode needs a key (pass { training: true, key })`,
          )
        return drop(x, rate, o.key)
      },
    }),
  })
}
