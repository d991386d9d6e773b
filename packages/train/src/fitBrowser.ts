import type { Model } from '@purenn/layers'
import type { Tensor } from '@purenn/tensor'
import { type FitOptions, fitLoop, type History } from './fit.js'
import type { Rows } from './rowSource.js'

/**
 * Trains a model on `(x, y)` and returns the trained model and the history; nothing is
 * mutated, so the model passed in is unchanged.
 *
 * @remarks
 * Each epoch shuffles the rows with a key derived from `key` and the epoch, then loops the
 * pure training step (see `makeTrainer`) over batches of `batchSize` rows (the last one may
 * be smaller, as Keras). After the epoch, validation data (if any) is evaluated in inference
 * mode. The progress output follows tf.keras 2.x. Frozen params (the model's `trainable`
 * mask) get no update, no weight decay, and no backward pass. The loss includes the layers'
 * regularization penalties. A NaN or infinite loss stops training at once with a message
 * naming the epoch and step, and so does a non-finite value in the model's state (batch-norm
 * moving statistics, checked after every step) or weights (checked at the end of each epoch,
 * before any callback sees them): these are faults, `history.fault` is set, and the model
 * returned is the last one whose loss was finite, never one holding NaN or Inf.
 *
 * @returns the trained model and a {@link History}
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { sgd } from '@purenn/optim'
 * import { key, tensor } from '@purenn/tensor'
 * import { fit } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 2, activation: 'softmax' })], { inputShape: [2] }), { key: key(0) })
 * const x = tensor([[1, 0], [0, 1], [1, 0.1], [0.1, 1]])
 * const y = tensor([0, 1, 0, 1])
 * const { history } = await fit(model, x, y, {
 *   loss: 'sparseCategoricalCrossentropy', optimizer: sgd({ learningRate: 0.5 }), metrics: ['accuracy'],
 *   epochs: 5, batchSize: 2, verbose: 0,
 * })
 * console.log(Object.keys(history.history), history.epoch) // [ 'loss', 'accuracy' ] [ 0, 1, 2, 3, 4 ]
 * ```
 * @category Training
 */
export const fit = (
  model: Model,
  x: Rows,
  y: Tensor,
  opts: FitOptions,
): Promise<{ model: Model; history: History }> => fitLoop(model, x, y, opts, undefined, undefined)
