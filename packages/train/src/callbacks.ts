import type { Model } from '@purenn/layers'
import type { Logs } from './progress.js'

/**
 * What a callback sees at the end of an epoch.
 * @category Callbacks
 */
export interface EpochEnd {
  /** The epoch that just ended, counting from 0. */
  readonly epoch: number
  /** The epoch's values: `loss`, metrics, `val_loss`, `val_*`. */
  readonly logs: Logs
  /** The model after this epoch. */
  readonly model: Model
  /**
   * The learning rate of the epoch's last step (the optimizer's rate times the callbacks'
   * factors), when the optimizer says its rate (every built-in optimizer does).
   */
  readonly learningRate?: number
}

/**
 * What a callback sees after each training step.
 * @category Callbacks
 */
export interface BatchEnd {
  /** The epoch, counting from 0. */
  readonly epoch: number
  /** The step within the epoch, counting from 1. */
  readonly step: number
  /** Steps per epoch. */
  readonly steps: number
  /** The step's loss (penalties included). */
  readonly loss: number
  /** The learning rate of this step, when the optimizer says its rate. */
  readonly learningRate?: number
}

/**
 * Where training is when a callback is asked for the learning-rate factor of the next step.
 * @category Callbacks
 */
export interface BatchBegin {
  /** The epoch, counting from 0. */
  readonly epoch: number
  /** The step within the epoch about to run, counting from 1. */
  readonly step: number
  /** Steps per epoch. */
  readonly steps: number
  /** Steps taken since training started (0 before the first). */
  readonly iteration: number
}

/**
 * What a callback may ask for: stop training, or (at the end) replace the returned model.
 * @category Callbacks
 */
export interface Verdict<S> {
  /** The callback's new state. */
  readonly state: S
  /** Stop after this epoch. */
  readonly stop?: boolean
  /** A message `fit` prints (when verbose) and records in `history.stopReason` on stop. */
  readonly message?: string
  /**
   * The stop is a fault (non-finite loss, divergence): `fit` returns the last model whose loss
   * was finite and sets `history.fault`.
   */
  readonly fault?: boolean
}

/**
 * A callback is a value: an initial state and pure reactions to the end of an epoch and the
 * end of training. No callback mutates the model; one that wants a different final model
 * (`restoreBestWeights`) returns it from `onTrainEnd`.
 * @category Callbacks
 */
export interface Callback<S = unknown> {
  /** Shown in error messages. */
  readonly name: string
  /** The state before the first epoch. */
  readonly init: () => S
  /** Called after each epoch (after validation). May write files, hence the promise. */
  readonly onEpochEnd?: (state: S, e: EpochEnd) => Verdict<S> | Promise<Verdict<S>>
  /**
   * Called after each training step with that step's loss, before its update is kept; a
   * verdict with `stop` ends training and discards that step's update.
   */
  readonly onBatchEnd?: (state: S, b: BatchEnd) => Verdict<S>
  /** Called once when training ends; may return the model `fit` should return instead. */
  readonly onTrainEnd?: (state: S, model: Model) => Model
  /** A factor on the optimizer's learning rate for an epoch (learning-rate schedulers). */
  readonly learningRateFactor?: (epoch: number) => number
  /**
   * A factor on the optimizer's learning rate for the next step, from the callback's state:
   * called before every step, so a callback can set the learning rate per batch (a
   * learning-rate finder) or from what it saw at the end of earlier epochs
   * (`reduceLROnPlateau`). Factors of all callbacks multiply.
   */
  readonly learningRateFactorAt?: (state: S, b: BatchBegin) => number
  /**
   * Return the callback's final state in `history.callbackStates[name]` (a recording callback
   * such as `recordDiagnostics`). Default false.
   */
  readonly reportState?: boolean
}

/**
 * A callback of any state type: what lists of callbacks hold.
 * @category Callbacks
 */
// biome-ignore lint/suspicious/noExplicitAny: each callback has its own state type
export type AnyCallback = Callback<any>

/**
 * Options of {@link earlyStopping}, as Keras' `EarlyStopping`.
 * @category Callbacks
 */
export interface EarlyStoppingOptions {
  /** The value watched. Default `'val_loss'`. */
  readonly monitor?: string
  /** Epochs without improvement before stopping. Default 0, as Keras. */
  readonly patience?: number
  /** Smallest change that counts as an improvement. Default 0. */
  readonly minDelta?: number
  /** `'min'` or `'max'`; `'auto'` (default) is max for names containing `acc`, else min. */
  readonly mode?: 'min' | 'max' | 'auto'
  /** Return the model of the best epoch rather than the last. Default false, as Keras. */
  readonly restoreBestWeights?: boolean
}

/**
 * The state of {@link earlyStopping}: the best value so far, the epochs since, and (with
 * `restoreBestWeights`) the model of the best epoch.
 * @category Callbacks
 */
