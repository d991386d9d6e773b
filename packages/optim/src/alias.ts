import type { Tree } from '@purenn/tensor'
import {
  type ScaleByAdagradState,
  type ScaleByAdamState,
  type ScaleByNadamState,
  scaleByAdagrad,
  scaleByAdam,
  scaleByNadam,
} from './adam.js'
import {
  type ScaleByAdamaxState,
  type ScaleByNesterovAdamState,
  scaleByAdamax,
  scaleByNesterovAdam,
} from './adamax.js'
import { type ClipOptions, type ClipState, clipGradients } from './clip.js'
import { addDecayedWeights } from './decay.js'
import {
  adagradSettings,
  adamaxSettings,
  adamSettings,
  momentumSettings,
  nadamSettings,
  nesterovAdamSettings,
  rmsSettings,
} from './internal/settings.js'
import {
  adagradStep,
  adamaxStep,
  adamStep,
  descent,
  nadamStep,
  nesterovAdamStep,
  rmsStep,
  type StepRun,
  sgdStep,
} from './internal/steps.js'
import { type TraceMomentumState, traceMomentum } from './momentum.js'
import { type ScaleByRmsState, scaleByRms } from './rms.js'
import { type ScaleByLearningRateState, scaleByLearningRate } from './scale.js'
import type { LearningRate } from './schedules.js'
import { chain, type EmptyState, type GradientTransformation, type StepOptions } from './transform.js'

/**
 * Options of {@link sgd} (Keras' `SGD`).
 * @category Optimizers
 */
export interface SgdOptions extends ClipOptions {
  /** A constant or a schedule. Default 0.01. */
  readonly learningRate?: LearningRate
  /** Momentum `μ` in [0, 1). Default 0 (plain gradient descent). */
  readonly momentum?: number
  /** Nesterov momentum (only with `momentum > 0`). Default false. */
  readonly nesterov?: boolean
}

/**
 * The state of {@link sgd}: clipping, learning-rate step, and the velocity when `momentum > 0`.
 * @category Optimizers
 */
export type SgdState =
  | readonly [ClipState, ScaleByLearningRateState]
  | readonly [ClipState, ScaleByLearningRateState, TraceMomentumState]

/**
 * Stochastic gradient descent, with optional (Nesterov) momentum, as Keras' `SGD`.
 *
 * @remarks
 * Keras' update, with $\mu$ = `momentum`: $w \leftarrow w - \mathrm{lr}\, g$; with momentum
 * $v \leftarrow \mu v - \mathrm{lr}\, g$, $w \leftarrow w + v$; Nesterov $v \leftarrow \mu v - \mathrm{lr}\, g$,
 * $w \leftarrow w + \mu v - \mathrm{lr}\, g$ (Polyak 1964; Sutskever et al. 2013).
 *
 * The chain: `clipGradients(o)` → `scaleByLearningRate(lr)` → `traceMomentum({ decay: μ, nesterov })`
 * (the last only when `momentum > 0`). The learning rate is applied before the momentum so
 * that the velocity accumulates $-\mathrm{lr}\, g$ as in Keras, which keeps purenn equal to Keras when
 * the learning rate is a schedule (Optax's `sgd` accumulates `g` and scales afterwards).
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.01 | `learning_rate` | 0.01 |
 * | `momentum` | 0 | `momentum` | 0.0 |
 * | `nesterov` | false | `nesterov` | False |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { applyUpdates, sgd } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = sgd({ learningRate: 0.1, momentum: 0.9 })
 * let params = { w: tensor([1]) }
 * let state = tx.init(params)
 * for (let i = 0; i < 2; i++) {
 *   const r = tx.update({ w: tensor([1]) }, state, params)
 *   params = applyUpdates(params, r.updates)
 *   state = r.state
 * }
 * // v1 = −0.1, v2 = 0.9·(−0.1) − 0.1 = −0.19: w = 1 − 0.1 − 0.19
 * console.log(params.w.toString()) // tensor([0.71])
 * ```
 * @category Optimizers
 */
