import type { Model } from '@purenn/layers'
import type { Tensor } from '@purenn/tensor'
import type { Callback } from './callbacks.js'
import { type FitOptions, fitLoop } from './fit.js'

// Callbacks that set the learning rate (performance scheduling, the learning-rate finder)
// and one that logs the history to a CSV file.

/**
 * Options of {@link reduceLROnPlateau}, as Keras' `ReduceLROnPlateau`.
 * @category Callbacks
 */
export interface ReduceLROnPlateauOptions {
  /** The value watched. Default `'val_loss'`. */
  readonly monitor?: string
  /** The factor the learning rate is multiplied by on a plateau, in (0, 1). Default 0.1. */
  readonly factor?: number
  /** Epochs without improvement before reducing. Default 10. */
  readonly patience?: number
  /** `'min'`, `'max'`, or `'auto'` (default: max for names containing `acc`, else min). */
  readonly mode?: 'min' | 'max' | 'auto'
  /** Smallest change that counts as an improvement. Default 1e-4. */
  readonly minDelta?: number
  /** Epochs to wait after a reduction before watching again. Default 0. */
  readonly cooldown?: number
  /** The learning rate is never reduced below this. Default 0. */
  readonly minLr?: number
}

/**
 * The state of {@link reduceLROnPlateau}: the best value so far, the epochs since, the
 * cooldown left and the factor applied to the optimizer's learning rate.
 * @category Callbacks
 */
export interface ReduceLROnPlateauState {
  /** The best monitored value so far. */
  readonly best: number
  /** Epochs without improvement. */
  readonly wait: number
  /** Epochs of cooldown left. */
  readonly cooldown: number
  /** The product of the reductions so far (1 at the start). */
  readonly factor: number
}

/**
 * Performance scheduling (Keras' `ReduceLROnPlateau`): multiplies the learning rate by
 * `factor` when the monitored value has not improved for `patience` epochs.
 *
 * @remarks
 * Keras' algorithm, after each epoch: during a cooldown, count it down and reset the wait;
 * an improvement (`value < best − minDelta` in mode min, `value > best + minDelta` in mode
 * max) resets the wait; otherwise, outside a cooldown, the wait grows, and when it reaches
 * `patience` the learning rate becomes `max(lr·factor, minLr)` (if it is above `minLr`),
 * the wait resets and the cooldown starts. The chapter's
 * `ReduceLROnPlateau(factor=0.5, patience=5)` is `reduceLROnPlateau({ factor: 0.5, patience: 5 })`.
 *
 * The reduction is a factor on the optimizer's learning rate (or schedule) from the next
 * step on, applied through `learningRateFactorAt`; `history.learningRate` shows its effect.
 * `minLr > 0` needs an optimizer that says its learning rate (every built-in one does).
 *
 * @param opts - see {@link ReduceLROnPlateauOptions}
 * @returns the callback
 * @throws RangeError when `factor` is not in (0, 1) or a count is negative
 * @example
 * ```ts
 * import { reduceLROnPlateau } from '@purenn/train'
 * import type { Model } from '@purenn/layers'
 * const cb = reduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1 })
 * const model = {} as Model
 * let s = cb.init()
 * for (const loss of [1, 0.5, 0.6, 0.7]) s = (await cb.onEpochEnd!(s, { epoch: 0, logs: { loss }, model })).state
 * console.log(s.factor) // 0.25
 * ```
 * @category Callbacks
 */
export const reduceLROnPlateau = (opts: ReduceLROnPlateauOptions = {}): Callback<ReduceLROnPlateauState> => {
  const monitor = opts.monitor ?? 'val_loss'
  const factor = opts.factor ?? 0.1
  const patience = opts.patience ?? 10
  const minDelta = Math.abs(opts.minDelta ?? 1e-4)
  const cooldown = opts.cooldown ?? 0
  const minLr = opts.minLr ?? 0
  if (!(factor > 0 && factor < 1))
    throw new RangeError(`reduceLROnPlateau: factor must be in (0, 1), got ${factor}`)
  for (const [name, v] of [
    ['patience', patience],
    ['cooldown', cooldown],
    ['minLr', minLr],
  ] as const)
    if (!(v >= 0)) throw new RangeError(`reduceLROnPlateau: ${name} must be ≥ 0, got ${v}`)
  const mode =
    opts.mode === undefined || opts.mode === 'auto' ? (monitor.includes('acc') ? 'max' : 'min') : opts.mode
  const better = (v: number, best: number) => (mode === 'min' ? v < best - minDelta : v > best + minDelta)
  return {
    name: `reduceLROnPlateau(${monitor})`,
    init: () => ({ best: mode === 'min' ? Infinity : -Infinity, wait: 0, cooldown: 0, factor: 1 }),
    learningRateFactorAt: (s) => s.factor,
    onEpochEnd: (s, e) => {
      const v = e.logs[monitor]
      if (v === undefined)
        throw new Error(
          `reduceLROnPlateau: "${monitor}" is not among the epoch's values (${Object.keys(e.logs).join(', ')})`,
        )
      const inCooldown = s.cooldown > 0
      let next: ReduceLROnPlateauState = inCooldown ? { ...s, cooldown: s.cooldown - 1, wait: 0 } : s
      if (better(v, next.best)) return { state: { ...next, best: v, wait: 0 } }
      if (inCooldown) return { state: next }
      next = { ...next, wait: next.wait + 1 }
      if (next.wait < patience) return { state: next }
      if (minLr > 0 && e.learningRate === undefined)
        throw new Error(
          'reduceLROnPlateau: minLr needs the learning rate, but the optimizer does not say it (use a built-in optimizer)',
        )
      const lr = e.learningRate
      if (lr !== undefined && !(lr > minLr)) return { state: { ...next, wait: 0 } }
      const newFactor =
        lr === undefined ? next.factor * factor : (next.factor * Math.max(lr * factor, minLr)) / lr
      return { state: { ...next, wait: 0, cooldown, factor: newFactor } }
    },
  }
}

