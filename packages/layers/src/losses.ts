import {
  add,
  clip,
  div,
  gather,
  log,
  logSoftmax,
  mean,
  mul,
  neg,
  reshape,
  ShapeError,
  softplus,
  sparseSoftmaxCrossentropy,
  square,
  sub,
  sum,
  type Tensor,
} from '@purenn/tensor'
import { LabelError } from './labelError.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * A loss as a value: a name and a function of the targets and the predictions returning
 * the mean loss over the batch, a scalar tensor, differentiable with respect to `yPred`.
 *
 * @example
 * ```ts
 * import { type Loss, meanSquaredError } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const loss: Loss = meanSquaredError()
 * console.log(loss.name, loss.fn(tensor([[0, 1]]), tensor([[1, 1]])).item()) // meanSquaredError 0.5
 * ```
 * @category Losses
 */
export interface Loss {
  /** The loss's name, as shown by training logs. */
  readonly name: string
  /** `(yTrue, yPred) => mean loss over the batch` (a scalar). */
  readonly fn: (yTrue: Tensor, yPred: Tensor) => Tensor
}

/**
 * The names {@link getLoss} accepts (Keras' loss strings in camelCase).
 *
 * @example
 * ```ts
 * import { getLoss, type LossName } from '@purenn/layers'
 * const name: LossName = 'sparseCategoricalCrossentropy'
 * console.log(getLoss(name).name) // sparseCategoricalCrossentropy
 * ```
 * @category Losses
 */
export type LossName =
  | 'sparseCategoricalCrossentropy'
  | 'categoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'meanSquaredError'

/**
 * Options of the crossentropy losses.
 *
 * @example
 * ```ts
 * import { type CrossentropyOptions, sparseCategoricalCrossentropy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const opts: CrossentropyOptions = { fromLogits: true }
 * console.log(sparseCategoricalCrossentropy(opts).fn(tensor([0]), tensor([[0, 0]])).item()) // 0.6931471824645996
 * ```
 * @category Losses
 */
export interface CrossentropyOptions {
  /**
   * Whether `yPred` holds logits (the output of a linear layer) rather than probabilities
   * (the output of softmax or sigmoid). Default false, as Keras. Logits give the exact,
   * stable loss and its gradient; probabilities are clipped.
   */
  readonly fromLogits?: boolean
}

// ---------------------------------------------------------------------------------------
// Helpers