export const sgd = (options: SgdOptions = {}): GradientTransformation<SgdState> => {
  const momentum = options.momentum ?? 0
  const clip = clipGradients(options)
  const rate = options.learningRate ?? 0.01
  const lr = scaleByLearningRate(rate)
  const trace = { decay: momentum, nesterov: options.nesterov ?? false }
  const settings = momentum === 0 ? undefined : momentumSettings('traceMomentum', trace)
  return optimizer<SgdState>(
    momentum === 0 ? chain(clip, lr) : chain(clip, lr, traceMomentum(trace)),
    rate,
    (grads, state, params, run) => {
      const c = clip.update(grads, state[0], params)
      const count = state[1].count
      const r = sgdStep(
        c.updates,
        params,
        descent(rate, count),
        run,
        settings === undefined ? undefined : { settings, trace: state[2]! },
      )
      const lrState = { count: count + 1 }
      return {
        params: r.params,
        state: r.trace === undefined ? [c.state, lrState] : [c.state, lrState, r.trace],
      }
    },
  )
}

/**
 * Options of {@link rmsprop} (Keras' `RMSprop`).
 * @category Optimizers
 */
export interface RmspropOptions extends ClipOptions {
  /** A constant or a schedule. Default 0.001. */
  readonly learningRate?: LearningRate
  /** Decay of the moving average of squared gradients. Default 0.9. */
  readonly rho?: number
  /** Momentum `μ` in [0, 1). Default 0. */
  readonly momentum?: number
  /** Added inside the square root. Default 1e-7. */
  readonly epsilon?: number
  /** Divide by the estimated variance instead of the second moment. Default false. */
  readonly centered?: boolean
}

/**
 * The state of {@link rmsprop}.
 * @category Optimizers
 */
export type RmspropState =
  | readonly [ClipState, ScaleByRmsState, ScaleByLearningRateState]
  | readonly [ClipState, ScaleByRmsState, ScaleByLearningRateState, TraceMomentumState]

/**
 * RMSprop, as Keras' `RMSprop` (Hinton, Srivastava & Swersky 2012, lecture 6e of "Neural
 * Networks for Machine Learning"; Graves 2013 for the centered variant).
 *
 * @remarks
 * Keras' update, with $\rho$ = `rho` and $\mu$ = `momentum`: $\nu \leftarrow \rho \nu + (1 - \rho)\, g^2$,
 * $\Delta = \mathrm{lr}\, g / \sqrt{\nu + \varepsilon}$ (centered: $m \leftarrow \rho m + (1 - \rho)\, g$,
 * $\Delta = \mathrm{lr}\, g / \sqrt{\nu - m^2 + \varepsilon}$); then $w \leftarrow w - \Delta$, or with momentum
 * $M \leftarrow \mu M + \Delta$, $w \leftarrow w - M$.
 *
 * The chain: `clipGradients(o)` → `scaleByRms({ rho, epsilon, centered })` →
 * `scaleByLearningRate(lr)` → `traceMomentum({ decay: μ })` (the last only when
 * `momentum > 0`; after the learning rate, as Keras accumulates $\mathrm{lr}\, g / \sqrt{\nu + \varepsilon}$).
 *
 * $\varepsilon$ sits inside the square root as in Keras 3 and in tf.keras 2.x with momentum
 * (tf.keras 2.x without momentum used $\sqrt{\nu} + \varepsilon$; the difference is below $10^{-3}$ relative
 * once $\nu \gg \varepsilon$).
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.001 | `learning_rate` | 0.001 |
 * | `rho` | 0.9 | `rho` | 0.9 |
 * | `momentum` | 0 | `momentum` | 0.0 |
 * | `epsilon` | 1e-7 | `epsilon` | 1e-07 |
 * | `centered` | false | `centered` | False |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { rmsprop } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * // the chapter's optimizer: clip by value, then by norm (see clipGradients)
 * const tx = rmsprop({ learningRate: 0.01, clipNorm: 1, clipValue: 1 })
 * const g = { w: tensor([3, 4]) }
 * const { updates, state } = tx.update(g, tx.init(g), g)
 * // clipped to [0.7071, 0.7071]; ν = 0.1·0.5; Δ = 0.01·0.7071/√(0.05 + 1e-7)
 * console.log(updates.w.toString(), state.length) // tensor([-0.0316227, -0.0316227]) 3
 * ```
 * @category Optimizers
 */
