/**
 * The error of a class label that is not a class index, with the row it was found in, so
 * that `fit` and `evaluate` can name the row of the dataset rather than of the batch.
 */

/**
 * A label that is not a class index `0, 1, …, classes − 1` (a non-integer, a negative number,
 * a class the model does not have). Thrown by {@link sparseCategoricalCrossentropy}, which
 * knows the row of its batch; `fit` and `evaluate` throw it again with the row of the dataset.
 *
 * @remarks `row` counts from 0 in the tensor the message names (the batch, or the dataset's
 * `y`); `label` is the value found there and `classes` the number of classes of the predictions.
 * `fit` says `fit: sparseCategoricalCrossentropy: label 12 at row 40123 of y (epoch 1, step 3,
 * row 7 of its batch) is not a class index in [0, 10)`.
 * @example
 * ```ts
 * import { LabelError, sparseCategoricalCrossentropy } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * try {
 *   sparseCategoricalCrossentropy().fn(tensor([0, 3]), tensor([[0.5, 0.5], [0.5, 0.5]]))
 * } catch (e) {
 *   console.log(e instanceof LabelError, (e as LabelError).row, (e as LabelError).label) // true 1 3
 *   console.log((e as LabelError).message) // sparseCategoricalCrossentropy: label 3 at row 1 is not a class index in [0, 2)
 * }
 * ```
 * @category Errors
 */
export class LabelError extends RangeError {
  /**
   * @param loss - the function that found it (`sparseCategoricalCrossentropy`)
   * @param label - the value found
   * @param row - its row, counting from 0
   * @param classes - the number of classes
   * @param context - `op`, the caller that names the row (`fit`, `evaluate`), first in the
   *   message; `where`, what `row` counts in, after "at row N" (` of y`). Default: the batch given.
   */
  constructor(
    readonly loss: string,
    readonly label: number,
    readonly row: number,
    readonly classes: number,
    readonly context: { readonly op?: string; readonly where?: string } = {},
  ) {
    super(
      `${context.op === undefined ? '' : `${context.op}: `}${loss}: label ${label} at row ${row}${context.where ?? ''} is not a class index in [0, ${classes})`,
    )
    this.name = 'LabelError'
  }
}
