import { dropout as dropoutOp } from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { rateField } from './internal/fields.js'
import type { Empty, NameOption } from './layer.js'

/**
 * Options of {@link dropout} and {@link mcDropout}.
 * @category Layers
 */
export interface DropoutOptions extends NameOption {
  /**
   * The probability of DROPPING each unit, in [0, 1), as Keras' `rate` (not the keep
   * probability of stax or of the original paper's `p`).
   */
  readonly rate: number
}

/** The one option of the dropout layers: the drop probability. */
const rateSchema = { rate: rateField } as const

// the options the dropout layers take are the schema's
const _options: (o: DropoutOptions) => unknown = (o) => [dropout(o), mcDropout(o)]

/**
 * Dropout (Keras' `Dropout`): while training, zeroes each unit with probability `rate` and
 * scales the others by $1/(1 - \mathrm{rate})$; at inference, the identity.
 *
 * @remarks
 * Srivastava et al. (2014), "Dropout: A Simple Way to Prevent Neural Networks from
 * Overfitting". Inverted dropout, as Keras: $y = x m / (1 - \mathrm{rate})$ with
 * $m \sim \operatorname{Bernoulli}(1 - \mathrm{rate})$ drawn independently per element from the call's `key`
 * (`bernoulli(key, 1 − rate, x.shape)`), so $\mathbb{E}[y] = x$ and nothing needs rescaling at
 * inference. The mask depends only on the key and the shape. Gradient: $g m / (1 - \mathrm{rate})$.
 *
 * Dropping happens when `opts.dropout` is true, or when it is absent and `opts.training` is
 * true; `{ training: false, dropout: true }` runs Monte Carlo dropout while batch
 * normalization keeps its moving statistics (see also {@link mcDropout}). No params.
 *
 * @param opts - `{ rate, name? }`
 * @returns the layer
 * @throws Error when `rate` is not in [0, 1); at apply time, when dropping without a `key`.
 * @example
 * ```ts
 * import { dropout } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const layer = dropout({ rate: 0.5 })
 * const { params, state } = layer.init(key(0), [1000])
 * const x = ones([1, 1000])
 * console.log(layer.apply(params, state, x, { training: false }).y === x) // true
 * const y = layer.apply(params, state, x, { training: true, key: key(1) }).y
 * console.log([...new Set(y.data)].sort()) // [ 0, 2 ]
 * ```
 * @category Layers
 */
export const dropout: DefinedLayer<'Dropout', typeof rateSchema, Empty, Empty> = defineLayer({
  kind: 'Dropout',
  fn: 'dropout',
  config: rateSchema,
  build: ({ rate }) => ({
    apply: (_params, _state, x, o) => {
      if (!(o.dropout ?? o.training)) return x
      if (o.key === undefined)
        throw new Error('dropout: training mode needs a key (pass { training: true, key })')
      return dropoutOp(o.key, x, rate)
    },
  }),
})

/**
 * Monte Carlo dropout: dropout that stays on at inference too (the chapter's `MCDropout`
 * subclass, whose `call` always passes `training=True`).
 *
 * @remarks
 * Gal & Ghahramani (2016), "Dropout as a Bayesian Approximation: Representing Model
 * Uncertainty in Deep Learning". Every call draws a fresh mask from its `key`
 * ($y = x m / (1 - \mathrm{rate})$, $m \sim \operatorname{Bernoulli}(1 - \mathrm{rate})$), whatever `training` and `dropout` say;
 * averaging many stochastic predictions estimates the predictive mean, their spread the
 * model's uncertainty (`mcPredict` in `@purenn/train`). On a model that has plain
 * {@link dropout} layers, `{ training: false, dropout: true }` does the same without
 * changing the architecture. No params, so a trained model's weights load unchanged.
 *
 * @param opts - `{ rate, name? }`
 * @returns the layer
 * @throws Error when `rate` is not in [0, 1); at apply time, when called without a `key`.
 * @example
 * ```ts
 * import { mcDropout } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * const layer = mcDropout({ rate: 0.2 })
 * const { params, state } = layer.init(key(0), [8])
 * const x = ones([1, 8])
 * const a = layer.apply(params, state, x, { training: false, key: key(1) }).y
 * const b = layer.apply(params, state, x, { training: false, key: key(2) }).y
 * console.log(a.toString() === b.toString()) // false
 * ```
 * @category Layers
 */
export const mcDropout: DefinedLayer<'MCDropout', typeof rateSchema, Empty, Empty> = defineLayer({
  kind: 'MCDropout',
  fn: 'mcDropout',
  config: rateSchema,
  build: ({ rate }) => ({
    apply: (_params, _state, x, o) => {
      if (o.key === undefined)
        throw new Error(
          'mcDropout: Monte Carlo dropout draws a mask on every call and needs a key (pass { training, key })',
        )
      return dropoutOp(o.key, x, rate)
    },
  }),
})