export const rmsprop = (options: RmspropOptions = {}): GradientTransformation<RmspropState> => {
  const momentum = options.momentum ?? 0
  const clip = clipGradients(options)
  const rms = scaleByRms(options)
  const settings = rmsSettings('scaleByRms', options)
  const rate = options.learningRate ?? 0.001
  const lr = scaleByLearningRate(rate)
  const mom = momentum === 0 ? undefined : momentumSettings('traceMomentum', { decay: momentum }).mu
  return optimizer<RmspropState>(
    momentum === 0 ? chain(clip, rms, lr) : chain(clip, rms, lr, traceMomentum({ decay: momentum })),
    rate,
    (grads, state, params, run) => {
      const c = clip.update(grads, state[0], params)
      const count = state[2].count
      const r = rmsStep(
        settings,
        c.updates,
        state[1],
        params,
        descent(rate, count),
        run,
        mom === undefined ? undefined : { mom, trace: state[3]! },
      )
      const lrState = { count: count + 1 }
      return {
        params: r.params,
        state: r.trace === undefined ? [c.state, r.state, lrState] : [c.state, r.state, lrState, r.trace],
      }
    },
  )
}

/**
 * Options of {@link adam} (Keras' `Adam`).
 * @category Optimizers
 */
export interface AdamOptions extends ClipOptions {
  /** A constant or a schedule. Default 0.001. */
  readonly learningRate?: LearningRate
  /** Decay of the first moment. Default 0.9. */
  readonly beta1?: number
  /** Decay of the second moment. Default 0.999. */
  readonly beta2?: number
  /** Keras' epsilon hat, added to `√v`. Default 1e-7. */
  readonly epsilon?: number
  /** AMSGrad (Reddi et al. 2018). Default false. */
  readonly amsgrad?: boolean
  /** Added to `v̂` inside the square root (Optax's `eps_root`). Default 0. */
  readonly epsRoot?: number
}

/**
 * The state of {@link adam}.
 * @category Optimizers
 */
export type AdamState = readonly [ClipState, ScaleByAdamState, ScaleByLearningRateState]

/**
 * Adam, as Keras' `Adam` (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization").
 *
 * @remarks
 * Keras' update, with $t$ the step (1 at the first):
 *
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
 * v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
 * w &\leftarrow w - \alpha \frac{m}{\sqrt{v} + \varepsilon}, \quad \alpha = \mathrm{lr} \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
 * \end{aligned}
 * $$
 *
 * AMSGrad uses $\hat{v} \leftarrow \max(\hat{v}, v)$ in place of $v$.
 *
 * The chain: `clipGradients(o)` → `scaleByAdam({ beta1, beta2, epsilon, amsgrad })` →
 * `scaleByLearningRate(lr)`.
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.001 | `learning_rate` | 0.001 |
 * | `beta1` | 0.9 | `beta_1` | 0.9 |
 * | `beta2` | 0.999 | `beta_2` | 0.999 |
 * | `epsilon` | 1e-7 | `epsilon` | 1e-07 |
 * | `amsgrad` | false | `amsgrad` | False |
 * | `epsRoot` | 0 | (Optax's `eps_root`) | |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { adam, applyUpdates } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = adam({ learningRate: 0.1 })
 * const params = { w: tensor([1, 1]) }
 * const { updates } = tx.update({ w: tensor([5, -20]) }, tx.init(params), params)
 * // the first step moves every weight by about lr, against the sign of its gradient
 * console.log(applyUpdates(params, updates).w.toString()) // tensor([0.9, 1.1])
 * ```
 * @category Optimizers
 */
