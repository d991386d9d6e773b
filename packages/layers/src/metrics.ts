import { ShapeError, scalar, type Tensor } from '@purenn/tensor'

/**
 * A metric as a value: a name and a function of the targets and the predictions returning
 * its mean over the batch (a scalar tensor). Metrics are reported, not differentiated.
 *
 * @example
 * ```ts
 * import { accuracy, type Metric } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const m: Metric = accuracy
 * console.log(m.name, m.fn(tensor([1, 0]), tensor([[0.2, 0.8], [0.3, 0.7]])).item()) // accuracy 0.5
 * ```
 * @category Metrics
 */
export interface Metric {
  /** The metric's name, as shown in training logs and History. */
  readonly name: string
  /** `(yTrue, yPred) => mean over the batch` (a scalar). */
  readonly fn: (yTrue: Tensor, yPred: Tensor) => Tensor
}

/**
 * The names {@link getMetric} accepts.
 *
 * @example
 * ```ts
 * import { getMetric, type MetricName } from '@purenn/layers'
 * const name: MetricName = 'accuracy'
 * console.log(getMetric(name).name) // accuracy
 * ```
 * @category Metrics
 */
export type MetricName = 'accuracy' | 'sparseCategoricalAccuracy' | 'categoricalAccuracy' | 'binaryAccuracy'

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`

/** Index of the largest of `n` values from `start` (the first one on ties, as `tf.argmax`). */
const argmaxAt = (data: ArrayLike<number>, start: number, n: number): number => {
  let best = 0
  for (let j = 1; j < n; j++) if (data[start + j]! > data[start + best]!) best = j
  return best
}

const sparseCategorical = (fn: string, yTrue: Tensor, yPred: Tensor): Tensor => {
  const classes = yPred.shape.at(-1) ?? 0
  const rows = classes === 0 ? 0 : yPred.size / classes
  if (yPred.shape.length < 1 || classes === 0 || yTrue.size !== rows)
    throw new ShapeError(
      `${fn}: labels of shape ${fmt(yTrue.shape)} do not fit predictions of shape ${fmt(yPred.shape)}`,
    )
  let hits = 0
  for (let r = 0; r < rows; r++) if (argmaxAt(yPred.data, r * classes, classes) === yTrue.data[r]) hits++
  return scalar(hits / rows)
}

const categorical = (fn: string, yTrue: Tensor, yPred: Tensor): Tensor => {
  const classes = yPred.shape.at(-1) ?? 0
  if (
    yTrue.shape.length !== yPred.shape.length ||
    yTrue.shape.some((d, i) => d !== yPred.shape[i]) ||
    classes === 0
  )
    throw new ShapeError(
      `${fn}: targets of shape ${fmt(yTrue.shape)} do not fit predictions of shape ${fmt(yPred.shape)}`,
    )
  const rows = yPred.size / classes
  let hits = 0
  for (let r = 0; r < rows; r++)
    if (argmaxAt(yPred.data, r * classes, classes) === argmaxAt(yTrue.data, r * classes, classes)) hits++
  return scalar(hits / rows)
}

const binary = (fn: string, yTrue: Tensor, yPred: Tensor): Tensor => {
  if (yTrue.size !== yPred.size)
    throw new ShapeError(
      `${fn}: targets of shape ${fmt(yTrue.shape)} do not fit predictions of shape ${fmt(yPred.shape)}`,
    )
  let hits = 0
  for (let i = 0; i < yPred.size; i++) if ((yPred.data[i]! > 0.5 ? 1 : 0) === yTrue.data[i]) hits++
  return scalar(hits / yPred.size)
}

/**
 * Sparse categorical accuracy: the fraction of rows whose largest prediction is at the
 * label (Keras' `sparse_categorical_accuracy`).
 *
 * @remarks `mean(argmax(ŷ, −1) == y)`; the first maximum wins on ties, as `tf.argmax`.
 * Labels `[batch]` or `[batch, 1]`.
 * @example
 * ```ts
 * import { sparseCategoricalAccuracy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(sparseCategoricalAccuracy.fn(tensor([2, 1]), tensor([[0.1, 0.6, 0.3], [0.05, 0.95, 0]])).item()) // 0.5
 * ```
 * @category Metrics
 */
export const sparseCategoricalAccuracy: Metric = Object.freeze({
  name: 'sparseCategoricalAccuracy',
  fn: (yTrue: Tensor, yPred: Tensor) => sparseCategorical('sparseCategoricalAccuracy', yTrue, yPred),
})

/**
 * Categorical accuracy with one-hot targets (Keras' `categorical_accuracy`):
 * `mean(argmax(ŷ, −1) == argmax(y, −1))`.
 *
 * @example
 * ```ts
 * import { categoricalAccuracy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(categoricalAccuracy.fn(tensor([[0, 0, 1], [0, 1, 0]]), tensor([[0.1, 0.9, 0.8], [0.05, 0.95, 0]])).item()) // 0.5
 * ```
 * @category Metrics
 */
export const categoricalAccuracy: Metric = Object.freeze({
  name: 'categoricalAccuracy',
  fn: (yTrue: Tensor, yPred: Tensor) => categorical('categoricalAccuracy', yTrue, yPred),
})

/**
 * Binary accuracy at threshold 0.5 (Keras' `binary_accuracy`): `mean((ŷ > 0.5) == y)`.
 *
 * @remarks Strictly greater, as Keras: a prediction of exactly 0.5 counts as class 0.
 * @example
 * ```ts
 * import { binaryAccuracy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(binaryAccuracy.fn(tensor([[1], [1], [0], [0]]), tensor([[0.98], [1], [0], [0.6]])).item()) // 0.75
 * ```
 * @category Metrics
 */
export const binaryAccuracy: Metric = Object.freeze({
  name: 'binaryAccuracy',
  fn: (yTrue: Tensor, yPred: Tensor) => binary('binaryAccuracy', yTrue, yPred),
})

/**
 * Accuracy, choosing its kind from the shapes as Keras' `metrics=['accuracy']` does.
 *
 * @remarks
 * - predictions with last dimension 1: {@link binaryAccuracy} (`ŷ > 0.5`);
 * - else labels of lower rank than the predictions, or with last dimension 1:
 *   {@link sparseCategoricalAccuracy} (`argmax(ŷ) == y`), the chapter's case;
 * - else {@link categoricalAccuracy} (one-hot targets).
 * The value is the fraction of correct predictions in the batch.
 *
 * @example
 * ```ts
 * import { accuracy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(accuracy.fn(tensor([0, 2]), tensor([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4]])).item()) // 0.5
 * console.log(accuracy.fn(tensor([1, 0]), tensor([[0.9], [0.2]])).item()) // 1
 * ```
 * @category Metrics
 */
export const accuracy: Metric = Object.freeze({
  name: 'accuracy',
  fn: (yTrue: Tensor, yPred: Tensor): Tensor => {
    const pLast = yPred.shape.at(-1)
    if (pLast === 1) return binary('accuracy', yTrue, yPred)
    const sparse = yTrue.shape.length < yPred.shape.length || (yTrue.shape.at(-1) === 1 && (pLast ?? 0) > 1)
    return sparse ? sparseCategorical('accuracy', yTrue, yPred) : categorical('accuracy', yTrue, yPred)
  },
})

const byName: { readonly [N in MetricName]: Metric } = {
  accuracy,
  sparseCategoricalAccuracy,
  categoricalAccuracy,
  binaryAccuracy,
}

/**
 * The metric a name stands for; a metric value is returned as is.
 *
 * @param nameOrMetric - a {@link MetricName} or a {@link Metric}
 * @returns the metric
 * @throws Error for a string that names no metric (possible only from untyped code)
 * @example
 * ```ts
 * import { accuracy, getMetric } from '@purenn/layers'
 * console.log(getMetric('accuracy') === accuracy) // true
 * ```
 * @category Metrics
 */
export const getMetric = (nameOrMetric: MetricName | Metric): Metric => {
  if (typeof nameOrMetric !== 'string') return nameOrMetric
  const m = Object.hasOwn(byName, nameOrMetric) ? byName[nameOrMetric] : undefined
  if (m === undefined)
    throw new Error(
      `getMetric: unknown metric '${String(nameOrMetric)}', expected one of ${Object.keys(byName).join(', ')}`,
    )
  return m
}
