import { argmax, type Tensor, tensor } from '@purenn/tensor'

/**
 * Options of {@link confusionMatrix}.
 * @category Metrics
 */
export interface ConfusionMatrixOptions {
  /** The number of classes `k`. Default: one more than the largest label seen. */
  readonly numClasses?: number
}

/**
 * The confusion matrix of a classifier (`tf.math.confusion_matrix`, scikit-learn's
 * `confusion_matrix`): entry `[i, j]` counts the rows of true class `i` predicted as class `j`.
 *
 * @remarks
 * `yTrue` holds class indices `[n]`; `yPred` holds either class indices `[n]` or scores
 * `[n, k]` (probabilities or logits), whose argmax over the last axis is the prediction. The
 * diagonal counts the correct predictions, so `trace/n` is the accuracy; row `i` divided by
 * its sum gives the recall of class `i`, column `j` divided by its sum the precision of class
 * `j`. A label that is not an integer in `[0, k)` is an error naming its row.
 *
 * @param yTrue - true class indices `[n]`
 * @param yPred - predicted class indices `[n]` or scores `[n, k]`
 * @param opts - `numClasses`
 * @returns a `[k, k]` tensor of counts
 * @throws Error when the row counts differ or a label is not a class index, naming the row
 * @example
 * ```ts
 * import { confusionMatrix } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const m = confusionMatrix(tensor([0, 1, 1, 2]), tensor([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0, 0, 1]]))
 * console.log(m.toString()) // tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1]])
 * ```
 * @category Metrics
 */
export const confusionMatrix = (yTrue: Tensor, yPred: Tensor, opts: ConfusionMatrixOptions = {}): Tensor => {
  if (yTrue.shape.length !== 1)
    throw new Error(
      `confusionMatrix: yTrue must hold class indices [n], got shape [${yTrue.shape.join(', ')}]`,
    )
  if (yPred.shape.length !== 1 && yPred.shape.length !== 2)
    throw new Error(
      `confusionMatrix: yPred must be class indices [n] or scores [n, k], got shape [${yPred.shape.join(', ')}]`,
    )
  const n = yTrue.shape[0]!
  if (yPred.shape[0] !== n)
    throw new Error(`confusionMatrix: yTrue has ${n} rows but yPred has ${yPred.shape[0]}`)
  const predicted = yPred.shape.length === 2 ? argmax(yPred, -1) : yPred
  const scoreClasses = yPred.shape.length === 2 ? yPred.shape[1]! : 0
  let largest = -1
  const check = (what: string, v: number, i: number) => {
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`confusionMatrix: ${what}[${i}] = ${v} is not a class index (an integer ≥ 0)`)
    largest = Math.max(largest, v)
  }
  for (let i = 0; i < n; i++) {
    check('yTrue', yTrue.data[i]!, i)
    check('yPred', predicted.data[i]!, i)
  }
  const k = opts.numClasses ?? Math.max(largest + 1, scoreClasses)
  if (!Number.isInteger(k) || k <= 0)
    throw new Error(`confusionMatrix: numClasses must be a positive integer, got ${opts.numClasses}`)
  if (largest >= k) {
    const i = Array.from(yTrue.data).findIndex((v) => v >= k)
    const where = i >= 0 ? `yTrue[${i}] = ${yTrue.data[i]}` : `a prediction of class ${largest}`
    throw new Error(`confusionMatrix: ${where} is not below numClasses = ${k}`)
  }
  const counts = new Float32Array(k * k)
  for (let i = 0; i < n; i++) counts[yTrue.data[i]! * k + predicted.data[i]!]! += 1
  return tensor(counts, [k, k])
}