export const adam = (options: AdamOptions = {}): GradientTransformation<AdamState> => {
  const clip = clipGradients(options)
  const settings = adamSettings('scaleByAdam', options)
  const rate = options.learningRate ?? 0.001
  return optimizer<AdamState>(
    chain(clip, scaleByAdam(options), scaleByLearningRate(rate)),
    rate,
    (grads, [cs, as, { count }], params, run) => {
      const c = clip.update(grads, cs, params)
      const r = adamStep(settings, c.updates, as, params, descent(rate, count), run)
      return { params: r.params, state: [c.state, r.state, { count: count + 1 }] }
    },
  )
}

/**
 * Options of {@link adamw} (Keras' `AdamW`).
 * @category Optimizers
 */
export interface AdamWOptions extends AdamOptions {
  /** The decoupled weight-decay coefficient. Default 0.004 (Keras 3). */
  readonly weightDecay?: number
}

/**
 * The state of {@link adamw}.
 * @category Optimizers
 */
export type AdamWState = readonly [ClipState, ScaleByAdamState, EmptyState, ScaleByLearningRateState]

/**
 * AdamW: Adam with decoupled weight decay, as Keras' `AdamW` (Loshchilov & Hutter 2019,
 * "Decoupled Weight Decay Regularization").
 *
 * @remarks
 * Keras' update: $w \leftarrow w - \mathrm{lr} \cdot \mathrm{wd} \cdot w$ (on the weights from the start of the step, before the
 * Adam step in Keras 3), then the {@link adam} step. Both use the old weights, so the
 * weight moves by
 *
 * $$
 * -\mathrm{lr} \left(\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot \frac{m}{\sqrt{v} + \varepsilon} + \mathrm{wd} \cdot w\right)
 * $$
 *
 * The chain: `clipGradients(o)` → `scaleByAdam({ beta1, beta2, epsilon, amsgrad })` →
 * `addDecayedWeights(weightDecay)` → `scaleByLearningRate(lr)`. The decay comes after the
 * Adam scaling, which is what makes it AdamW: an L2 penalty in the loss would go through
 * Adam and be divided by $\sqrt{v}$, so weights with large gradients would hardly decay. To exclude
 * some weights (Keras' `exclude_from_weight_decay`), build the chain with
 * `addDecayedWeights(wd, mask)`.
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.001 | `learning_rate` | 0.001 |
 * | `weightDecay` | 0.004 | `weight_decay` | 0.004 |
 * | `beta1` | 0.9 | `beta_1` | 0.9 |
 * | `beta2` | 0.999 | `beta_2` | 0.999 |
 * | `epsilon` | 1e-7 | `epsilon` | 1e-07 |
 * | `amsgrad` | false | `amsgrad` | False |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { adamw, applyUpdates } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = adamw({ learningRate: 0.1, weightDecay: 0.5 })
 * const params = { w: tensor([2]) }
 * const { updates } = tx.update({ w: tensor([0]) }, tx.init(params), params)
 * // no gradient, so only the decay acts: w ← 2 − 0.1·0.5·2
 * console.log(applyUpdates(params, updates).w.toString()) // tensor([1.9])
 * ```
 * @category Optimizers
 */
export const adamw = (options: AdamWOptions = {}): GradientTransformation<AdamWState> => {
  const clip = clipGradients(options)
  const settings = adamSettings('scaleByAdam', options)
  const rate = options.learningRate ?? 0.001
  const wd = options.weightDecay ?? 0.004
  return optimizer<AdamWState>(
    chain(clip, scaleByAdam(options), addDecayedWeights(wd), scaleByLearningRate(rate)),
    rate,
    (grads, [cs, as, ds, { count }], params, run) => {
      const c = clip.update(grads, cs, params)
      const r = adamStep(settings, c.updates, as, params, descent(rate, count), run, wd)
      return { params: r.params, state: [c.state, r.state, ds, { count: count + 1 }] }
    },
  )
}