/** Keras' `backend.epsilon()`: probabilities are clipped to [ε, 1 − ε]. */
const EPSILON = 1e-7

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`

/** Same shapes, or labels `[batch]` for predictions `[batch, 1]` (Keras squeezes/expands them). */
const aligned = (fn: string, yTrue: Tensor, yPred: Tensor): Tensor => {
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((d, i) => d === b[i])
  if (same(yTrue.shape, yPred.shape)) return yTrue
  if (yPred.shape.at(-1) === 1 && same(yTrue.shape, yPred.shape.slice(0, -1)))
    return reshape(yTrue, yPred.shape)
  throw new ShapeError(
    `${fn}: targets of shape ${fmt(yTrue.shape)} do not fit predictions of shape ${fmt(yPred.shape)}`,
  )
}

/**
 * For predictions `[..., classes]` and labels of shape `[...]` or `[..., 1]`: the flat index
 * `row·classes + label` of each row's label.
 */
const labelIndices = (fn: string, yTrue: Tensor, yPred: Tensor): Int32Array => {
  const classes = yPred.shape.at(-1)
  if (yPred.shape.length < 2 || classes === undefined || classes === 0)
    throw new ShapeError(`${fn}: predictions must have shape [batch, classes], got ${fmt(yPred.shape)}`)
  const rows = yPred.size / classes
  const lead = yPred.shape.slice(0, -1)
  const fits =
    (yTrue.shape.length === lead.length && lead.every((d, i) => d === yTrue.shape[i])) ||
    (yTrue.shape.length === lead.length + 1 &&
      yTrue.shape.at(-1) === 1 &&
      lead.every((d, i) => d === yTrue.shape[i]))
  if (!fits)
    throw new ShapeError(
      `${fn}: labels of shape ${fmt(yTrue.shape)} do not fit predictions of shape ${fmt(yPred.shape)}; expected ${fmt(lead)} or ${fmt([...lead, 1])}`,
    )
  const idx = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    const label = yTrue.data[r]!
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new LabelError(fn, label, r, classes)
    idx[r] = r * classes + label
  }
  return idx
}

// ---------------------------------------------------------------------------------------
// Losses

/**
 * Crossentropy with integer class labels (Keras' `sparse_categorical_crossentropy`): the
 * loss of a multiclass classifier such as the chapter's Fashion-MNIST models.
 *
 * @remarks
 * For a row with label `k`: `−ln p_k`, averaged over the batch, where `p` are the predicted
 * class probabilities, clipped to [1e-7, 1 − 1e-7]; with `fromLogits`, `−log_softmax(z)_k`
 * (computed after subtracting the row max, stable for any logits), as one fused op with the
 * gradient computed in the same pass (`sparseSoftmaxCrossentropy` of `@purenn/tensor`). Labels are a float
 * tensor of class indices, shape `[batch]` or `[batch, 1]`.
 *
 * Cheap: it gathers each row's own probability (or log-probability) instead of multiplying
 * by a one-hot matrix; the gradient is `−1/p_k` at the label only (`softmax(z) − onehot(k)`
 * with logits).
 *
 * Keras differences: tf.keras 2.x also divides the clipped probabilities by their row sum,
 * which changes nothing for softmax outputs (their rows sum to 1), and when the
 * predictions come straight out of a softmax layer it silently uses the layer's logits
 * instead (no clipping: a confident wrong prediction costs more than −ln 1e-7 ≈ 16.12).
 * Use `fromLogits: true` with a linear output layer for the exact loss.
 *
 * @param opts - `{ fromLogits? }`
 * @returns the loss
 * @throws ShapeError or RangeError at call time for mis-shaped inputs or labels that are not class indices
 * @example
 * ```ts
 * import { sparseCategoricalCrossentropy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const loss = sparseCategoricalCrossentropy()
 * console.log(loss.fn(tensor([1, 2]), tensor([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])).item()) // 1.1769392490386963
 * ```
 * @category Losses
 */
export const sparseCategoricalCrossentropy = (opts: CrossentropyOptions = {}): Loss => {
  const fn = 'sparseCategoricalCrossentropy'
  return {
    name: fn,
    fn: (yTrue, yPred) => {
      const idx = labelIndices(fn, yTrue, yPred)
      if (opts.fromLogits === true) return mean(sparseSoftmaxCrossentropy(yPred, yTrue))
      return neg(mean(log(clip(gather(reshape(yPred, [-1]), idx), EPSILON, 1 - EPSILON))))
    },
  }
}

/**
 * Crossentropy with one-hot (or soft) targets (Keras' `categorical_crossentropy`).
 *
 * @remarks
 * Per row: $-\sum_k y_k \ln p_k$, averaged over the batch, where `p` is `yPred` divided by its
 * row sum and clipped to [1e-7, 1 − 1e-7] (as tf.keras 2.x); with `fromLogits`,
 * $-\sum_k y_k \operatorname{logSoftmax}(z)_k$. `yTrue` and `yPred` have the same shape `[batch, classes]`.
 *
 * @param opts - `{ fromLogits? }`
 * @returns the loss
 * @throws ShapeError at call time when the shapes differ
 * @example
 * ```ts
 * import { categoricalCrossentropy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const loss = categoricalCrossentropy()
 * console.log(loss.fn(tensor([[0, 1, 0], [0, 0, 1]]), tensor([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])).item()) // 1.1769392490386963
 * ```
 * @category Losses
 */
export const categoricalCrossentropy = (opts: CrossentropyOptions = {}): Loss => {
  const fn = 'categoricalCrossentropy'
  return {
    name: fn,
    fn: (yTrue, yPred) => {
      if (yTrue.shape.length !== yPred.shape.length || yTrue.shape.some((d, i) => d !== yPred.shape[i]))
        throw new ShapeError(
          `${fn}: targets of shape ${fmt(yTrue.shape)} do not fit predictions of shape ${fmt(yPred.shape)}`,
        )
      const logP =
        opts.fromLogits === true
          ? logSoftmax(yPred, -1)
          : log(clip(div(yPred, sum(yPred, -1, true)), EPSILON, 1 - EPSILON))
      return neg(mean(sum(mul(yTrue, logP), -1)))
    },
  }
}

/**
 * Binary crossentropy (Keras' `binary_crossentropy`), for 0/1 targets and one probability
 * (or logit) per output.
 *
 * @remarks
 * On probabilities, exactly as tf.keras 2.x: $p' = \operatorname{clip}(p, \varepsilon, 1 - \varepsilon)$ and
 * $-\left[y \ln(p' + \varepsilon) + (1 - y) \ln(1 - p' + \varepsilon)\right]$ with $\varepsilon = 10^{-7}$, averaged over every element
 * (so a prediction of exactly 0 or 1 costs at most $-\ln(2 \cdot 10^{-7}) \approx 15.42$, or 15.33 at 1
 * because $1 - \varepsilon$ rounds to $1 - 1.19 \cdot 10^{-7}$ in float32). Keras 3 drops the inner $+\varepsilon$.
 * With `fromLogits`: `softplus(z) − y·z = max(z, 0) − y·z + ln(1 + e^−|z|)`, stable for any
 * `z` and with the exact gradient $\sigma(z) - y$. Targets `[batch]` fit predictions
 * `[batch, 1]`.
 *
 * @param opts - `{ fromLogits? }`
 * @returns the loss
 * @throws ShapeError at call time when the shapes do not fit
 * @example
 * ```ts
 * import { binaryCrossentropy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(binaryCrossentropy().fn(tensor([0, 0, 1, 1]), tensor([1, 1, 1, 0])).item()) // 11.522856712341309
 * console.log(binaryCrossentropy({ fromLogits: true }).fn(tensor([1, 0]), tensor([1e4, -1e4])).item()) // 0
 * ```
 * @category Losses
 */
export const binaryCrossentropy = (opts: CrossentropyOptions = {}): Loss => {
  const fn = 'binaryCrossentropy'
  return {
    name: fn,
    fn: (yTrue, yPred) => {
      const y = aligned(fn, yTrue, yPred)
      if (opts.fromLogits === true) return mean(sub(softplus(yPred), mul(y, yPred)))
      const p = clip(yPred, EPSILON, 1 - EPSILON)
      const pos = mul(y, log(add(p, EPSILON)))
      const negative = mul(sub(1, y), log(add(sub(1, p), EPSILON)))
      return neg(mean(add(pos, negative)))
    },
  }
}

/**
 * Mean squared error (Keras' `mean_squared_error`, `'mse'`): the mean of $(y - \hat{y})^2$ over every
 * element, i.e. per sample over the last axis, then over the batch.
 *
 * @remarks Gradient $2(\hat{y} - y)/n$. Targets `[batch]` fit predictions `[batch, 1]`.
 * @returns the loss
 * @throws ShapeError at call time when the shapes do not fit
 * @example
 * ```ts
 * import { meanSquaredError } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(meanSquaredError().fn(tensor([[0, 1], [0, 0]]), tensor([[1, 1], [1, 0]])).item()) // 0.5
 * ```
 * @category Losses
 */
export const meanSquaredError = (): Loss => {
  const fn = 'meanSquaredError'
  return { name: fn, fn: (yTrue, yPred) => mean(square(sub(yPred, aligned(fn, yTrue, yPred)))) }
}

const byName: { readonly [N in LossName]: () => Loss } = {
  sparseCategoricalCrossentropy: () => sparseCategoricalCrossentropy(),
  categoricalCrossentropy: () => categoricalCrossentropy(),
  binaryCrossentropy: () => binaryCrossentropy(),
  meanSquaredError: () => meanSquaredError(),
}

/**
 * The loss a name stands for (with default options, as Keras' loss strings); a loss value
 * is returned as is.
 *
 * @param nameOrLoss - a {@link LossName} or a {@link Loss}
 * @returns the loss
 * @throws Error for a string that names no loss (possible only from untyped code)
 * @example
 * ```ts
 * import { getLoss, sparseCategoricalCrossentropy } from '@purenn/layers'
 * const custom = sparseCategoricalCrossentropy({ fromLogits: true })
 * console.log(getLoss('meanSquaredError').name, getLoss(custom) === custom) // meanSquaredError true
 * ```
 * @category Losses
 */
export const getLoss = (nameOrLoss: LossName | Loss): Loss => {
  if (typeof nameOrLoss !== 'string') return nameOrLoss
  const make = Object.hasOwn(byName, nameOrLoss) ? byName[nameOrLoss] : undefined
  if (make === undefined)
    throw new Error(
      `getLoss: unknown loss '${String(nameOrLoss)}', expected one of ${Object.keys(byName).join(', ')}`,
    )
  return make()
}