/**
 * Options of {@link findLearningRate}: those of `fit` (without `epochs`) plus the range.
 * @category Callbacks
 */
export interface FindLearningRateOptions
  extends Omit<FitOptions, 'epochs' | 'validationData' | 'validationSplit' | 'checkpoint' | 'resumeFrom'> {
  /** The factor on the optimizer's learning rate at the first step. Default 1e-3. */
  readonly minFactor?: number
  /** The factor on the optimizer's learning rate at the last step. Default 10. */
  readonly maxFactor?: number
}

/**
 * What {@link findLearningRate} measured: the learning rate and the loss of every step.
 * @category Callbacks
 */
export interface LearningRateSweep {
  /** The learning rate of each step. */
  readonly learningRates: readonly number[]
  /** The loss of each step. */
  readonly losses: readonly number[]
}

/**
 * The chapter's learning-rate finder: one epoch in which the learning rate grows
 * exponentially from `lr·minFactor` to `lr·maxFactor`, recording the loss of every step.
 *
 * @remarks
 * Smith (2015/2017), "Cyclical Learning Rates for Training Neural Networks"; the chapter's
 * `ExponentialLearningRate` callback. The factor of step `i` (of `n`) is
 * `minFactor·(maxFactor/minFactor)^(i/(n − 1))`, set through a callback's
 * `learningRateFactorAt`. Plot the losses against the learning rates (log scale): the loss
 * falls, flattens, then shoots up; a good learning rate is about ten times smaller than
 * where it shoots up. Training stops early once the loss is not finite or exceeds four times
 * its minimum. The model is not returned: start the real training from the original model.
 * The optimizer must say its learning rate (every built-in optimizer does). Defaults:
 * `minFactor` 1e-3, `maxFactor` 10, one epoch. Progress (with `verbose`) is written one line
 * per epoch, with no live bar, in Node as in a browser.
 *
 * @returns the learning rates and the losses, one per step run
 * @throws Error when the optimizer does not say its learning rate
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { sgd } from '@purenn/optim'
 * import { key, normal, tensor } from '@purenn/tensor'
 * import { findLearningRate } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 2, activation: 'softmax' })], { inputShape: [4] }), { key: key(0) })
 * const x = normal(key(1), [64, 4])
 * const y = tensor(Array.from(x.data.filter((_, i) => i % 4 === 0), (v) => (v > 0 ? 1 : 0)))
 * const sweep = await findLearningRate(model, x, y, {
 *   loss: 'sparseCategoricalCrossentropy', optimizer: sgd({ learningRate: 1 }), batchSize: 8, verbose: 0,
 * })
 * console.log(sweep.learningRates[0]!.toFixed(4), sweep.losses.length) // 0.0010 8
 * ```
 * @category Callbacks
 */
export const findLearningRate = async (
  model: Model,
  x: Tensor,
  y: Tensor,
  opts: FindLearningRateOptions,
): Promise<LearningRateSweep> => {
  const { minFactor = 1e-3, maxFactor = 10, ...fitOpts } = opts
  if (!(minFactor > 0 && maxFactor > minFactor))
    throw new RangeError(`findLearningRate: need 0 < minFactor < maxFactor, got ${minFactor}, ${maxFactor}`)
  const learningRates: number[] = []
  const losses: number[] = []
  const sweep: Callback<{ readonly best: number }> = {
    name: 'findLearningRate',
    init: () => ({ best: Infinity }),
    learningRateFactorAt: (_s, b) =>
      minFactor * (maxFactor / minFactor) ** (b.steps === 1 ? 0 : (b.step - 1) / (b.steps - 1)),
    onBatchEnd: (s, b) => {
      if (b.learningRate === undefined)
        throw new Error(
          'findLearningRate: the optimizer does not say its learning rate (use a built-in optimizer)',
        )
      learningRates.push(b.learningRate)
      losses.push(b.loss)
      const best = Math.min(s.best, b.loss)
      const stop = !Number.isFinite(b.loss) || b.loss > 4 * best
      return stop
        ? { state: { best }, stop: true, message: 'findLearningRate: the loss exploded' }
        : { state: { best } }
    },
  }
  await fitLoop(
    model,
    x,
    y,
    { ...fitOpts, epochs: 1, terminateOnNaN: false, callbacks: [...(fitOpts.callbacks ?? []), sweep] },
    undefined,
    undefined,
  )
  return { learningRates, losses }
}