/**
 * Options of {@link nadam} (Keras' `Nadam`).
 * @category Optimizers
 */
export interface NadamOptions extends ClipOptions {
  /** A constant or a schedule. Default 0.001. */
  readonly learningRate?: LearningRate
  /** Decay of the first moment. Default 0.9. */
  readonly beta1?: number
  /** Decay of the second moment. Default 0.999. */
  readonly beta2?: number
  /** Added to `√v̂`. Default 1e-7 (`form: 'keras'`) or 1e-8 (`form: 'optax'`). */
  readonly epsilon?: number
  /**
   * Whose Nadam: `'keras'` (default: Dozat's momentum schedule, {@link scaleByNadam}) or
   * `'optax'` (Optax's `nadam`: constant `β1`, {@link scaleByNesterovAdam}).
   */
  readonly form?: 'keras' | 'optax'
  /**
   * Optax's `eps_root`, added to `v̂` under the square root (see {@link scaleByNesterovAdam}).
   * Default 0. Only with `form: 'optax'`: Keras' Nadam has none, so it is an error there.
   */
  readonly epsRoot?: number
}

/**
 * The state of {@link nadam}.
 * @category Optimizers
 */
export type NadamState =
  | readonly [ClipState, ScaleByNadamState, ScaleByLearningRateState]
  | readonly [ClipState, ScaleByNesterovAdamState, ScaleByLearningRateState]

/**
 * Nadam: Adam with Nesterov momentum, as Keras' `Nadam` (Dozat 2016, "Incorporating Nesterov
 * Momentum into Adam").
 *
 * @remarks
 * Keras' update (see {@link scaleByNadam} for $\hat{m}$, $\hat{v}$): $w \leftarrow w - \mathrm{lr}\, \hat{m} / (\sqrt{\hat{v}} + \varepsilon)$.
 *
 * The chain: `clipGradients(o)` → `scaleByNadam({ beta1, beta2, epsilon })` →
 * `scaleByLearningRate(lr)`.
 *
 * **Two Nadams.** Keras warms its momentum up with Dozat's schedule
 * $\mu_t = \beta_1 (1 - \tfrac{1}{2} \cdot 0.96^t)$; Optax's `nadam` uses the constant $\beta_1$ with Adam's bias
 * correction ($\hat{m} = \beta_1 m / (1 - \beta_1^{t+1}) + (1 - \beta_1)\, g / (1 - \beta_1^t)$) and $\varepsilon = 10^{-8}$.
 * `form: 'optax'` gives Optax's (the chain uses {@link scaleByNesterovAdam}); early steps
 * differ by several percent, later ones converge.
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.001 | `learning_rate` | 0.001 |
 * | `beta1` | 0.9 | `beta_1` | 0.9 |
 * | `beta2` | 0.999 | `beta_2` | 0.999 |
 * | `epsilon` | 1e-7 | `epsilon` | 1e-07 |
 * | `form` | `'keras'` | | |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { nadam } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = nadam()
 * const g = { w: tensor([1]) }
 * const { state } = tx.update(g, tx.init(g), g)
 * console.log(state[1].count, state[2].count) // 1 1
 * ```
 * @category Optimizers
 */