export type EarlyStoppingState = { readonly best: number; readonly wait: number; readonly bestModel?: Model }

/**
 * Stops training when the monitored value stops improving (Keras' `EarlyStopping`).
 *
 * @remarks After each epoch, an improvement is `value < best − minDelta` (mode min) or
 * `value > best + minDelta` (mode max); after `patience` epochs with none, training stops.
 * With `restoreBestWeights`, `fit` returns the model of the best epoch.
 * @example
 * ```ts
 * import { earlyStopping } from '@purenn/train'
 * const cb = earlyStopping({ patience: 10, restoreBestWeights: true })
 * console.log(cb.name) // earlyStopping(val_loss)
 * ```
 * @category Callbacks
 */
export const earlyStopping = (opts: EarlyStoppingOptions = {}): Callback<EarlyStoppingState> => {
  const monitor = opts.monitor ?? 'val_loss'
  const patience = opts.patience ?? 0
  const minDelta = Math.abs(opts.minDelta ?? 0)
  const mode =
    opts.mode === undefined || opts.mode === 'auto' ? (monitor.includes('acc') ? 'max' : 'min') : opts.mode
  const better = (v: number, best: number) => (mode === 'min' ? v < best - minDelta : v > best + minDelta)
  return {
    name: `earlyStopping(${monitor})`,
    init: () => ({ best: mode === 'min' ? Infinity : -Infinity, wait: 0 }),
    onEpochEnd: (s, e) => {
      const v = e.logs[monitor]
      if (v === undefined)
        throw new Error(
          `earlyStopping: "${monitor}" is not among the epoch's values (${Object.keys(e.logs).join(', ')})`,
        )
      if (better(v, s.best))
        return { state: { best: v, wait: 0, ...(opts.restoreBestWeights ? { bestModel: e.model } : {}) } }
      const wait = s.wait + 1
      return wait >= patience
        ? { state: { ...s, wait }, stop: true, message: `Epoch ${e.epoch + 1}: early stopping` }
        : { state: { ...s, wait } }
    },
    onTrainEnd: (s, model) => (opts.restoreBestWeights && s.bestModel !== undefined ? s.bestModel : model),
  }
}

/**
 * A learning-rate schedule per epoch (Keras' `LearningRateScheduler`), given as a factor on
 * the optimizer's own learning rate: the updates of epoch `e` are scaled by `factor(e)`.
 *
 * @remarks The chapter's `exponential_decay_fn(epoch) = 0.01·0.1^(epoch/20)` becomes
 * `sgd({ learningRate: 0.01 })` with `learningRateScheduler((epoch) => 0.1 ** (epoch / 20))`.
 * Scaling the updates equals changing the learning rate for every optimizer whose last
 * transformation is the learning-rate scaling (all of `@purenn/optim`'s aliases except
 * momentum SGD, where Keras puts the learning rate inside the velocity; there the factor also
 * scales the velocity carried over from earlier steps). For schedules per step, give the
 * optimizer a schedule instead (`exponentialDecay`, `piecewiseConstant`, ...).
 * @example
 * ```ts
 * import { learningRateScheduler } from '@purenn/train'
 * const cb = learningRateScheduler((epoch) => 0.1 ** (epoch / 20))
 * console.log(cb.learningRateFactor?.(20)) // 0.1
 * ```
 * @category Callbacks
 */
export const learningRateScheduler = (factor: (epoch: number) => number): Callback<null> => ({
  name: 'learningRateScheduler',
  init: () => null,
  learningRateFactor: factor,
})

/**
 * Stops training when the loss becomes NaN or infinite (Keras' `TerminateOnNaN`). `fit`
 * adds it by default (`terminateOnNaN: false` turns it off).
 *
 * @remarks The message names the epoch and the step, e.g.
 * `Epoch 3, step 117/1719: invalid loss (NaN), terminating training`. It is a fault: `fit`
 * returns the last model whose loss was finite (the weights that produced the NaN are
 * discarded, with the update of that step) and sets `history.fault`.
 * @example
 * ```ts
 * import { terminateOnNaN } from '@purenn/train'
 * const cb = terminateOnNaN()
 * const v = cb.onBatchEnd?.(null, { epoch: 2, step: 117, steps: 1719, loss: Number.NaN })
 * console.log(v?.stop, v?.message) // true Epoch 3, step 117/1719: invalid loss (NaN), terminating training
 * ```
 * @category Callbacks
 */
export const terminateOnNaN = (): Callback<null> => ({
  name: 'terminateOnNaN',
  init: () => null,
  onBatchEnd: (state, b) =>
    Number.isFinite(b.loss)
      ? { state }
      : {
          state,
          stop: true,
          fault: true,
          message: `Epoch ${b.epoch + 1}, step ${b.step}/${b.steps}: invalid loss (${b.loss}), terminating training`,
        },
})