export const nadam = (options: NadamOptions = {}): GradientTransformation<NadamState> => {
  const { form = 'keras', ...rest } = options
  if (form !== 'keras' && form !== 'optax')
    throw new Error(`nadam: form must be 'keras' or 'optax', got ${String(form)}`)
  if (form === 'keras' && options.epsRoot !== undefined)
    throw new Error(`nadam: epsRoot is an option of form 'optax' (Optax's eps_root); Keras' Nadam has none`)
  const rate = options.learningRate ?? 0.001
  const lr = scaleByLearningRate(rate)
  const clip = clipGradients(options)
  if (form === 'keras') {
    const settings = nadamSettings('scaleByNadam', rest)
    return optimizer<NadamState>(chain(clip, scaleByNadam(rest), lr), rate, (grads, state, params, run) => {
      const [cs, ns, { count }] = state as readonly [ClipState, ScaleByNadamState, ScaleByLearningRateState]
      const c = clip.update(grads, cs, params)
      const r = nadamStep(settings, c.updates, ns, params, descent(rate, count), run)
      return { params: r.params, state: [c.state, r.state, { count: count + 1 }] }
    })
  }
  const settings = nesterovAdamSettings('scaleByNesterovAdam', rest)
  return optimizer<NadamState>(
    chain(clip, scaleByNesterovAdam(rest), lr),
    rate,
    (grads, state, params, run) => {
      const [cs, ns, { count }] = state as readonly [
        ClipState,
        ScaleByNesterovAdamState,
        ScaleByLearningRateState,
      ]
      const c = clip.update(grads, cs, params)
      const r = nesterovAdamStep(settings, c.updates, ns, params, descent(rate, count), run)
      return { params: r.params, state: [c.state, r.state, { count: count + 1 }] }
    },
  )
}

/**
 * Options of {@link adagrad} (Keras' `Adagrad`).
 * @category Optimizers
 */
export interface AdagradOptions extends ClipOptions {
  /** A constant or a schedule. Default 0.001. */
  readonly learningRate?: LearningRate
  /** Starting value of the accumulators. Default 0.1. */
  readonly initialAccumulatorValue?: number
  /** Added inside the square root. Default 1e-7. */
  readonly epsilon?: number
}

/**
 * The state of {@link adagrad}.
 * @category Optimizers
 */
export type AdagradState = readonly [ClipState, ScaleByAdagradState, ScaleByLearningRateState]

/**
 * AdaGrad, as Keras' `Adagrad` (Duchi, Hazan & Singer 2011).
 *
 * @remarks
 * Keras 3's update: $s \leftarrow s + g^2$, $w \leftarrow w - \mathrm{lr}\, g / \sqrt{s + \varepsilon}$, with $s$ starting at
 * `initialAccumulatorValue` (tf.keras 2.x: $g / (\sqrt{s} + \varepsilon)$).
 *
 * The chain: `clipGradients(o)` → `scaleByAdagrad({ initialAccumulatorValue, epsilon })` →
 * `scaleByLearningRate(lr)`.
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.001 | `learning_rate` | 0.001 |
 * | `initialAccumulatorValue` | 0.1 | `initial_accumulator_value` | 0.1 |
 * | `epsilon` | 1e-7 | `epsilon` | 1e-07 |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { adagrad } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = adagrad({ learningRate: 1, initialAccumulatorValue: 0, epsilon: 0 })
 * const g = { w: tensor([-4]) }
 * console.log(tx.update(g, tx.init(g), g).updates.w.toString()) // tensor([1])
 * ```
 * @category Optimizers
 */
export const adagrad = (options: AdagradOptions = {}): GradientTransformation<AdagradState> => {
  const clip = clipGradients(options)
  const settings = adagradSettings('scaleByAdagrad', options)
  const rate = options.learningRate ?? 0.001
  return optimizer<AdagradState>(
    chain(clip, scaleByAdagrad(options), scaleByLearningRate(rate)),
    rate,
    (grads, [cs, as, { count }], params, run) => {
      const c = clip.update(grads, cs, params)
      const r = adagradStep(settings, c.updates, as, params, descent(rate, count), run)
      return { params: r.params, state: [c.state, r.state, { count: count + 1 }] }
    },
  )
}

/**
 * Options of {@link adamax} (Keras' `Adamax`).
 * @category Optimizers
 */
export interface AdamaxOptions extends ClipOptions {
  /** A constant or a schedule. Default 0.001. */
  readonly learningRate?: LearningRate
  /** Decay of the first moment. Default 0.9. */
  readonly beta1?: number
  /** Decay of the infinity norm. Default 0.999. */
  readonly beta2?: number
  /** Added to the infinity norm. Default 1e-7. */
  readonly epsilon?: number
}

/**
 * The state of {@link adamax}.
 * @category Optimizers
 */
export type AdamaxState = readonly [ClipState, ScaleByAdamaxState, ScaleByLearningRateState]

/**
 * Adamax, as Keras' `Adamax` (Kingma & Ba 2015, section 7.1): Adam with the infinity norm.
 *
 * @remarks
 * Keras' update: $m \leftarrow \beta_1 m + (1 - \beta_1)\, g$, $u \leftarrow \max(\beta_2 u, \lvert g \rvert)$,
 * $w \leftarrow w - \mathrm{lr}\, m / \left((1 - \beta_1^t)(u + \varepsilon)\right)$. The step size is bounded by `lr` in every coordinate,
 * and `u` is robust to a single huge gradient (it decays geometrically instead of averaging).
 *
 * The chain: `clipGradients(o)` → `scaleByAdamax({ beta1, beta2, epsilon })` →
 * `scaleByLearningRate(lr)`.
 *
 * | option | purenn default | Keras argument | Keras default |
 * | --- | --- | --- | --- |
 * | `learningRate` | 0.001 | `learning_rate` | 0.001 |
 * | `beta1` | 0.9 | `beta_1` | 0.9 |
 * | `beta2` | 0.999 | `beta_2` | 0.999 |
 * | `epsilon` | 1e-7 | `epsilon` | 1e-07 |
 * | `clipValue`, `clipNorm`, `globalClipNorm` | none | `clipvalue`, `clipnorm`, `global_clipnorm` | None |
 *
 * @param options - see the table
 * @returns the optimizer
 * @example
 * ```ts
 * import { adamax, applyUpdates } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = adamax({ learningRate: 0.1 })
 * const params = { w: tensor([1, 1]) }
 * const { updates } = tx.update({ w: tensor([5, -20]) }, tx.init(params), params)
 * console.log(applyUpdates(params, updates).w.toString()) // tensor([0.9, 1.1])
 * ```
 * @category Optimizers
 */
export const adamax = (options: AdamaxOptions = {}): GradientTransformation<AdamaxState> => {
  const clip = clipGradients(options)
  const settings = adamaxSettings('scaleByAdamax', options)
  const rate = options.learningRate ?? 0.001
  return optimizer<AdamaxState>(
    chain(clip, scaleByAdamax(options), scaleByLearningRate(rate)),
    rate,
    (grads, [cs, as, { count }], params, run) => {
      const c = clip.update(grads, cs, params)
      const r = adamaxStep(settings, c.updates, as, params, descent(rate, count), run)
      return { params: r.params, state: [c.state, r.state, { count: count + 1 }] }
    },
  )
}

/**
 * The optimizer: its chain, with the learning rate attached (what `fit` reports) and its
 * fused step (`applyStep`: `step` gets the factor `f = fround(learningRateFactor)`, the
 * float32 the updates are multiplied by, as `mul(u, factor)` does, and whether the caller
 * manages the new buffers' lifetime, `ownedBuffers`).
 */
function optimizer<S>(
  tx: GradientTransformation<S>,
  learningRate: LearningRate,
  step: (grads: Tree, state: S, params: Tree, run: StepRun) => { readonly params: Tree; readonly state: S },
): GradientTransformation<S> {
  return {
    init: tx.init,
    update: tx.update,
    learningRate,
    applyStep: <P extends Tree>(grads: Tree, state: S, params: P, options: StepOptions = {}) => {
      const factor = options.learningRateFactor ?? 1
      if (!Number.isFinite(factor))
        throw new RangeError(`applyStep: learningRateFactor must be a finite number, got ${factor}`)
      const r = step(grads, state, params, { f: Math.fround(factor), owned: options.ownedBuffers === true })
      return { params: r.params as P, state: r.state }
    },
  }
}
